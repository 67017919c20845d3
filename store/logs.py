"""The store's logs: one JSON object per line on stderr (time, level, logger, pid, message, and within a
request its id, method, route, status and duration), or plain text lines (`[store] log_format =
"text"`, as `make demo` has it). uvicorn's own messages go the same way."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
from typing import Any

JSON, TEXT = "json", "text"
LOG_FORMATS = (JSON, TEXT)
# A request id a client or proxy sends is kept when it is this sane (a UUID, a proxy's hex id);
# anything else gets an id of the store's own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Fields the request log line carries (logging's `extra`), in the order they are written.
REQUEST_FIELDS = ("method", "route", "status", "duration")


def new_request_id(sent: str | None) -> str:
    """The id of a request: the one it came with (X-Request-Id) when sane, else a new one."""
    if sent is not None and SANE_REQUEST_ID.fullmatch(sent):
        return sent
    return secrets.token_hex(16)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, when there are several
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            line["request_id"] = current
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        current = request_id.get()
        return f"{text} [request {current}]" if current is not None and "[request " not in text else text


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """logging.config.dictConfig settings, as uvicorn takes them (and applies in each worker): the
    store's and uvicorn's loggers at `level`, every line through one formatter on stderr."""
    formatter = JsonFormatter if log_format == JSON else TextFormatter
    level = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "store", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"store": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"store": handler},
        "loggers": {
            name: {"handlers": ["store"], "level": level, "propagate": False}
            for name in ("pickstore", "uvicorn", "uvicorn.error", "uvicorn.access")
        },
        "root": {"handlers": ["store"], "level": "WARNING"},
    }
