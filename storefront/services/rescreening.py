"""Open orders screened again when the sanctions data changes (PAY-7): a new SDN list, or a destination
compliance adds to the sanctioned ones.

A sale to a listed person or place must stop wherever it stands, not only at checkout: a match moves the
order to compliance review from awaiting approval, approved or partly shipped (`REVIEW_RETURNS`), where
nothing approves, ships or captures it. The screening record keeps the status it was found in, so clearing
returns it exactly there (services/order_admin.clear_compliance). An order not yet paid (or a telephone order
the client has not confirmed) keeps its status; the payment then sends it to compliance review instead of approval
(services/payment.py).

Called inside the transaction that changed the data, on the open orders locked for update, so a staff
action on the same order either happened before (and the order is screened in its new status) or waits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlmodel import Session, select

from storefront.adapters.tables import Order
from storefront.domain import destinations as destination_rules, screening
from storefront.domain.destinations import SanctionedDestination
from storefront.domain.order_status import REVIEW_RETURNS, OrderStatus
from storefront.services import order_events

OPEN = (OrderStatus.AWAITING_CLIENT, OrderStatus.PENDING_PAYMENT, OrderStatus.COMPLIANCE_REVIEW, OrderStatus.AWAITING_APPROVAL,
        OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED)
_RANK = {screening.Verdict.MATCH: 2, screening.Verdict.POSSIBLE: 1, screening.Verdict.CLEAR: 0}


def open_orders(s: Session) -> list[Order]:
    return list(s.exec(select(Order).where(Order.status.in_([st.value for st in OPEN])).order_by(Order.id)
                       .with_for_update()).all())


def status_found_in(order: Order) -> OrderStatus:
    """Where a re-screening found the order (the status clearing returns it to); awaiting approval otherwise."""
    then = (order.screening or {}).get("status_then")
    try:
        found = OrderStatus(then) if isinstance(then, str) else None
    except ValueError:
        found = None
    return found if found in REVIEW_RETURNS else OrderStatus.AWAITING_APPROVAL


def _flag(s: Session, order: Order, record: dict[str, Any], at: datetime) -> None:
    status = OrderStatus(order.status)
    before = order.screening or {}
    # already in review after an earlier re-screening: keep where it was found then, not "compliance_review"
    then = before.get("status_then") if status is OrderStatus.COMPLIANCE_REVIEW and before.get("status_then") \
        else status.value
    order.screening = {**record, "verdict": screening.Verdict.POSSIBLE.value, "status_then": then,
                       "rescreened_at": at.isoformat()}
    if status in REVIEW_RETURNS:
        order.status = OrderStatus.COMPLIANCE_REVIEW.value
    order.updated_at = at
    s.add(order)
    s.add(order_events.compliance_hold(order.id, at, dict(order.screening)))


def _names(order: Order) -> list[str]:
    return [n for n in dict.fromkeys((order.full_name, (order.shipping_address or {}).get("name", ""),
                                      (order.billing_address or {}).get("name", ""))) if n]


def best_matches(s: Session, prepared: screening.PreparedList) -> dict[int, screening.ScreeningResult]:
    """The closest listed name of every open order (by order id), read without locks: with a full list this takes
    tens of milliseconds per name, so it runs before the transaction that replaces the list. A buyer's names never
    change once the order is placed; each distinct name is screened once."""
    seen: dict[str, screening.ScreeningResult] = {}

    def screened(name: str) -> screening.ScreeningResult:
        if name not in seen:
            seen[name] = screening.screen(name, prepared)
        return seen[name]

    found = {}
    for order in s.exec(select(Order).where(Order.status.in_([st.value for st in OPEN]))).all():
        results = [screened(name) for name in _names(order)]
        if results:
            found[order.id] = max(results, key=lambda r: (_RANK[r.verdict], r.score))
    return found


def names_again(s: Session, prepared: screening.PreparedList, version_id: int, at: datetime,
                found: dict[int, screening.ScreeningResult] | None = None) -> tuple[int, list[str]]:
    """Every open order's names against a new list: (orders screened, references newly flagged). `found` holds
    the results of `best_matches` computed beforehand; an order placed since is screened here."""
    orders, flagged, found = open_orders(s), [], found or {}
    for order in orders:
        best = found.get(order.id)
        if best is None:
            results = [screening.screen(name, prepared) for name in _names(order)]
            if not results:
                continue
            best = max(results, key=lambda r: (_RANK[r.verdict], r.score))
        before = order.screening or {}
        if best.verdict is screening.Verdict.CLEAR or (
                before.get("entry") == best.entry.uid and before.get("verdict") in ("possible", "match")):
            continue  # clear, or the same entry matched already: nothing new for compliance
        _flag(s, order, {"score": best.score, "entry": best.entry.uid, "matched_name": best.matched_name,
                         "found_by": "rescreen", "rescreen_verdict": best.verdict.value,
                         "list_version": version_id}, at)
        flagged.append(order.reference)
    return len(orders), flagged


def destinations_again(s: Session, rows: Iterable[SanctionedDestination], at: datetime) -> tuple[int, list[str]]:
    """Every open order's delivery and billing addresses against the sanctioned destinations:
    (orders screened, references newly flagged)."""
    rows = tuple(rows)
    orders, flagged = open_orders(s), []
    for order in orders:
        for which, address in (("shipping", order.shipping_address or {}), ("billing", order.billing_address or {})):
            barred = destination_rules.barred_destination(
                str(address.get("country", "")), str(address.get("area", "")), str(address.get("postal_code", "")),
                str(address.get("city", "")), rows)
            if barred is None:
                continue
            place = barred.destination.region or barred.destination.country
            before = order.screening or {}
            if before.get("found_by") == "destination" and before.get("destination") == place:
                break  # flagged for this destination already
            _flag(s, order, {"found_by": "destination", "destination": place,
                             "destination_name": barred.destination.name, "address": which,
                             "field": barred.field}, at)
            flagged.append(order.reference)
            break
    return len(orders), flagged
