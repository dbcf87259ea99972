"""`staffbridge.toml`: the systems the command line names, and how to connect to each.

    [systems.moco]
    adapter = "moco"
    domain = "acme"
    api_key = "${MOCO_API_KEY}"        # secrets come from the environment, never the command line

    [systems.staff]
    adapter = "csv"
    path = "exports/staff.csv"         # relative to this file

Found with `--config FILE`, else `$STAFFBRIDGE_CONFIG`, else `staffbridge.toml` in the current
directory. `${NAME}` in any text setting is replaced by the environment variable NAME
(`${NAME:-fallback}` when it may be unset, `$$` for a literal `$`); a variable that is not set is an
error naming the file, the system and the setting, and is only looked up when that system is used.
A system name that is not in the file but ends in `.csv` or `.jsonl` is that file, read by the csv or
jsonl adapter, so `staffbridge list staff.csv` needs no config at all.

Settings of the service in front of a system (`staffbridge serve`), not of its adapter, are kept apart in
`System.service` and never reach the adapter: `scim_token` (the bearer token an identity provider sends,
`"${ENV_NAME}"`), `scim_department` (the department of a person created without one) and
`webhook_secret` (the key of the vendor's signed webhooks). The two secrets are masked like any other.

Every ConfigError raised here names the file and system in its `source` and the setting in `setting`;
none quotes a setting's value, so a secret cannot leak through an error message.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.model.errors import AdapterNotFound, ConfigError, MappingError, StaffbridgeError
from staffbridge.model.redaction import is_secret_key
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.registry import adapter_class, available

__all__ = [
    "DEFAULT_NAME",
    "FILE_ADAPTERS",
    "SERVICE_SECRETS",
    "SERVICE_SETTINGS",
    "Config",
    "System",
    "find_config",
    "load_config",
    "split_service",
    "token_digest",
]

DEFAULT_NAME = "staffbridge.toml"
ENV_VAR = "STAFFBRIDGE_CONFIG"
FILE_ADAPTERS = {".csv": "csv", ".jsonl": "jsonl"}
PATH_SETTINGS = ("path", "mapping")  # text settings that name a file: relative to the config file
SERVICE_SETTINGS = ("scim_token", "scim_department", "webhook_secret")  # for `staffbridge serve`, not the adapter
SERVICE_SECRETS = ("scim_token", "webhook_secret")
_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class System:
    """One configured system: its adapter, its settings with the environment filled in, and the
    values among them that are secret (for scrubbing output)."""

    name: str
    adapter: str
    settings: dict[str, Any]
    source: str
    secrets: list[str] = field(default_factory=list)
    service: dict[str, Any] = field(default_factory=dict)  # SERVICE_SETTINGS given for this system

    def __repr__(self) -> str:  # settings hold secrets: show only what is safe
        return f"<System {self.name} adapter={self.adapter} from {self.source}>"

    def connect(self) -> Adapter:
        """The connected adapter; a bad setting is a ConfigError naming file, system and setting."""
        try:
            return adapter_class(self.adapter)(**self.settings)
        except AdapterNotFound as exc:
            raise ConfigError(
                f"{self.source}: adapter {self.adapter!r} is not installed; installed: "
                f"{', '.join(exc.available) or 'none'}",
                setting="adapter",
                source=self.source,
            ) from None
        except ConfigError as exc:
            raise ConfigError(f"{self.source}: {exc}", setting=exc.setting, source=self.source) from None
        except MappingError as exc:
            raise ConfigError(
                f"{self.source}: setting 'mapping': {exc}", setting="mapping", source=self.source
            ) from None


@dataclass
class Config:
    """The parsed file (or an empty one when there is none): system name -> its table."""

    path: Path | None = None
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return str(self.path) if self.path else DEFAULT_NAME

    def system(self, name: str, environ: Mapping[str, str] | None = None) -> System:
        """The system `name`, from the file, or a .csv/.jsonl path; ConfigError when neither."""
        if name in self.systems:
            return self._configured(name, os.environ if environ is None else environ)
        suffix = Path(name).suffix.lower()
        if suffix in FILE_ADAPTERS:
            return System(name, FILE_ADAPTERS[suffix], {"path": name}, source=name)
        if self.path is None:
            raise ConfigError(
                f"no system named {name!r}: there is no {DEFAULT_NAME} here (give one with "
                f"--config FILE), and {name!r} is not a .csv or .jsonl file",
                setting=name,
            )
        known = ", ".join(sorted(self.systems)) or "none"
        raise ConfigError(
            f"{self.path}: no system named {name!r} (systems: {known}; a .csv or .jsonl path works too)",
            setting=name,
            source=str(self.path),
        )

    def connect(self, name: str, environ: Mapping[str, str] | None = None) -> Adapter:
        return self.system(name, environ).connect()

    def _configured(self, name: str, environ: Mapping[str, str]) -> System:
        source = f"{self.path} [systems.{name}]"
        table = self.systems[name]
        adapter = table.get("adapter")
        if not isinstance(adapter, str) or not adapter:
            raise ConfigError(
                f"{source}: setting 'adapter' is missing (one of: {', '.join(available())})",
                setting="adapter",
                source=source,
            )
        secret_names = _secret_settings(adapter) | set(SERVICE_SECRETS)
        settings: dict[str, Any] = {}
        secrets: list[str] = []
        for key, value in table.items():
            if key == "adapter":
                continue
            value = _expand(value, environ, source, key)
            if key in PATH_SETTINGS and isinstance(value, str) and value:
                value = str(self._relative(value))
            settings[key] = value
            if isinstance(value, str) and value and (key in secret_names or is_secret_key(key)):
                secrets.append(value)
        settings, service = split_service(settings)
        return System(name, adapter, settings, source, secrets, service)

    def _relative(self, value: str) -> Path:
        path = Path(os.path.expanduser(value))
        if path.is_absolute() or self.path is None:
            return path
        return self.path.parent / path


def split_service(table: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A system's settings apart: (the adapter's, the service's `SERVICE_SETTINGS`)."""
    adapter = {key: value for key, value in table.items() if key not in SERVICE_SETTINGS}
    service = {key: value for key, value in table.items() if key in SERVICE_SETTINGS}
    return adapter, service


def token_digest(token: str) -> str:
    """How a bearer token is kept: its SHA-256 (tokens are long random strings, so a fast hash is
    enough; what is stored cannot be sent as a token)."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def find_config(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path | None:
    """The config file to use: the one given, else $STAFFBRIDGE_CONFIG, else ./staffbridge.toml."""
    environ = os.environ if environ is None else environ
    given = explicit or environ.get(ENV_VAR)
    if given:
        path = Path(os.path.expanduser(str(given)))
        if not path.is_file():
            raise ConfigError(f"config file {path} not found", setting="config", source=str(path))
        return path
    default = (cwd or Path.cwd()) / DEFAULT_NAME
    return default if default.is_file() else None


def read_toml_file(path: Path, what: str) -> dict[str, Any]:
    """A TOML file's tables; ConfigError (setting `what`) names the file and what is wrong with it."""
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}", setting=what, source=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", setting=what, source=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", setting=what, source=str(path)) from None


def load_config(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Config:
    """The config (an empty one when no file is found); ConfigError names what is wrong and where."""
    path = find_config(explicit, environ, cwd)
    if path is None:
        return Config()
    data = read_toml_file(path, "config")
    unknown = sorted(set(data) - {"systems"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown table or key {unknown[0]!r}; systems go in [systems.NAME] tables",
            setting=unknown[0],
            source=str(path),
        )
    systems = data.get("systems", {})
    if not isinstance(systems, dict):
        raise ConfigError(
            f"{path}: 'systems' must be a table of [systems.NAME] tables", setting="systems", source=str(path)
        )
    for name, table in systems.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f'{path}: systems.{name} must be a table (adapter = "..." plus settings)',
                setting=name,
                source=f"{path} [systems.{name}]",
            )
    return Config(path, systems)


def _expand(value: Any, environ: Mapping[str, str], source: str, key: str) -> Any:
    if isinstance(value, str):

        def fill(found: re.Match[str]) -> str:
            if found.group(0) == "$$":
                return "$"
            name, fallback = found.group(1), found.group(2)
            if name in environ:
                return environ[name]
            if fallback is not None:
                return fallback
            raise ConfigError(
                f"{source}: setting {key!r}: environment variable {name} is not set", setting=key, source=source
            )

        return _REFERENCE.sub(fill, value)
    if isinstance(value, list):
        return [_expand(v, environ, source, key) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, environ, source, f"{key}.{k}") for k, v in value.items()}
    return value


def _secret_settings(adapter: str) -> set[str]:
    try:
        schema = adapter_class(adapter).Settings()
    except StaffbridgeError:
        return set()
    return {name for name, f in schema.fields.items() if f.metadata.get("secret")}
