"""Error toasts that carry their code as the toast id: the shopper reads the sentence, tests read the code."""

from __future__ import annotations

import reflex as rx

from storefront.domain.errors import ErrorCode, Refusal


def refusal_toast(refusal: Refusal | ErrorCode, **params: object):
    if isinstance(refusal, ErrorCode):
        refusal = Refusal(refusal, params)
    return rx.toast.error(refusal.message, id=refusal.code.value)
