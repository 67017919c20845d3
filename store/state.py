"""What every request handler needs: the configuration, the index and the upload leases, one
backend per location, and what this process remembers of resumable uploads between requests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from .backends import Backend, check_apart, open_backend
from .config import Config
from .index import Index
from .locks import Locks


@dataclass
class Running:
    """What this store process keeps about uploads between requests, all of it rebuildable from the
    index and the stored bytes: each upload's running sha256 (with the offset it has reached)."""

    digests: dict[str, tuple[int, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)  # what went before is store.repair's to put right


@dataclass
class StoreState:
    config: Config
    index: Index
    locks: Locks
    backends: dict[str, Backend] = field(default_factory=dict)
    running: Running = field(default_factory=Running)

    @classmethod
    def open(cls, config: Config, index: Index, locks: Locks) -> StoreState:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        backends = {name: open_backend(loc, config.data_dir) for name, loc in config.locations.items()}
        check_apart(backends)
        return cls(config, index, locks, backends)


def store_state(request: Request) -> StoreState:
    return request.app.state.store
