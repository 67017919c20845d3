"""The store's configuration: apps (API keys and secrets) and storage locations, from a TOML file
with environment overrides."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import StoreError, bad_request, forbidden

ENV_PREFIX = "PICKSTORE__"
# The folder where each of several worker processes keeps its metrics (store.metrics).
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
INDEX_ENV = "PICKSTORE_INDEX"  # the `index` setting, as PICKSTORE__store__index also sets it
DEFAULT_MAX_UPLOAD_SIZE = 50 * 1024**3  # bytes: the largest file a resumable upload may declare
DEFAULT_UPLOAD_EXPIRY = 24 * 3600  # seconds an unfinished resumable upload is kept after its last chunk
DEFAULT_EMPTY_UPLOAD_EXPIRY = 3600  # seconds a resumable upload that has no byte yet is kept
DEFAULT_SWEEP_INTERVAL = 60  # seconds between two sweeps of expired uploads (at most upload_expiry)
# What one app's unfinished resumable uploads may declare at once, by default: their number, and
# their Upload-Lengths added up.
DEFAULT_MAX_PENDING_UPLOADS = 500
DEFAULT_MAX_PENDING_BYTES = 4 * DEFAULT_MAX_UPLOAD_SIZE
# The hosts whose name a request's Host header may put in the URLs the store hands out when neither
# public_url nor allowed_hosts is set: loopback only, any port.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ConnectionLimits:
    """How long and how slowly a client may hold a connection ([store] settings; store.guards
    applies them)."""

    header_timeout: float = 10.0  # seconds for a request's headers, from the connection or the last answer
    keep_alive_timeout: float = 5.0  # seconds an idle connection is kept after an answer
    max_header_size: int = 64 * 1024  # bytes of request line and headers; more is 431
    min_body_rate: float = 1024.0  # bytes/s a body must average over body_rate_window; 0: no minimum
    body_rate_window: float = 30.0  # seconds, the first of them a grace period


@dataclass(frozen=True)
class RemoteSettings:
    """How the store fetches files from elsewhere ([remote] settings; store.remote applies them)."""

    # Address ranges the operator lets the store fetch from although they are private or local
    # ("127.0.0.1/32", "10.1.2.0/24"); none by default.
    allow: tuple[str, ...] = ()
    connect_timeout: float = 10.0  # seconds to connect to the remote server
    read_timeout: float = 30.0  # seconds the remote server may stay silent
    total_timeout: float = 3600.0  # seconds a whole fetch may take, redirects and body included
    # The certificates https remotes are verified against instead of the usual public ones (an
    # intranet's own authority); None: the public ones.
    ca_file: str | None = None


@dataclass(frozen=True)
class App:
    key: str
    secret: str
    allowed_origins: tuple[str, ...] = ()
    # Every upload and every read of this app's files needs a policy and signature (store.policy).
    require_security: bool = False
    # Limits the store enforces whatever the page asks: the largest file, and the types accepted
    # ("image/*", "application/pdf"); none by default.
    max_size: int | None = None
    mimetypes: tuple[str, ...] = ()
    max_pending_uploads: int = DEFAULT_MAX_PENDING_UPLOADS
    max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES

    def check_origin(self, origin: str | None) -> None:
        """Pages may use the app only from the origins it lists; requests without an Origin (a
        server, a command-line client) are not a page's."""
        if origin is not None and "*" not in self.allowed_origins and origin not in self.allowed_origins:
            raise forbidden(f"app {self.key!r} does not accept requests from pages at {origin}; add it to allowed_origins")

    def check_file(self, mimetype: str, size: int | None) -> None:
        """StoreError 413 for a file larger than the app's max_size, 403 for a type it does not accept."""
        if size is not None and self.max_size is not None and size > self.max_size:
            raise StoreError(413, f"the file is {size} bytes, larger than app {self.key!r} accepts ({self.max_size} bytes)")
        if self.mimetypes and not any(_type_matches(pattern, mimetype) for pattern in self.mimetypes):
            raise forbidden(f"app {self.key!r} does not accept files of type {mimetype!r}; accepted: {', '.join(self.mimetypes)}")


def _type_matches(pattern: str, mimetype: str) -> bool:
    pattern, mimetype = pattern.lower(), mimetype.lower().split(";")[0].strip()
    if pattern in ("*", "*/*"):
        return True
    return mimetype.startswith(pattern[:-1]) if pattern.endswith("/*") else mimetype == pattern


@dataclass(frozen=True)
class Location:
    name: str
    backend: str
    containers: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default_container(self) -> str:
        return self.containers[0]

    def container(self, requested: str | None) -> str:
        if not requested:
            return self.default_container
        if requested not in self.containers:
            allowed = ", ".join(self.containers)
            raise bad_request(
                f"container {requested!r} is not allowed in location {self.name!r}; allowed: {allowed}"
            )
        return requested


@dataclass(frozen=True)
class Config:
    data_dir: Path
    default_location: str
    apps: Mapping[str, App]
    locations: Mapping[str, Location]
    public_url: str | None = None
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE
    upload_expiry: float = DEFAULT_UPLOAD_EXPIRY
    empty_upload_expiry: float = DEFAULT_EMPTY_UPLOAD_EXPIRY
    sweep_interval: float = DEFAULT_SWEEP_INTERVAL
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    # Host names (any port) that may appear in the URLs the store hands out when public_url is not
    # set; a request to another Host is refused. Lower-case.
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    remote: RemoteSettings = field(default_factory=RemoteSettings)
    # Where the index and the upload leases live: "sqlite" (index.sqlite3 in data_dir), or the
    # postgresql:// URL of a database that several store processes share.
    index: str = "sqlite"
    # How the store writes its log lines: "json" (one object per line) or "text".
    log_format: str = "json"

    def app(self, api_key: str | None, origin: str | None = None) -> App:
        """The app of an API key, refused when the request comes from a page the app does not list."""
        if not api_key:
            raise bad_request("missing API key: pass the app's key (filepicker.setKey) with the request")
        app = self.apps.get(api_key)
        if app is None:
            raise forbidden(f"unknown API key {api_key!r}: this store has no app with that key")
        app.check_origin(origin)
        return app

    def location(self, name: str | None) -> Location:
        """Location names are case-insensitive, as Filestack's are."""
        wanted = (name or self.default_location).lower()
        location = self.locations.get(wanted)
        if location is None:
            configured = ", ".join(sorted(self.locations))
            raise bad_request(
                f"location {name!r} is not configured on this store; configured locations: {configured}"
            )
        return location

    @property
    def allowed_origins(self) -> list[str]:
        origins = {origin for app in self.apps.values() for origin in app.allowed_origins}
        return ["*"] if "*" in origins else sorted(origins)


def apply_env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """`PICKSTORE__apps__demo__secret=s3cret` sets raw["apps"]["demo"]["secret"]. A value that
    parses as a TOML value (number, boolean, array) takes that type; anything else is a string."""
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
        if not path:
            continue
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(value)
    return raw


def _parse_env_value(value: str) -> Any:
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _connection_limits(store: Mapping[str, Any]) -> ConnectionLimits:
    values: dict[str, Any] = {}
    for name, default in vars(ConnectionLimits()).items():
        value = store.get(name, default)
        whole = isinstance(default, int)
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or value < 0 or (
            value == 0 and name != "min_body_rate"
        ):
            raise ValueError(f"{name} must be a positive {'whole ' if whole else ''}number, not {value!r}")
        values[name] = value if whole else float(value)
    return ConnectionLimits(**values)


def _remote_settings(remote: Mapping[str, Any]) -> RemoteSettings:
    allow = remote.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        raise ValueError(f"[remote] allow must be a list of address ranges such as [\"10.1.2.0/24\"], not {allow!r}")
    for entry in allow:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"[remote] allow: {entry!r} is not an address or range such as \"127.0.0.1/32\"") from None
    seconds = {}
    for name, default in vars(RemoteSettings()).items():
        if name in ("allow", "ca_file"):
            continue
        value = remote.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"[remote] {name} must be a positive number of seconds, not {value!r}")
        seconds[name] = float(value)
    ca_file = remote.get("ca_file")
    if ca_file is not None and (not isinstance(ca_file, str) or not Path(ca_file).is_file()):
        raise ValueError(f"[remote] ca_file must name a file of PEM certificates, not {ca_file!r}")
    return RemoteSettings(allow=tuple(allow), **seconds, ca_file=ca_file)


def load(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    path = path or environ.get("PICKSTORE_CONFIG")
    raw: dict[str, Any] = {}
    if path:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    if INDEX_ENV in environ:  # the index's URL, which holds the database's password, kept out of the file
        raw.setdefault("store", {})["index"] = environ[INDEX_ENV]
    return from_dict(apply_env_overrides(raw, environ))


def _index(store: Mapping[str, Any]) -> str:
    index = store.get("index", "sqlite")
    if index == "sqlite":
        return index
    if not isinstance(index, str) or not index.startswith(("postgresql://", "postgres://")):
        raise ValueError(f'index must be "sqlite" or a postgresql:// URL, not {index!r}')
    from .pg_index import check_url

    check_url(index)
    return index


def from_dict(raw: Mapping[str, Any]) -> Config:
    store = raw.get("store", {})
    data_dir = Path(store.get("data_dir", "data"))
    apps = {}
    for name, spec in raw.get("apps", {}).items():
        key = spec.get("key", name)
        if "secret" not in spec:
            raise ValueError(f"app {name!r} has no secret")
        if not isinstance(spec["secret"], str) or not isinstance(key, str):
            # An environment override such as `secret=1234e567` parses as a TOML number: refuse it
            # rather than sign with the wrong secret. Quote it to keep it a string.
            raise ValueError(f"app {name!r}: key and secret must be strings (quote them in the environment)")
        require_security = spec.get("require_security", False)
        if not isinstance(require_security, bool):
            raise ValueError(f"app {name!r}: require_security must be true or false, not {require_security!r}")
        max_size = spec.get("max_size")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1):
            raise ValueError(f"app {name!r}: max_size must be a positive number of bytes, not {max_size!r}")
        mimetypes = spec.get("mimetypes", [])
        if not isinstance(mimetypes, list) or not all(isinstance(m, str) and "/" in m for m in mimetypes):
            raise ValueError(f"app {name!r}: mimetypes must be a list such as [\"image/*\", \"application/pdf\"]")
        pending = {}
        for setting in ("max_pending_uploads", "max_pending_bytes"):
            value = spec.get(setting)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"app {name!r}: {setting} must be a positive whole number, not {value!r}")
                pending[setting] = value
        apps[key] = App(
            key=key,
            secret=spec["secret"],
            allowed_origins=tuple(spec.get("allowed_origins", ())),
            require_security=require_security,
            max_size=max_size,
            mimetypes=tuple(mimetypes),
            **pending,
        )
    locations = {}
    for name, spec in raw.get("locations", {"local": {"backend": "local"}}).items():
        settings = dict(spec)
        backend = settings.pop("backend", "local")
        containers = tuple(settings.pop("containers", ("files",)))
        if not containers:
            raise ValueError(f"location {name!r} names no containers")
        locations[name.lower()] = Location(name.lower(), backend, containers, settings)
    default_location = store.get("default_location", "local").lower()
    if default_location not in locations:
        raise ValueError(f"default_location {default_location!r} is not among the locations")
    max_upload_size = store.get("max_upload_size", DEFAULT_MAX_UPLOAD_SIZE)
    if isinstance(max_upload_size, bool) or not isinstance(max_upload_size, int) or max_upload_size < 0:
        raise ValueError(f"max_upload_size must be a whole number of bytes, not {max_upload_size!r}")
    upload_expiry = store.get("upload_expiry", DEFAULT_UPLOAD_EXPIRY)
    if isinstance(upload_expiry, bool) or not isinstance(upload_expiry, (int, float)) or not upload_expiry > 0:
        raise ValueError(f"upload_expiry must be a positive number of seconds, not {upload_expiry!r}")
    seconds = {}
    for setting, default in (("empty_upload_expiry", DEFAULT_EMPTY_UPLOAD_EXPIRY), ("sweep_interval", DEFAULT_SWEEP_INTERVAL)):
        value = store.get(setting, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{setting} must be a positive number of seconds, not {value!r}")
        seconds[setting] = float(value)
    allowed_hosts = store.get("allowed_hosts", list(LOOPBACK_HOSTS))
    if not isinstance(allowed_hosts, list) or not all(isinstance(h, str) and h and "/" not in h for h in allowed_hosts):
        raise ValueError(f"allowed_hosts must be a list of host names such as [\"files.example.com\"], not {allowed_hosts!r}")
    log_format = store.get("log_format", "json")
    if log_format not in ("json", "text"):
        raise ValueError(f'log_format must be "json" or "text", not {log_format!r}')
    return Config(
        data_dir=data_dir,
        default_location=default_location,
        apps=apps,
        locations=locations,
        public_url=store.get("public_url"),
        max_upload_size=max_upload_size,
        upload_expiry=float(upload_expiry),
        **seconds,
        limits=_connection_limits(store),
        allowed_hosts=tuple(host.lower() for host in allowed_hosts),
        remote=_remote_settings(raw.get("remote", {})),
        index=_index(store),
        log_format=log_format,
    )
