"""What every request handler needs: the configuration, the index, one backend per location, and
what this process remembers of resumable uploads between requests."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from .backends import Backend, open_backend
from .config import Config
from .index import FileRecord, SQLiteIndex
from .resumable import Running


@dataclass
class StoreState:
    config: Config
    index: SQLiteIndex
    backends: dict[str, Backend] = field(default_factory=dict)
    running: Running = field(default_factory=Running)

    @classmethod
    def open(cls, config: Config) -> StoreState:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        backends = {name: open_backend(loc, config.data_dir) for name, loc in config.locations.items()}
        return cls(config, SQLiteIndex(config.data_dir / "index.sqlite3"), backends)

    def base_url(self, request: Request) -> str:
        return (self.config.public_url or str(request.base_url)).rstrip("/")

    def blob(self, record: FileRecord, request: Request, writeable: bool = False) -> dict:
        """The Blob the picker hands to onSuccess, in the reference's field names. `writeable`: the
        sender's policy allows `write` on the file."""
        return {
            "url": f"{self.base_url(request)}/api/file/{record.handle}",
            "filename": record.filename,
            "mimetype": record.mimetype,
            "size": record.size,
            "key": record.key,
            "container": record.container,
            "path": record.key,
            "isWriteable": writeable,
            "handle": record.handle,
            "sha256": record.sha256,
            "publicUrl": self.public_url(record, request),
        }

    def public_url(self, record: FileRecord, request: Request) -> str | None:
        """Where anyone reads a file stored with access 'public', straight from its storage (a path
        of the store's own for local disk); None for a private file."""
        if not record.public:
            return None
        url = self.backends[record.location].public_url(record.container, record.key, region=record.region)
        return f"{self.base_url(request)}{url}" if url.startswith("/") else url


def store_state(request: Request) -> StoreState:
    return request.app.state.store
