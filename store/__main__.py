"""Command line: `python -m store serve` runs the store; `python -m store policy` signs a policy."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time

from . import config as config_module
from .policy import CALLS

WANTED_OPEN_FILES = 4096  # fewer makes the start say so
MAX_OPEN_FILES = 1 << 20  # when the hard limit is unlimited


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .app import create_app
    from .guards import guarded_http

    config = config_module.load(args.config)
    app = create_app(config)
    url = f"http://{args.host}:{args.port}/"
    keys = ", ".join(sorted(config.apps)) or "(none configured)"
    print(f"pickstore: serving {url}  (API keys: {keys}; data in {config.data_dir.resolve()})", flush=True)
    open_files = raise_open_files_limit()
    if open_files < WANTED_OPEN_FILES:
        print(f"pickstore: only {open_files} open files allowed (ulimit -n): raise the hard limit (systemd: LimitNOFILE)",
              flush=True)
    # httptools, named rather than left to uvicorn's choice, with the bounds on headers and idle
    # connections that store.guards adds to it.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                http=guarded_http(config.limits))


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pickstore", description="pickstore file store")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the store")
    run.add_argument("--config", default=os.environ.get("PICKSTORE_CONFIG"), help="TOML config file")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--log-level", default="warning")
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
