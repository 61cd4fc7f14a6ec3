"""Settings from ``KUNDENAKTE_*`` environment variables, an optional config file, or a test dict.

Plugins declare their own settings (``register_settings``, kundenakte/core/plugin_settings.py);
the keys and variables the core does not know are kept raw here and checked once plugins are loaded.
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
    default_language: str = "de"
    # Plugins named here are never loaded, whatever the database says (an emergency switch).
    plugins_blocked: list[str] = field(default_factory=list)
    # When set, only these entry-point plugins are loaded (an explicit allow-list).
    plugins_allowed: list[str] | None = None
    session_cookie_secure: bool = False
    # Number of reverse proxies in front whose X-Forwarded-For/-Proto are believed (0: none).
    trusted_proxies: int = 0
    # `kundenakte serve`: gunicorn worker processes and threads per worker (gthread).
    web_workers: int = 2
    web_threads: int = 8
    index_async: bool = True
    # Reuse overview counts and page rows while nothing they depend on changed (core/overview_cache.py).
    overview_cache: bool = True
    testing: bool = False
    # Raw values for plugins' settings (kundenakte/core/plugin_settings.py), checked once the plugins
    # are loaded: config-file and test-dict keys the core does not know, and the KUNDENAKTE_* environment.
    file_values: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"raw": True})
    environ: dict[str, str] = field(default_factory=dict, repr=False, metadata={"raw": True})
    override_values: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"raw": True})

    @property
    def files_dir(self) -> Path:
        return self.instance / "files"

    @property
    def index_dir(self) -> Path:
        return self.instance / "index"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance / 'kundenakte.sqlite3'}"


# The deploy guide's settings table (docs/deploy.md) is generated from these lines and from the
# plugins' declarations: ``python -m kundenakte.core.settings_table --write`` (a test checks it).
# Field name -> (default as the guide shows it, meaning).
DOCS: dict[str, tuple[str, str]] = {
    "instance": ("`./instance`", "the instance folder (database, files, index, outbox, secret key)"),
    "database_url": ("SQLite in the instance", "`sqlite:///…` or `postgresql+psycopg://user:pw@host/db`"),
    "search_backend": ("`whoosh`", "`whoosh` (index in `instance/index`) or `postgres` (needs PostgreSQL)"),
    "secret_key": ("generated into `instance/secret_key`",
                   "signs sessions, CSRF tokens and upload tokens; the same on every worker/host"),
    "max_upload_mb": ("`50`", "largest accepted file (413 above)"),
    "default_language": ("`de`", "`de` or `en`, for users without their own choice"),
    "plugins_blocked": ("none", "plugins never loaded, whatever the database says (an emergency switch)"),
    "plugins_allowed": ("all", "comma-separated allow-list of entry-point plugins (the defaults plugin is always loaded)"),
    "session_cookie_secure": ("`false`", "`true` behind TLS: session cookies only over HTTPS"),
    "index_async": ("`true`", "index in a background thread per worker; `false` indexes inside the request"),
    "overview_cache": ("`true`", "reuse overview counts and rows per worker while the company's documents, their ACLs "
                                 "and the shown names are unchanged (docs/architecture.md); `false` computes every "
                                 "overview afresh"),
    "trusted_proxies": ("`0`", "number of reverse proxies in front whose `X-Forwarded-For`/`-Proto` entries are "
                                "believed (`1` behind the nginx above); `0` ignores those headers"),
    "web_workers": ("`2`", "`kundenakte serve`: gunicorn worker processes (`--workers`)"),
    "web_threads": ("`8`", "`kundenakte serve`: threads per worker process (`--threads`, gthread)"),
    "testing": ("`false`", "test mode; never in production"),
}


def parse_flag(variable: str, raw: Any) -> bool:
    """A true/false setting as written in an environment variable or a config file."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{variable} must be true or false, got {raw!r}")


def _coerce(name: str, raw: Any, target: Any) -> Any:
    """Turn a raw (usually string) value into the type of the default, naming the setting on error."""
    if isinstance(target, bool):
        return parse_flag(f"{ENV_PREFIX}{name.upper()}", raw)
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
    file_values: dict[str, Any] = {}
    override_values: dict[str, Any] = {}
    config_file = env.get(ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            values.update(json.loads(Path(config_file).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"{ENV_PREFIX}CONFIG points to a missing file: {config_file}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ENV_PREFIX}CONFIG is not valid JSON: {exc}") from None
    known = {f.name for f in fields(Settings) if not f.metadata.get("raw")}
    for key in [k for k in values if k not in known]:
        file_values[key] = values.pop(key)  # a plugin's setting, or refused once the plugins are known
    for f in known:
        key = ENV_PREFIX + f.upper()
        if key in env:
            values[f] = env[key]
    if overrides:
        for key, value in overrides.items():
            if key in known:
                values[key] = value
            else:
                override_values[key] = value

    defaults = Settings()
    settings = Settings()
    for key, raw in values.items():
        setattr(settings, key, _coerce(key, raw, getattr(defaults, key)))
    settings.file_values = file_values
    settings.override_values = override_values
    settings.environ = {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    if settings.search_backend not in {"whoosh", "postgres"}:
        raise ConfigError(f"{ENV_PREFIX}SEARCH_BACKEND must be 'whoosh' or 'postgres', got {settings.search_backend!r}")
    if settings.default_language not in {"de", "en"}:
        raise ConfigError(f"{ENV_PREFIX}DEFAULT_LANGUAGE must be de or en, got {settings.default_language!r}")
    url = settings.database_url
    if url and not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url!r}")
    if settings.max_upload_mb <= 0:
        raise ConfigError(f"{ENV_PREFIX}MAX_UPLOAD_MB must be positive")
    if settings.trusted_proxies < 0:
        raise ConfigError(f"{ENV_PREFIX}TRUSTED_PROXIES must be 0 or more")
    if settings.web_workers < 1 or settings.web_threads < 1:
        raise ConfigError(f"{ENV_PREFIX}WEB_WORKERS and {ENV_PREFIX}WEB_THREADS must be at least 1")


# Files the instance writes are its owner's alone: the database (and its -wal/-shm), the secret key,
# the index, attachment blobs, the outbox. A process-wide umask covers every writer at once,
# including SQLite's and Whoosh's own files, which take no mode argument.
PRIVATE_UMASK = 0o077


def prepare_instance(settings: Settings) -> None:
    """Create the instance folder (0700) and make the process create files 0600 and folders 0700.

    An existing folder keeps the mode an administrator gave it.
    """
    os.umask(PRIVATE_UMASK)
    if not settings.instance.exists():
        settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(settings.instance, 0o700)  # mkdir's mode is filtered by the umask of a racing creator
    if not settings.database_url:
        database = settings.instance / "kundenakte.sqlite3"
        if not database.exists():
            # SQLite gives its -wal and -shm files the mode of the database file.
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))


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
