"""Typed settings a plugin declares (``register_settings``), read like the core's own.

A plugin's setting ``name`` is read from ``KUNDENAKTE_<PLUGIN>_<NAME>`` (``aliases`` name older
variables that are still read), from the ``KUNDENAKTE_CONFIG`` file or a test dict under the key
``<plugin>_<name>`` (or an alias without the prefix, in lower case). Every loaded plugin's settings
are validated when the instance starts, also a disabled plugin's; a malformed value stops the start
with a message naming the variable. Values are read through ``ka.plugin_settings(plugin)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from kundenakte.core.config import ENV_PREFIX, ConfigError, Settings, parse_flag

SETTING_KINDS = ("text", "secret", "integer", "boolean", "choice")
_UNSET: Any = object()


@dataclass(frozen=True)
class Setting:
    """One setting of a plugin; ``help`` (English) is its line in the deploy guide's settings table."""

    name: str
    kind: str = "text"
    default: Any = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    aliases: tuple[str, ...] = ()  # older environment variable names, still read
    test_default: Any = _UNSET  # the default in test mode (``KUNDENAKTE_TESTING``), if different
    default_doc: str = ""  # how the default reads in the deploy guide, when not the value itself

    def __post_init__(self) -> None:
        if self.kind not in SETTING_KINDS:
            raise ValueError(f"setting {self.name!r}: unknown kind {self.kind!r} (one of {', '.join(SETTING_KINDS)})")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"setting name {self.name!r} must be lower_snake_case")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"setting {self.name!r}: default {self.default!r} is not one of its choices")


def env_name(plugin: str, setting: Setting) -> str:
    return f"{ENV_PREFIX}{plugin.upper()}_{setting.name.upper()}"


def keys_of(plugin: str, setting: Setting) -> list[str]:
    """The keys a config file or test dict may use, preferred first."""
    return [f"{plugin}_{setting.name}"] + [a[len(ENV_PREFIX):].lower() for a in setting.aliases]


def _coerce(variable: str, setting: Setting, raw: Any) -> Any:
    if setting.kind == "boolean":
        return parse_flag(variable, raw)
    if setting.kind == "integer":
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{variable} must be a whole number, got {raw!r}") from None
        if setting.minimum is not None and value < setting.minimum:
            raise ConfigError(f"{variable} must be {setting.minimum} or more, got {value}")
        return value
    text = str(raw)
    if setting.kind == "choice" and text not in setting.choices:
        raise ConfigError(f"{variable} must be one of {', '.join(setting.choices)}, got {text!r}")
    return text


def resolve(declared: Iterable[tuple[str, Setting]], settings: Settings) -> dict[str, SimpleNamespace]:
    """Every plugin's values: defaults < config file < environment < test dict; unknown keys refused."""
    result: dict[str, SimpleNamespace] = {}
    used_keys: set[str] = set()
    for plugin, setting in declared:
        variable = env_name(plugin, setting)
        keys = keys_of(plugin, setting)
        used_keys.update(keys)
        value, source = _UNSET, variable
        for key in reversed(keys):  # the preferred key wins
            if key in settings.file_values:
                value, source = settings.file_values[key], f"{variable} ({ENV_PREFIX}CONFIG key {key!r})"
        for name in (*reversed(setting.aliases), variable):
            if name in settings.environ:
                value, source = settings.environ[name], name
        for key in reversed(keys):
            if key in settings.override_values:
                value, source = settings.override_values[key], variable
        if value is _UNSET:
            value = setting.test_default if settings.testing and setting.test_default is not _UNSET else setting.default
        namespace = result.setdefault(plugin, SimpleNamespace())
        setattr(namespace, setting.name, _coerce(source, setting, value))
    for key in [*settings.file_values, *settings.override_values]:
        if key not in used_keys:
            raise ConfigError(f"unknown setting {key!r}")
    return result
