"""An index of either kind for the tests of the Index and Locks contracts: the embedded SQLite file
or a PostgreSQL database, opened by as many index objects as a test needs (each with its own
connection or pool, as separate store processes would have), in an event loop of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from store.pg_index import PostgresIndex
from store.sqlite_index import SQLiteIndex

from .inthread import run_async

AnyIndex = SQLiteIndex | PostgresIndex


class IndexUnderTest:
    def __init__(self, where: Path | str) -> None:
        self.where = where  # the SQLite file, or the database's URL
        self.kind = "sqlite" if isinstance(where, Path) else "postgresql"

    async def open(self) -> AnyIndex:
        if isinstance(self.where, Path):
            return SQLiteIndex(self.where)
        index = PostgresIndex(self.where)
        await index.open()
        return index

    def run(self, check: Callable[..., Awaitable[Any]], count: int = 1) -> None:
        """check(index, ...) with `count` index objects on the same store, closed afterwards."""
        async def run() -> None:
            opened: list[AnyIndex] = []
            try:
                for _ in range(count):
                    opened.append(await self.open())
                await check(*opened)
            finally:
                for index in opened:
                    await index.close()

        run_async(run)
