"""Honest progress: bytes the store acknowledged plus bytes of the request in flight, never going
backwards, and 100 only once the store has the whole file."""

from __future__ import annotations

from dataclasses import dataclass

IN_FLIGHT_CEILING = 99.0  # sent is not stored: the last percent waits for the store's answer


@dataclass
class FileProgress:
    filename: str
    mimetype: str
    size: int
    acknowledged: int = 0
    in_flight: int = 0
    _reported: float = 0.0
    _answered: bool = False  # the store has confirmed; a 0-byte file is whole only then

    def sent(self, in_flight: int) -> None:
        """Bytes of the current request that have left the browser."""
        self.in_flight = max(0, min(in_flight, self.size - self.acknowledged))

    def acknowledge(self, offset: int) -> None:
        """The store confirmed it holds the first `offset` bytes."""
        self.acknowledged = max(self.acknowledged, min(offset, self.size))
        self.in_flight = 0
        self._answered = True

    @property
    def done(self) -> bool:
        return self.acknowledged >= self.size and (self.size > 0 or self._answered)

    @property
    def percent(self) -> float:
        if self.done:
            value = 100.0
        elif self.size <= 0:
            value = 0.0
        else:
            value = min(IN_FLIGHT_CEILING, 100.0 * (self.acknowledged + self.in_flight) / self.size)
        self._reported = max(self._reported, value)
        return self._reported

    def event(self) -> dict[str, float | int | str]:
        """The FPProgress object given to onProgress."""
        return {"progress": self.percent, "filename": self.filename, "mimetype": self.mimetype, "size": self.size}
