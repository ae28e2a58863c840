"""`voicetest serve`: the HTTP server (extra `[server]`), and `--create-key` for its API keys."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import emit


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"a port is a whole number 1..65535, got '{text}'")
    return int(text)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..server.app import ServerOptions, create_app, open_store
        from ..server.auth import check_bind, create_key
        from ..server.lock import ServeLock
    except ImportError as exc:
        raise InputError(f"the server needs FastAPI and uvicorn ({exc.name} is missing)", fix="pip install 'pytest-voicetest[server]'") from None
    options = ServerOptions(root=Path.cwd(), store=args.store)
    database, store = open_store(options)
    try:
        if args.create_key:
            key = create_key(store, args.create_key)
            emit(args, {"workspace": args.create_key, "key": key}, f"API key for workspace {args.create_key} (shown once, stored hashed):\n{key}")
            return 0
        check_bind(args.host, store)
        lock = ServeLock(database)
        lock.acquire()  # fail here, in one line, rather than in the app's startup
        lock.release()
    finally:
        database.close()
    uvicorn.run(create_app(options), host=args.host, port=args.port, log_level="info")
    return 0


def add_parsers(command: Any) -> None:
    cmd = command("serve", cmd_serve, "Serve the three seed APIs over HTTP (OpenAPI at /openapi.json, docs at /docs).")
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs an API key first)")
    cmd.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    cmd.add_argument("--store", help="SQLite file or postgresql:// URL (default .voicetest/server.db)")
    cmd.add_argument("--create-key", metavar="WORKSPACE", help="create an API key for WORKSPACE, print it once, and exit")
