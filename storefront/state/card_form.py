"""The card form in the browser (assets/checkout.js, Stripe.js): the scripts the server asks it to run, and
what it sends back. Card data stays in Stripe.js; the server only ever receives a token id or an error."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storefront.domain.cards import accepted_spellings, brand_message

TOKENIZE_JS = f"window.vxCheckout.tokenize({json.dumps(list(accepted_spellings()))}, {json.dumps(brand_message())})"


def confirm_js(client_secret: str) -> str:
    """3-D Secure: the issuer's challenge in the page (the server then asks the provider what became of it)."""
    return f"window.vxCheckout.confirm({json.dumps(client_secret)})"


@dataclass(frozen=True)
class CardResult:
    token: str | None
    error: str  # the script's words for the client ("" when it sent none)


def read_card_result(result: object) -> CardResult:
    """Whatever a browser sent in place of the script's JSON is at worst "no token"."""
    try:
        data = json.loads(result) if isinstance(result, str) and len(result) < 2000 else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    if isinstance(data.get("token"), str):
        return CardResult(data["token"], "")
    error = data.get("error")
    return CardResult(None, error[:300] if isinstance(error, str) else "")
