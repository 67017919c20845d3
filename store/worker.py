"""What `pickstore serve --workers N` has each worker process import by name: the HTTP protocol with
the store's bounds on slow clients (store.guards), from the configuration the command checked."""

from __future__ import annotations

from . import config
from .guards import guarded_http

GuardedHttp = guarded_http(config.load().limits)
