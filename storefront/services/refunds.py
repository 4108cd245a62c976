"""Refunds of captured money (issue 9 § 4), with a second approver above a threshold (four eyes).

Only money that was charged is refunded: a hold that was only held or released never gets a provider
Refund (PAY-5: before shipment nothing was charged, a hold is released). What may be refunded is what
the order's captured holds charged less what is refunded or being refunded; a request is taken from the
holds newest first, one `RefundRecord` row per hold it touches (same `number`).

Amounts
    By line: net unit price x quantity of shipped units not yet refunded, plus the VAT share when the
    order has VAT (`domain/tax.py`: the order's rate on that net, rounded half up once), and/or a plain
    amount (e.g. part of the shipping fee, a goodwill gesture). Integer minor units; JPY in whole yen.

Who decides
    A staff refund is discretionary: above `rules/payments.toml` [refunds] four_eyes_above (per
    currency) it is recorded as `requested` and nothing moves until `approve_refund` by a different user
    holding `refunds.approve_large`. A refund the rules trigger (`staff=None`: the client's choice, a
    cancellation after a delay) is the system's and never waits; its audit entry names no one.

Order of effects, and why a double click refunds once
    1. One transaction records the request: rows `requested` (each with the idempotency key
       `<reference>:refund:<row id>`), checked against the refundable amount including requests not yet
       decided, and the audit entry. Two requests read at once collide on (order, number, hold): one is
       told the order changed.
    2. One transaction claims the rows: `requested` -> `processing`, a conditional update (with the
       approver, for a four-eyes request). Whoever does not win the claim moves no money.
    3. The provider call, outside any transaction, with the row's idempotency key: a retry of the same
       row gets the first refund back.
    4. One transaction records the outcome, conditional on `processing`: `succeeded` with the provider's
       refund id, the hold's `refunded_minor` (status `refunded` once all it charged is back), the order
       event `payment_refunded`, and (when the request's last row is decided) the client's email through
       the outbox. A provider refusal records `failed` with its code and nothing else.
    The provider is called only after the claim is committed, and the ledger is written only after the
    provider answered: the books never show money back that the card did not get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.email_render import render_order_notice
from storefront.adapters.stripe_gateway import PaymentGatewayError, StripeGateway
from storefront.adapters.tables import Order, OrderLine, PaymentAuthorization, RefundRecord
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import PaymentStatus
from storefront.domain.refunds import (
    CLIENT_NOTICES,
    RefundReason,
    RefundStatus,
    needs_second_approval,
    provider_reason,
    reason_from,
)
from storefront.domain.staff import allowed
from storefront.services import audit, order_events, outbox
from storefront.services.documents import issue_credit_note, order_document
from storefront.services.holds import with_vat
from storefront.services.order_admin import ActionRefused
from storefront.services.payment import gateway
from storefront.services.row_ids import is_row_id
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

REFUND = "orders.refund"
APPROVE = "refunds.approve_large"
OPEN = frozenset({RefundStatus.REQUESTED.value, RefundStatus.PROCESSING.value})
COUNTED = OPEN | {RefundStatus.SUCCEEDED.value}  # rows that hold their amount and units


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: int  # the request's first row
    status: str  # "succeeded" | "awaiting_approval"
    amount_minor: int = 0
    refund_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Row:
    id: int
    order_id: int
    number: int
    authorization_id: int
    intent_id: str
    amount_minor: int
    currency: str
    reason: RefundReason
    key: str


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _order(s: Session, reference: object) -> Order:
    order = s.exec(select(Order).where(Order.reference == reference)).first() if isinstance(reference, str) else None
    if order is None:
        raise ActionRefused(ErrorCode.ORDER_NOT_FOUND)
    return order


def _captured_holds(s: Session, order_id: int) -> list[PaymentAuthorization]:
    """Holds that charged something, newest first; held-only or released holds are never refunded."""
    return list(s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order_id,
                                                          PaymentAuthorization.captured_minor > 0,
                                                          PaymentAuthorization.intent_id.is_not(None))
                       .order_by(PaymentAuthorization.id.desc())).all())


def _rows(s: Session, order_id: int) -> list[RefundRecord]:
    return list(s.exec(select(RefundRecord).where(RefundRecord.order_id == order_id).order_by(RefundRecord.id)).all())


def refunded_units(rows: list[RefundRecord]) -> dict[str, int]:
    units: dict[str, int] = {}
    for row in rows:
        if row.status in COUNTED:
            for ref, n in (row.lines or {}).items():
                units[ref] = units.get(ref, 0) + int(n)
    return units


def _line_amount(order: Order, order_lines: list[OrderLine], lines: dict[str, int], rows: list[RefundRecord]) -> int:
    by_ref = {line.reference: line for line in order_lines}
    done = refunded_units(rows)
    net = 0
    for ref, quantity in lines.items():
        line = by_ref.get(ref) if isinstance(ref, str) else None
        if line is None:
            raise ActionRefused(ErrorCode.REFUND_LINE_UNKNOWN, line=str(ref)[:40])
        left = line.quantity_shipped - done.get(ref, 0)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= left:
            raise ActionRefused(ErrorCode.REFUND_QUANTITY_INVALID, line=ref, refundable=max(left, 0))
        net += line.unit_price_minor * quantity
    return with_vat(order, net)


def _valid_amount(amount_minor: object) -> int:
    if amount_minor is None:
        return 0
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise ActionRefused(ErrorCode.REFUND_AMOUNT_INVALID)
    return amount_minor


def refund(uow: UnitOfWork, reference: str, *, amount_minor: int | None = None, lines: dict[str, int] | None = None,
           reason: str, staff: StaffIdentity | None, ip: str = "", at: datetime | None = None,
           gw: StripeGateway | None = None) -> RefundOutcome:
    """Refund lines and/or an amount of what the order's captured holds charged (see the module docstring).

    `staff=None` is a refund the rules trigger (no four-eyes). Raises ActionRefused with a code when refused,
    or REFUND_FAILED when the provider refused (the rows then say `failed`).
    """
    at = _now(at)
    why = reason_from(reason)
    if why is None:
        raise ActionRefused(ErrorCode.REFUND_REASON_UNKNOWN)
    extra = _valid_amount(amount_minor)
    if lines is not None and not isinstance(lines, dict):
        raise ActionRefused(ErrorCode.REFUND_AMOUNT_INVALID)
    if not lines and extra == 0:
        raise ActionRefused(ErrorCode.REFUND_AMOUNT_INVALID)
    if staff is not None and not allowed(staff.role, REFUND):
        raise ActionRefused(ErrorCode.STAFF_FORBIDDEN)
    with uow:
        s = uow.session
        order = _order(s, reference)
        holds = _captured_holds(s, order.id)
        if not holds:
            raise ActionRefused(ErrorCode.REFUND_NOTHING_CAPTURED)
        rows = _rows(s, order.id)
        order_lines = list(s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all())
        total = (_line_amount(order, order_lines, lines, rows) if lines else 0) + extra
        open_by_hold: dict[int, int] = {}
        for row in rows:
            if row.status in OPEN:
                open_by_hold[row.authorization_id] = open_by_hold.get(row.authorization_id, 0) + row.amount_minor
        left = {h.id: max(0, h.captured_minor - h.refunded_minor - open_by_hold.get(h.id, 0)) for h in holds}
        refundable = sum(left.values())
        if total > refundable:
            money = lambda minor: Money(minor, order.currency).format("en")  # noqa: E731
            raise ActionRefused(ErrorCode.REFUND_OVER_REFUNDABLE, amount=money(total), refundable=money(refundable))
        number = max((row.number for row in rows), default=0) + 1
        waits = needs_second_approval(total, order.currency, discretionary=staff is not None)
        created: list[RefundRecord] = []
        rest = total
        for hold in holds:  # newest first
            take = min(rest, left[hold.id])
            if take <= 0:
                continue
            created.append(RefundRecord(order_id=order.id, number=number, authorization_id=hold.id, amount_minor=take,
                                        currency=order.currency, reason_code=why.value,
                                        lines=dict(lines or {}) if not created else {},
                                        status=RefundStatus.REQUESTED.value,
                                        requested_by=staff.staff_id if staff else None, created_at=at))
            rest -= take
            if rest == 0:
                break
        try:
            for row in created:
                s.add(row)
            s.flush()
            for row in created:
                row.idempotency_key = f"{order.reference}:refund:{row.id}"
            audit.record(s, staff=staff, action=REFUND, outcome="done", order_id=order.id,
                         subject=f"order:{order.reference}",
                         before={"refunded_minor": sum(h.refunded_minor for h in holds)},
                         after={"refund": number, "amount_minor": total, "currency": order.currency,
                                "reason": why.value, "lines": dict(lines or {}),
                                "status": "awaiting_approval" if waits else "approved"}, ip=ip, at=at)
            uow.commit()
        except IntegrityError as exc:  # another request on this order was recorded meanwhile
            raise ActionRefused(ErrorCode.ORDER_CHANGED) from exc
        ids = tuple(row.id for row in created)
        intents = {h.id: h.intent_id for h in holds}
        claimed = [_Row(row.id, order.id, number, row.authorization_id, intents[row.authorization_id],
                        row.amount_minor, order.currency, why, row.idempotency_key) for row in created]
    if waits:
        return RefundOutcome(ids[0], "awaiting_approval", total, ids)
    if not _claim(uow, ids, approver=None, at=at):
        raise ActionRefused(ErrorCode.ORDER_CHANGED)
    _execute(uow, claimed, at, gw or gateway())
    return RefundOutcome(ids[0], "succeeded", total, ids)


def approve_refund(uow: UnitOfWork, refund_id: int, *, staff: StaffIdentity, ip: str = "",
                   at: datetime | None = None, gw: StripeGateway | None = None) -> RefundOutcome:
    """The second pair of eyes: a different user with `refunds.approve_large` lets a large refund go."""
    at = _now(at)
    refusal: tuple[ErrorCode, dict[str, object], int | None, str] | None = None
    with uow:
        s = uow.session
        row = s.get(RefundRecord, refund_id) if is_row_id(refund_id) else None
        if row is None:
            raise ActionRefused(ErrorCode.REFUND_NOT_FOUND)
        order = s.get(Order, row.order_id)
        siblings = [r for r in _rows(s, row.order_id) if r.number == row.number]
        total = sum(r.amount_minor for r in siblings)
        if not allowed(staff.role, APPROVE):
            refusal = (ErrorCode.STAFF_FORBIDDEN, {}, order.id, "forbidden")
        elif any(r.status != RefundStatus.REQUESTED for r in siblings) or not needs_second_approval(
                total, row.currency, discretionary=row.requested_by is not None):
            status = next((r.status for r in siblings if r.status != RefundStatus.REQUESTED), "not discretionary")
            refusal = (ErrorCode.REFUND_NOT_AWAITING_APPROVAL, {"status": status}, order.id, "not_awaiting")
        elif row.requested_by == staff.staff_id:
            refusal = (ErrorCode.REFUND_SAME_APPROVER, {}, order.id, "same_approver")
        holds = {h.id: h.intent_id for h in _captured_holds(s, row.order_id)}
        claimed = [_Row(r.id, r.order_id, r.number, r.authorization_id, holds[r.authorization_id], r.amount_minor,
                        r.currency, RefundReason(r.reason_code), r.idempotency_key) for r in siblings]
    if refusal is not None:
        code, params, order_id, detail = refusal
        audit.record_now(uow, staff=staff, action=APPROVE, outcome="refused", order_id=order_id,
                         subject=f"order:{order.reference}", after={"refund": row.number}, ip=ip, detail=detail,
                         at=at)
        raise ActionRefused(code, **params)
    if not _claim(uow, tuple(r.id for r in claimed), approver=staff, at=at, order=order, number=row.number,
                  total=total, ip=ip):
        raise ActionRefused(ErrorCode.REFUND_NOT_AWAITING_APPROVAL, status="already decided")
    _execute(uow, claimed, at, gw or gateway())
    return RefundOutcome(claimed[0].id, "succeeded", total, tuple(r.id for r in claimed))


def _claim(uow: UnitOfWork, ids: tuple[int, ...], *, approver: StaffIdentity | None, at: datetime,
           order: Order | None = None, number: int = 0, total: int = 0, ip: str = "") -> bool:
    """Step 2: `requested` -> `processing` for all the request's rows, or none (the one who wins moves money)."""
    values: dict[str, object] = {"status": RefundStatus.PROCESSING.value}
    if approver is not None:
        values["approved_by"] = approver.staff_id
    with uow:
        s = uow.session
        moved = s.exec(update(RefundRecord).where(RefundRecord.id.in_(ids),
                                                  RefundRecord.status == RefundStatus.REQUESTED.value)
                       .values(**values)).rowcount
        if moved != len(ids):
            return False  # rolled back on leaving the unit
        if approver is not None and order is not None:
            audit.record(s, staff=approver, action=APPROVE, outcome="done", order_id=order.id,
                         subject=f"order:{order.reference}", before={"refund": number, "status": "requested"},
                         after={"refund": number, "status": "approved", "amount_minor": total}, ip=ip, at=at)
        uow.commit()
    return True


def _execute(uow: UnitOfWork, rows: list[_Row], at: datetime, gw: StripeGateway) -> None:
    """Steps 3 and 4 for each claimed row; raises REFUND_FAILED after recording any provider refusal."""
    failures: list[str] = []
    for row in rows:
        try:
            done = gw.refund(row.intent_id, amount_minor=row.amount_minor, idempotency_key=row.key,
                             reason=provider_reason(row.reason))
            failure = None if done.status not in ("failed", "canceled") else f"refund_{done.status}"
        except PaymentGatewayError as exc:
            done, failure = None, (exc.code or "provider_error")[:80]
        if failure is None and done is not None:
            _record_success(uow, row, done.refund_id, at)
        else:
            failures.append(failure or "provider_error")
            _record_failure(uow, row, failure or "provider_error", at)
    if failures:
        raise ActionRefused(ErrorCode.REFUND_FAILED, detail=failures[0])


def _record_success(uow: UnitOfWork, row: _Row, provider_refund_id: str, at: datetime) -> None:
    with uow:
        s = uow.session
        moved = s.exec(update(RefundRecord).where(RefundRecord.id == row.id,
                                                  RefundRecord.status == RefundStatus.PROCESSING.value)
                       .values(status=RefundStatus.SUCCEEDED.value, provider_refund_id=provider_refund_id,
                               decided_at=at)).rowcount
        if moved != 1:
            return
        s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == row.authorization_id)
               .values(refunded_minor=PaymentAuthorization.refunded_minor + row.amount_minor, updated_at=at))
        hold = s.get(PaymentAuthorization, row.authorization_id)
        s.refresh(hold)
        if hold.refunded_minor >= hold.captured_minor and hold.status != PaymentStatus.REFUNDED:
            hold.status = PaymentStatus.REFUNDED.value
            s.add(hold)
        s.add(order_events.payment_refunded(row.order_id, at, row.intent_id, row.amount_minor, row.currency))
        _notify_when_decided(s, row, at)
        uow.commit()


def _record_failure(uow: UnitOfWork, row: _Row, code: str, at: datetime) -> None:
    with uow:
        s = uow.session
        s.exec(update(RefundRecord).where(RefundRecord.id == row.id,
                                          RefundRecord.status == RefundStatus.PROCESSING.value)
               .values(status=RefundStatus.FAILED.value, failure_code=code, decided_at=at))
        _notify_when_decided(s, row, at)
        uow.commit()


def _notify_when_decided(s: Session, row: _Row, at: datetime) -> None:
    """One email per request, once its last row is decided, for what did come back."""
    s.flush()
    siblings = [r for r in _rows(s, row.order_id) if r.number == row.number]
    if any(r.status in OPEN for r in siblings):
        return
    back = sum(r.amount_minor for r in siblings if r.status == RefundStatus.SUCCEEDED)
    if back <= 0:
        return
    order = s.get(Order, row.order_id)
    hold = s.get(PaymentAuthorization, row.authorization_id)
    amount = Money(back, row.currency).format(order.locale)
    card = f"your card ending {hold.last4}" if hold is not None and hold.last4 else "your card"
    refunded_lines = next((r.lines for r in sorted(siblings, key=lambda r: r.id) if r.lines), {})
    credit = issue_credit_note(s, order, row.number, back, row.reason.value, dict(refunded_lines), at)
    paragraphs = (CLIENT_NOTICES[row.reason],
                  f"We have refunded {amount} to {card}. Banks usually show it within 5 to 10 business days.",
                  f"The credit note for this refund, {credit.document_number}, is attached (PDF).")
    email = render_order_notice(order_document(s, order), f"Your order {order.reference}: refund of {amount}",
                                paragraphs)
    if outbox.enqueue(s, f"order-refund:{order.id}:{row.number}", "refund", order.email, email, order_id=order.id,
                      at=at, document_id=credit.id):
        s.add(order_events.email_queued(order.id, at, "refund"))


def ledger_problems(session: Session, order_id: int) -> list[str]:
    """What does not add up in an order's money and units (empty when all is well)."""
    problems: list[str] = []
    rows = _rows(session, order_id)
    holds = session.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order_id)).all()
    for hold in holds:
        if hold.captured_minor > hold.amount_minor:
            problems.append(f"hold {hold.id}: captured {hold.captured_minor} > held {hold.amount_minor}")
        if hold.refunded_minor > hold.captured_minor:
            problems.append(f"hold {hold.id}: refunded {hold.refunded_minor} > captured {hold.captured_minor}")
        booked = sum(r.amount_minor for r in rows if r.authorization_id == hold.id and r.status == RefundStatus.SUCCEEDED)
        if booked != hold.refunded_minor:
            problems.append(f"hold {hold.id}: refunds recorded {booked} != refunded {hold.refunded_minor}")
        if hold.captured_minor == 0 and any(r.authorization_id == hold.id and r.status in COUNTED for r in rows):
            problems.append(f"hold {hold.id}: a refund of a hold that charged nothing")
    for row in rows:
        if row.amount_minor <= 0:
            problems.append(f"refund {row.id}: amount {row.amount_minor}")
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
    units = refunded_units(rows)
    for line in lines:
        if line.quantity_shipped + line.quantity_cancelled > line.quantity:
            problems.append(f"line {line.reference}: shipped {line.quantity_shipped} + cancelled "
                            f"{line.quantity_cancelled} > ordered {line.quantity}")
        if units.get(line.reference, 0) > line.quantity_shipped:
            problems.append(f"line {line.reference}: refunded {units[line.reference]} > shipped {line.quantity_shipped}")
    return problems


def refunded_total(session: Session, order_id: int) -> int:
    return int(session.exec(select(func.coalesce(func.sum(RefundRecord.amount_minor), 0)).where(
        RefundRecord.order_id == order_id, RefundRecord.status == RefundStatus.SUCCEEDED.value)).one())
