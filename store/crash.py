"""For tests only: PICKSTORE_CRASH_AT=<point> makes the store process kill itself (SIGKILL: no
cleanup, as when the machine or the OOM killer stops it) when it reaches that named point, so that
a test can prove what a fresh store finds there afterwards. Unset, as in production, it does nothing.

The points: `file-written` (a whole file's bytes are in the backend's writer, not yet committed:
POST /api/store and POST /api/file/{handle}), `file-committed` (those bytes are at their key, not
yet recorded), `upload-recorded` (a tus upload is in the index, its
bytes not yet created), `upload-committed` (a finished upload's bytes are at their key, not yet
recorded), `file-recorded` (its file is recorded, the upload not yet marked completed)."""

from __future__ import annotations

import os
import signal

SWITCH = "PICKSTORE_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(SWITCH) == name:
        os.kill(os.getpid(), signal.SIGKILL)
