"""Operations commands: `python -m storefront <command>` (migrate, seed, serve, ...)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate(_args) -> None:
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")
    print("database schema is up to date")


def seed(_args) -> None:
    from storefront.services.seed import seed_all

    counts = seed_all()
    print("seed: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))


def serve(args) -> None:
    os.chdir(ROOT)
    cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
           "--frontend-port", str(args.port), "--backend-port", str(args.port)]
    raise SystemExit(subprocess.call(cmd))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m storefront")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (Alembic)").set_defaults(func=migrate)
    sub.add_parser("seed", help="insert the demo catalogue, terms and sanctioned destinations if missing").set_defaults(func=seed)
    p = sub.add_parser("serve", help="serve the production build on one port")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=serve)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
