"""Development mail catcher: an SMTP server on loopback that files every message under var/mail/.

Without SMTP settings the shop still runs its real delivery path (outbox, worker, smtplib), only
the far end is this server, so nothing reaches a real inbox and every confirmation can be opened
as an .eml file. It listens on 127.0.0.1 only: it has no authentication and accepts any recipient.

Run on its own with `python -m storefront.adapters.mail_capture [--port N] [--dir PATH]`.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

from storefront.settings import VAR_DIR

LOOPBACK = "127.0.0.1"
DEFAULT_DIRECTORY = VAR_DIR / "mail"
INDEX_NAME = "index.log"


def _one_line(value: object) -> str:
    """Index entries are one line each, whatever a sender puts in a header."""
    return " ".join(str(value).split())


class CaptureHandler:
    """aiosmtpd handler: one .eml per message, plus a line in index.log to find it again."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        # Mails carry names and addresses: the folder, every .eml (mkstemp: 0600) and the index are the owner's.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.save(content, envelope.mail_from, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def save(self, content: bytes, mail_from: str, rcpt_tos: list[str]) -> Path:
        now = datetime.now(timezone.utc)
        name = f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{uuid.uuid4().hex[:8]}.eml"
        # The envelope is what was actually delivered (Bcc recipients are only in it), so it is
        # recorded in front of the message, as a delivering MTA would.
        envelope = f"Return-Path: <{mail_from}>\r\nX-Envelope-To: {', '.join(rcpt_tos)}\r\n".encode()
        path = self.directory / name
        # Write then rename: anything watching the folder never opens a half-written message.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(envelope + content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        headers = BytesHeaderParser(policy=policy.default).parsebytes(content)
        line = "\t".join(
            [
                now.isoformat(timespec="seconds"),
                name,
                f"from={_one_line(mail_from)}",
                f"to={_one_line(','.join(rcpt_tos))}",
                f"subject={_one_line(headers.get('Subject', ''))}",
            ]
        )
        with self._lock, open(os.open(self.directory / INDEX_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
                              "a", encoding="utf-8") as index:
            index.write(line + "\n")
        return path


def _port_in_use(host: str, port: int) -> bool:
    # SO_REUSEADDR as asyncio's create_server sets it: a listener makes bind fail, while
    # connections lingering in TIME_WAIT from a previous run do not count as "in use".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def start_capture(port: int, directory: Path | str = DEFAULT_DIRECTORY, host: str = LOOPBACK) -> Controller | None:
    """Starts the catcher; None when the port is taken, taken to mean another catcher already runs.

    The app, a second worker and a test run may each try to start it; the first one wins and the
    rest deliver to it, so a busy port is not an error.
    """
    if port <= 0:
        raise ValueError("The capture server needs a fixed port: the mailer has to know where to connect.")
    if _port_in_use(host, port):
        return None
    # server_hostname avoids socket.getfqdn(), which can stall for seconds on machines without DNS.
    controller = Controller(CaptureHandler(Path(directory)), hostname=host, port=port, server_hostname="localhost")
    try:
        controller.start()
    except OSError as error:
        # Lost a race with another starter between the probe and the bind.
        controller.stop(no_assert=True)
        if error.errno == errno.EADDRINUSE:
            return None
        raise
    return controller


def stop_capture(controller: Controller | None) -> None:
    """Accepts None so callers can pass start_capture's result back unconditionally."""
    if controller is not None:
        controller.stop()


stop = stop_capture


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="default: STOREFRONT_MAIL_CAPTURE_PORT (8025)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY)
    args = parser.parse_args(argv)
    port = args.port
    if port is None:
        from storefront.settings import get_settings

        port = get_settings().mail_capture_port
    controller = start_capture(port, args.dir)
    if controller is None:
        raise SystemExit(f"Port {port} is in use; a capture server is probably running already.")
    print(f"Capturing mail on {LOOPBACK}:{port} into {args.dir}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_capture(controller)


if __name__ == "__main__":
    main()
