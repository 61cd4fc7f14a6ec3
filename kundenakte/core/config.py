"""Settings from ``KUNDENAKTE_*`` environment variables, an optional config file, or a test dict.

Every setting has a safe default for the embedded setup (SQLite, Whoosh and files under one instance
folder). A malformed value is reported by its variable name at start-up rather than failing later.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "KUNDENAKTE_"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting."""


@dataclass
class Settings:
    instance: Path = field(default_factory=lambda: Path.cwd() / "instance")
    database_url: str = ""
    search_backend: str = "whoosh"  # "whoosh" or "postgres"
    secret_key: str = ""
    max_upload_mb: int = 50
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"  # none, starttls, ssl
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    # The organisation's name, the From display name of e-mails whose sender format is "Firma".
    organisation_name: str = ""
    # Seconds between the web workers' retries of queued e-mails; 0 switches the retry loop off.
    mail_retry_seconds: int = 60
    default_language: str = "de"
    # Plugins named here are never loaded, whatever the database says (an emergency switch).
    plugins_blocked: list[str] = field(default_factory=list)
    # When set, only these entry-point plugins are loaded (an explicit allow-list).
    plugins_allowed: list[str] | None = None
    session_cookie_secure: bool = False
    index_async: bool = True
    # Reuse overview counts and page rows while nothing they depend on changed (core/overview_cache.py).
    overview_cache: bool = True
    testing: bool = False

    @property
    def files_dir(self) -> Path:
        return self.instance / "files"

    @property
    def index_dir(self) -> Path:
        return self.instance / "index"

    @property
    def outbox_dir(self) -> Path:
        return self.instance / "outbox"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance / 'kundenakte.sqlite3'}"


def _coerce(name: str, raw: Any, target: Any) -> Any:
    """Turn a raw (usually string) value into the type of the default, naming the setting on error."""
    if isinstance(target, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be true or false, got {raw!r}")
    if isinstance(target, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be a whole number, got {raw!r}") from None
    if isinstance(target, Path):
        return Path(str(raw)).expanduser().resolve()
    if isinstance(target, list) or target is None:
        if raw is None or isinstance(raw, list):
            return raw
        return [p.strip() for p in str(raw).split(",") if p.strip()]
    return str(raw)


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings: defaults < config file (``KUNDENAKTE_CONFIG``, JSON) < environment < overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = env.get(ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            values.update(json.loads(Path(config_file).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"{ENV_PREFIX}CONFIG points to a missing file: {config_file}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ENV_PREFIX}CONFIG is not valid JSON: {exc}") from None
    known = {f.name for f in fields(Settings)}
    for f in known:
        key = ENV_PREFIX + f.upper()
        if key in env:
            values[f] = env[key]
    for key in values:
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} in {ENV_PREFIX}CONFIG")
    if overrides:
        for key, value in overrides.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}")
            values[key] = value

    defaults = Settings()
    settings = Settings()
    for key, raw in values.items():
        setattr(settings, key, _coerce(key, raw, getattr(defaults, key)))
    if settings.testing and "mail_retry_seconds" not in values:
        # A test instance sends nothing in the background unless the test asks for the loop.
        settings.mail_retry_seconds = 0
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    if settings.search_backend not in {"whoosh", "postgres"}:
        raise ConfigError(f"{ENV_PREFIX}SEARCH_BACKEND must be 'whoosh' or 'postgres', got {settings.search_backend!r}")
    if settings.smtp_security not in {"none", "starttls", "ssl"}:
        raise ConfigError(f"{ENV_PREFIX}SMTP_SECURITY must be none, starttls or ssl, got {settings.smtp_security!r}")
    if settings.default_language not in {"de", "en"}:
        raise ConfigError(f"{ENV_PREFIX}DEFAULT_LANGUAGE must be de or en, got {settings.default_language!r}")
    url = settings.database_url
    if url and not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url!r}")
    if settings.max_upload_mb <= 0:
        raise ConfigError(f"{ENV_PREFIX}MAX_UPLOAD_MB must be positive")
    if settings.mail_retry_seconds < 0:
        raise ConfigError(f"{ENV_PREFIX}MAIL_RETRY_SECONDS must be 0 (off) or more")


def instance_secret(settings: Settings) -> str:
    """The configured secret key, or one generated once and kept in the instance folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.instance / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    settings.instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key
