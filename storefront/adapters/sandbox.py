"""What the shop must know about the local payment sandbox (localstripe 1.15) to talk to it.

Addresses, keys and the ways it differs from real Stripe live here, beside the sandbox, so the
gateway stays the gateway and the launcher (`localstripe_server`, which spawns processes) is
imported only by the command that starts the sandbox, never by a shop configured with real keys.

What the sandbox lacked for captures, refunds, off-session holds, `capture_before` and idempotency
is taught to it in `localstripe_server._adapt_localstripe`, so the gateway reads the same fields
from both; what still differs (no `description` on intents) is handled here.
"""

from __future__ import annotations

LOOPBACK = "127.0.0.1"
# localstripe serves its Stripe.js stand-in here; the script derives the API base from its own src.
JS_PATH = "/js.stripe.com/v3/"
# Any `sk_…` key longer than five characters passes localstripe's auth check.
SECRET_KEY = "sk_test_local"
PUBLISHABLE_KEY = "pk_test_local"
# No automatic retries against the sandbox: it answers on loopback or not at all (stopped), and a
# test that stops it wants the failure at once. Idempotency keys are honoured (localstripe_server
# adds them), so a retry would be safe.
NETWORK_RETRIES = 0


def url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


def js_url(port: int) -> str:
    return url(port) + JS_PATH


def describe(metadata: dict[str, str], description: str) -> None:
    """localstripe refuses `description` on payment intents ("Unexpected description"): keep it in metadata."""
    metadata.setdefault("description", description)
