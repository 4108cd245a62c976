"""Operations commands: `python -m storefront <command>` (migrate, seed, serve, proxy-config, sanctions, jobs ...)."""

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


def sanctions_load(args) -> None:
    """The published files read strictly (services/sanctions_admin.py): a malformed or truncated file is refused
    with its line and the list in force stays; an import records its version and screens open orders again."""
    from storefront.domain.errors import message
    from storefront.services.order_admin import ActionRefused
    from storefront.services.sanctions_admin import import_list
    from storefront.services.unit_of_work import UnitOfWork

    try:
        result = import_list(UnitOfWork(), staff=None, sdn=args.sdn.read_bytes(),
                             alt=args.alt.read_bytes() if args.alt else None,
                             add=args.add.read_bytes() if args.add else None, published=args.published or "",
                             via="command")
    except ActionRefused as refused:
        raise SystemExit(f"sanctions load: {message(refused.refusal.code, **refused.refusal.params)}") from None
    print(f"loaded {result.entry_count} SDN entries (version {result.version_id}); "
          f"{result.rescreened} open orders screened again, {len(result.flagged)} newly matching: "
          + (", ".join(result.flagged) or "none"))


def jobs_run(_args) -> None:
    from storefront.services.jobs import run_once

    print(run_once())


def staff_create(args) -> None:
    """The password comes from STOREFRONT_STAFF_PASSWORD (scripts) or is typed twice, never from the command line
    (which `ps` and the shell history would show)."""
    from getpass import getpass

    from storefront.services.staff import StaffError, create_staff
    from storefront.services.unit_of_work import UnitOfWork

    password = os.environ.get("STOREFRONT_STAFF_PASSWORD")
    if password is None:
        password = getpass("Password: ")
        if getpass("Password again: ") != password:
            raise SystemExit("staff create: the passwords differ")
    try:
        staff_id = create_staff(UnitOfWork(), email=args.email, password=password, role=args.role, full_name=args.name)
    except StaffError as exc:
        raise SystemExit(f"staff create: {exc.refusal.message}") from exc
    print(f"staff account {staff_id} created ({args.role})")


def proxy_config(args) -> None:
    from storefront.reverse_proxy import write_config

    print(write_config(args.dir, args.app_port))


def _sidecars(port: int) -> list:
    """The local payment sandbox and mail catcher, when no real Stripe keys or SMTP server are configured."""
    from storefront.settings import VAR_DIR, get_settings

    s = get_settings()
    started: list = []
    if s.uses_local_stripe:
        from storefront.adapters import localstripe_server

        sandbox = localstripe_server.ensure_running(
            s.localstripe_port, state_file=VAR_DIR / "localstripe.pickle", log_file=VAR_DIR / "localstripe.log")
        sandbox.register_webhook(f"http://127.0.0.1:{port}/api/stripe/webhook", s.stripe_webhook_secret)
        started.append(sandbox)
        print(f"==> Payment sandbox (localstripe) on {sandbox.url}")
    if s.uses_mail_capture:
        mail = subprocess.Popen(
            [sys.executable, "-m", "storefront.adapters.mail_capture", "--port", str(s.mail_capture_port),
             "--dir", str(s.mail_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(mail)
        print(f"==> Emails are captured in {s.mail_dir} (SMTP on 127.0.0.1:{s.mail_capture_port})")
    return started


def _configuration_refused() -> str | None:
    """Why the settings cannot be used, in the settings' own words, or None when they can."""
    from pydantic import ValidationError

    from storefront.settings import get_settings

    try:
        get_settings()
    except ValidationError as exc:
        return "\n".join(str(e.get("ctx", {}).get("error") or e["msg"]) for e in exc.errors())
    return None


def _demo_staff_refused() -> str | None:
    """Why a shop with a real payment provider must not start: demo staff accounts (public passwords)."""
    from storefront.services.seed import demo_staff_allowed, demo_staff_present
    from storefront.services.unit_of_work import UnitOfWork

    if demo_staff_allowed():
        return None
    present = demo_staff_present(UnitOfWork())
    if not present:
        return None
    return ("the demo staff accounts, whose passwords are public, are active in this database: "
            + ", ".join(present) + ". Deactivate them (or use a database without them) before serving real clients.")


def _secure_existing_files() -> None:
    """Owner-only modes on what an earlier run may have left readable: var/ (secret key, database,
    payment sandbox store), captured mails, the database and Reflex's saved states."""
    from storefront.adapters import private_files
    from storefront.settings import VAR_DIR, get_settings

    s = get_settings()
    states = Path(os.environ.get("REFLEX_STATES_WORKDIR", ROOT / ".states"))
    private_files.secure_existing([VAR_DIR, s.mail_dir, states, *private_files.sqlite_files(s.database_url)])


def _build_frontend(env: dict[str, str]) -> None:
    """The production bundle of the pages, as `reflex run --env prod` builds it (bun, from .web/)."""
    from reflex.istate.manager import reset_disk_state_manager

    reset_disk_state_manager()  # as `reflex run` does: tabs saved by an older build are not restored into this one
    subprocess.run([sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"],
                   env=env, check=True)
    from reflex import constants
    from reflex.utils.prerequisites import get_web_dir

    from storefront.page_boot import rewrite_built_pages

    changed, unchanged = rewrite_built_pages(get_web_dir() / constants.Dirs.STATIC)
    print(f"storefront: {changed} pages start their scripts after the first paint"
          + (f"; left as built: {', '.join(unchanged)}" if unchanged else ""))


def _backend_command(host: str, port: int, workers: int) -> list[str]:
    """Granian, the server `reflex run` uses, but with a worker that dies (killed, out of memory) started again:
    Reflex's own start stops the whole shop when one worker exits, every shopper with it."""
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", host, "--port", str(port),
            "--workers", str(workers), "--respawn-failed-workers", "--log-level", "warning",
            "storefront.storefront:app"]


def _backend_env(env: dict[str, str]) -> dict[str, str]:
    """What `reflex run --env prod --single-port` tells its backend: production mode, the built pages served by
    the backend itself, and no second compile in each worker (Reflex's internal variables, `__`-prefixed)."""
    return {**env, "REFLEX_ENV_MODE": "prod", "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",
            "__REFLEX_SKIP_COMPILE": "true"}


def serve(args) -> None:
    os.chdir(ROOT)
    refused = _configuration_refused()
    if refused:
        print(f"storefront: configuration error: {refused}", file=sys.stderr)
        raise SystemExit(2)
    refused = _demo_staff_refused()
    if refused:
        print(f"storefront: {refused}", file=sys.stderr)
        raise SystemExit(2)
    _secure_existing_files()
    sidecars = _sidecars(args.port)
    from storefront.settings import get_settings

    settings = get_settings()
    env = dict(os.environ)
    if "public_url" not in settings.model_fields_set:
        # Unconfigured, the public URL (email links, the origins allowed to connect) follows the port served.
        env["STOREFRONT_PUBLIC_URL"] = f"http://localhost:{args.port}"
    # The page reaches the backend at the port served; behind an HTTPS proxy on 443 the page's own origin
    # (Reflex's frontend swaps ws: for wss: and drops the port when the page is https).
    env["REFLEX_API_URL"] = f"http://localhost:{args.port}"
    try:
        _build_frontend(env)
        code = subprocess.call(_backend_command(settings.bind_host, args.port, settings.workers), env=_backend_env(env))
    except subprocess.CalledProcessError as exc:
        code = exc.returncode
    finally:
        for proc in sidecars:
            (proc.stop if hasattr(proc, "stop") else proc.terminate)()
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    from storefront.adapters.private_files import restrict_new_files

    restrict_new_files()  # every file these commands and their children create is the owner's alone
    parser = argparse.ArgumentParser(prog="python -m storefront")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (Alembic)").set_defaults(func=migrate)
    sub.add_parser("seed", help="insert the demo catalogue, terms, sanctioned destinations and sample SDN list if missing"
                   ).set_defaults(func=seed)
    p = sub.add_parser("serve", help="serve the production build on one port (with local sandboxes if unconfigured)")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=serve)
    p = sub.add_parser("proxy-config", help="write production mode's Caddyfile (and a self-signed certificate for "
                                            "a loopback public URL) into DIR; prints its path")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--app-port", type=int, required=True)
    p.set_defaults(func=proxy_config)
    sanctions = sub.add_parser("sanctions", help="OFAC SDN list").add_subparsers(dest="action", required=True)
    p = sanctions.add_parser("load", help="replace the SDN list with the published sdn.csv (and alt.csv, add.csv); "
                                          "open orders are screened again")
    p.add_argument("sdn", type=Path)
    p.add_argument("alt", type=Path, nargs="?")
    p.add_argument("--add", type=Path, help="the published add.csv (addresses shown to compliance)")
    p.add_argument("--published", help="the list's publication date, YYYY-MM-DD")
    p.set_defaults(func=sanctions_load)
    jobs = sub.add_parser("jobs", help="background jobs").add_subparsers(dest="action", required=True)
    jobs.add_parser("run", help="one round: cancel unpaid orders past their deadline, send due emails (for cron)"
                    ).set_defaults(func=jobs_run)
    staff = sub.add_parser("staff", help="back-office accounts").add_subparsers(dest="action", required=True)
    p = staff.add_parser("create", help="create a staff account (password from STOREFRONT_STAFF_PASSWORD, else asked)")
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--name", default="")
    p.set_defaults(func=staff_create)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
