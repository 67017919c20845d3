"""Compressed copies of the browser runtime (Pyodide, PyScript), made once at set-up
(`python -m store.precompress`, run by `make setup`) so that the store serves them by the
Accept-Encoding a browser sends without compressing 10 MB per request.

The copies land in build/compressed/<runtime>/<path>.gz (ignored by git). A copy carries its
original's modification time: one whose original has changed since (a reinstalled or upgraded
runtime) is stale and never served."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = {
    "pyodide": ROOT / "node_modules" / "pyodide",
    "pyscript": ROOT / "node_modules" / "@pyscript" / "core" / "dist",
}
PACKAGE_JSON = {
    "pyodide": ROOT / "node_modules" / "pyodide" / "package.json",
    "pyscript": ROOT / "node_modules" / "@pyscript" / "core" / "package.json",
}
COPIES = ROOT / "build" / "compressed"
# Content-Encoding → the suffix of its copies, in the order the store prefers them.
ENCODINGS = {"gzip": ".gz"}


def runtime_version(name: str) -> str:
    """The installed version of a runtime package, as package-lock.json pinned it."""
    version = json.loads(PACKAGE_JSON[name].read_text())["version"]
    return str(version)


def copy_path(name: str, relative: str, encoding: str) -> Path:
    return COPIES / name / (relative + ENCODINGS[encoding])


def fresh_copy(name: str, relative: str, encoding: str) -> Path | None:
    """The compressed copy of runtime file `relative`, if one was made from the file as it is now."""
    original = RUNTIME[name] / relative
    copy = copy_path(name, relative, encoding)
    try:
        if copy.stat().st_mtime_ns == original.stat().st_mtime_ns:
            return copy
    except OSError:
        pass
    return None


def make_copies(level: int = 9) -> list[Path]:
    """Writes every missing or stale copy; a file that does not shrink gets none. Returns those made."""
    made = []
    for name, folder in RUNTIME.items():
        for original in sorted(path for path in folder.rglob("*") if path.is_file()):
            relative = original.relative_to(folder).as_posix()
            if fresh_copy(name, relative, "gzip") is not None:
                continue
            data = original.read_bytes()
            packed = gzip.compress(data, compresslevel=level, mtime=0)
            copy = copy_path(name, relative, "gzip")
            if len(packed) >= len(data):
                copy.unlink(missing_ok=True)
                continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            partial = copy.with_name(copy.name + ".partial")
            partial.write_bytes(packed)
            stat = original.stat()
            os.utime(partial, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            partial.replace(copy)
            made.append(copy)
    return made


def main() -> None:
    missing = [str(path) for path in RUNTIME.values() if not path.is_dir()]
    if missing:
        sys.exit(f"the browser runtime is not installed ({', '.join(missing)}): run `npm ci`")
    made = make_copies()
    print(f"compressed copies of the runtime: {len(made)} made in {COPIES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
