"""Command line: `python -m store serve` runs the store."""

from __future__ import annotations

import argparse
import os
import sys

from . import config as config_module


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .app import create_app

    config = config_module.load(args.config)
    app = create_app(config)
    url = f"http://{args.host}:{args.port}/"
    keys = ", ".join(sorted(config.apps)) or "(none configured)"
    print(f"pickstore: serving {url}  (API keys: {keys}; data in {config.data_dir.resolve()})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pickstore", description="pickstore file store")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the store")
    run.add_argument("--config", default=os.environ.get("PICKSTORE_CONFIG"), help="TOML config file")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--log-level", default="warning")
    run.set_defaults(func=serve)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
