"""Command line: `python -m store serve` runs the store; `python -m store policy` signs a policy."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import logging.config
import math
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import config as config_module
from . import logs
from .policy import CALLS

T = TypeVar("T")
log = logging.getLogger("pickstore")

WANTED_OPEN_FILES = 4096  # fewer makes the start say so
MAX_OPEN_FILES = 1 << 20  # when the hard limit is unlimited
# Seconds that requests under way at a stop (SIGTERM) get to end before they are cut; a supervisor
# should wait a little longer (systemd: TimeoutStopSec=40) before it kills the process.
SHUTDOWN_SECONDS = 30


def serve(args: argparse.Namespace) -> None:
    """Check the configuration (and reach the PostgreSQL index) before anything starts, then run
    one process, or `--workers` processes that share the port."""
    import uvicorn

    config = _checked_config(args)
    logging.config.dictConfig(logs.log_config(config.log_format, args.log_level))
    if args.workers > 1 or os.environ.get(config_module.METRICS_DIR_ENV):
        # Before store.metrics is first imported here or in a worker: its values go to files there.
        # Emptied of the files a stopped store left, which would count again.
        folder = Path(os.environ.get(config_module.METRICS_DIR_ENV) or config.data_dir / "metrics").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        os.environ[config_module.METRICS_DIR_ENV] = str(folder)
    app = _checked(args, lambda: _app(config))
    keys = ", ".join(sorted(config.apps)) or "(none configured)"
    log.info("serving http://%s:%d/ with %d worker(s)  (API keys: %s; data in %s)", args.host, args.port, args.workers,
             keys, config.data_dir.resolve())
    open_files = raise_open_files_limit()
    if open_files < WANTED_OPEN_FILES:
        log.warning("only %d open files allowed (ulimit -n): raise the hard limit (systemd: LimitNOFILE)", open_files)
    common: dict[str, Any] = {
        "host": args.host, "port": args.port, "log_level": args.log_level, "access_log": False,
        "log_config": logs.log_config(config.log_format, args.log_level),
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
    }
    if args.workers == 1:
        # httptools, named rather than left to uvicorn's choice, with the bounds on headers and idle
        # connections that store.guards adds to it.
        from .guards import guarded_http

        uvicorn.run(app, http=guarded_http(config.limits), **common)
        return
    # Each worker is a new interpreter that makes the app and its protocol by name, from the same
    # configuration, and runs the store's start (repair, migrations) as a single process does.
    if args.config:
        os.environ["PICKSTORE_CONFIG"] = str(Path(args.config).resolve())
    uvicorn.run("store.app:create_app", factory=True, workers=args.workers, http="store.worker:GuardedHttp", **common)


def _checked(args: argparse.Namespace, step: Callable[[], T]) -> T:
    """`step`'s result; a configuration it finds wrong stops the command with one line naming the
    setting and the file (exit status 1, no traceback)."""
    from .pg_index import IndexUnavailable

    try:
        return step()
    except (OSError, ValueError, IndexUnavailable) as exc:  # tomllib's errors are ValueErrors
        where = args.config or "the environment (no --config or PICKSTORE_CONFIG)"
        said = " ".join(str(exc).split())  # one line, though libpq's messages have several
        raise SystemExit(f"pickstore: {where}: {said}") from None


def _checked_config(args: argparse.Namespace) -> config_module.Config:
    config = _checked(args, lambda: config_module.load(args.config))
    if args.workers > 1 and config.index == "sqlite":
        raise SystemExit(
            f"pickstore: --workers {args.workers} needs index = a postgresql:// URL (PICKSTORE_INDEX): with"
            " index = \"sqlite\" the index, its upload leases and its key claims are one SQLite file that every"
            " write of every worker would queue on (up to 5 s, then fail) and that no other host can share; run one"
            " worker per host, or keep the index in PostgreSQL"
        )
    if config.index != "sqlite":
        from .pg_index import reach

        _checked(args, lambda: asyncio.run(reach(config.index)))
    return config


def _app(config: config_module.Config) -> Any:
    """The app (its locations' settings are checked as their backends open)."""
    from .app import create_app

    return create_app(config)


def raise_open_files_limit() -> int:
    """Raise the soft limit on open descriptors to the hard limit (each connection holds one, each
    upload being written another) and return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return MAX_OPEN_FILES if soft == resource.RLIM_INFINITY else soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        return soft
    return wanted


def policy(args: argparse.Namespace) -> None:
    """Print {"policy": ..., "signature": ...} for an app, as a site's server would hand its pages."""
    from .errors import StoreError
    from .policy import make_policy, resolve_expiry, signed

    secret = args.secret
    if secret is None:
        if not args.config:
            args.parser.error("give the app's secret with --secret, or its config file with --config")
        if not args.key:
            args.parser.error("--key names the app whose secret --config holds")
        try:
            secret = config_module.load(args.config).app(args.key).secret
        except StoreError as exc:
            args.parser.error(f"{args.config}: {exc.message}")
        except (OSError, ValueError) as exc:
            args.parser.error(f"cannot read the secret from {args.config}: {exc}")
    if not math.isfinite(args.expiry):
        args.parser.error(f"--expiry must be a number of seconds, not {args.expiry}")
    now = time.time()
    expiry = resolve_expiry(args.expiry, now)
    if expiry <= now:
        args.parser.error(f"--expiry {args.expiry:.15g} is in the past: give seconds from now, or a future Unix time")
    try:
        made = make_policy(
            expiry=expiry,
            call=args.call,
            handle=args.handle,
            max_size=args.max_size,
            min_size=args.min_size,
            path=args.path,
            container=args.container,
        )
    except StoreError as exc:
        args.parser.error(exc.message)
    print(json.dumps(signed(made, secret)))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pickstore", description="pickstore file store")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the store")
    run.add_argument("--config", default=os.environ.get("PICKSTORE_CONFIG"), help="TOML config file")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--workers", type=_positive, default=int(os.environ.get("WORKERS", "1")),
                     help="processes serving the port (more than one needs a PostgreSQL index)")
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=serve)
    sign = commands.add_parser(
        "policy",
        help="make a signed policy",
        description='Print {"policy": ..., "signature": ...} as JSON: a policy signed with an app\'s secret.',
    )
    sign.add_argument("--key", help="the app's API key (picks its secret from --config)")
    sign.add_argument("--secret", help="the app's secret (default: read from --config)")
    sign.add_argument("--config", default=os.environ.get("PICKSTORE_CONFIG"), help="TOML config file")
    sign.add_argument(
        "--expiry", type=float, required=True,
        help="seconds from now (below 1000000000), or a Unix time in seconds",
    )
    sign.add_argument("--call", action="append", choices=CALLS, help="a call to allow (repeat); default: every call")
    sign.add_argument("--handle", help="the one file handle the policy may act on")
    sign.add_argument("--max-size", type=int, help="largest file to store, in bytes")
    sign.add_argument("--min-size", type=int, help="smallest file to store, in bytes")
    sign.add_argument("--path", help="regular expression the whole storage path must match")
    sign.add_argument("--container", help="regular expression the whole container name must match")
    sign.set_defaults(func=policy, parser=sign)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
