"""The order and card-hold state machines, checked against moves written out by hand from the terms.

Each expected move below comes from a clause, not from ORDER_TRANSITIONS or PAYMENT_TRANSITIONS:
a wrong entry in those tables makes one of these cases fail.
"""

import pytest

from storefront.domain.order_status import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    REVIEW_RETURNS,
    InvalidTransition,
    OrderStatus,
    PaymentStatus,
    can_transition,
    customer_label,
    is_final,
    transition,
)

S, P = OrderStatus, PaymentStatus


def allowed(a, b) -> bool:
    """Both entry points agree, for enum members and for the plain strings the database holds."""
    ok = can_transition(a, b)
    assert can_transition(str(a), str(b)) is ok
    if ok:
        assert transition(str(a), str(b)) == b
    else:
        with pytest.raises(InvalidTransition):
            transition(a, b)
    return ok


@pytest.mark.clause("GTC-3.6")
@pytest.mark.parametrize("a, b", [
    (S.PENDING_PAYMENT, S.AWAITING_APPROVAL),  # the full amount is held on the card
    (S.PENDING_PAYMENT, S.COMPLIANCE_REVIEW),  # held, but a possible sanctions match waits for staff
    (S.COMPLIANCE_REVIEW, S.AWAITING_APPROVAL),  # staff cleared the review
    (S.AWAITING_APPROVAL, S.APPROVED),  # the merchant confirms availability: final
    (S.AWAITING_APPROVAL, S.PENDING_PAYMENT),  # the hold lapsed and could not be renewed: pay again
    (S.APPROVED, S.SHIPPED),
    (S.APPROVED, S.PARTIALLY_SHIPPED),
    (S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED),  # a further part ships
    (S.PARTIALLY_SHIPPED, S.SHIPPED),
])
def test_an_order_becomes_final_only_through_a_hold_and_the_merchants_approval(a, b):
    assert allowed(a, b)


@pytest.mark.clause("GTC-3.6")
@pytest.mark.parametrize("a, b", [
    (S.PENDING_PAYMENT, S.APPROVED),  # never final without a hold on the card
    (S.PENDING_PAYMENT, S.SHIPPED),
    (S.AWAITING_APPROVAL, S.SHIPPED),  # nothing ships before the merchant confirms
    (S.COMPLIANCE_REVIEW, S.SHIPPED),
    (S.APPROVED, S.APPROVED),
    (S.APPROVED, S.PENDING_PAYMENT),  # a final order does not go back to payment
    (S.APPROVED, S.AWAITING_APPROVAL),
    (S.SHIPPED, S.PARTIALLY_SHIPPED),
    (S.CANCELLED, S.AWAITING_APPROVAL),  # a cancelled order stays cancelled
    (S.CANCELLED, S.PENDING_PAYMENT),
])
def test_moves_that_would_make_an_unconfirmed_order_final_or_revive_a_closed_one_are_refused(a, b):
    assert not allowed(a, b)


@pytest.mark.clause("PAY-7")
def test_a_re_screening_match_stops_an_open_order_and_clearing_returns_it_where_it_was():
    for status in REVIEW_RETURNS:  # a new list or destination may match an order at any point before it all ships
        assert allowed(status, S.COMPLIANCE_REVIEW), status
        assert allowed(S.COMPLIANCE_REVIEW, status), status
    assert REVIEW_RETURNS == {S.AWAITING_APPROVAL, S.APPROVED, S.PARTIALLY_SHIPPED}
    for status in (S.SHIPPED, S.CANCELLED):  # nothing left to stop
        assert not allowed(status, S.COMPLIANCE_REVIEW), status
    assert not is_final(S.COMPLIANCE_REVIEW)


@pytest.mark.clause("GTC-3.5")
def test_the_merchant_can_cancel_until_goods_ship_and_not_after():
    for status in (S.PENDING_PAYMENT, S.COMPLIANCE_REVIEW, S.AWAITING_APPROVAL, S.APPROVED):
        assert allowed(status, S.CANCELLED), status
    for status in (S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED):  # what shipped stays sold
        assert not allowed(status, S.CANCELLED), status
    assert allowed(P.HELD, P.RELEASED)  # cancelling releases the hold
    assert not allowed(P.HELD, P.REFUNDED)  # a hold is released, not refunded: nothing was charged


@pytest.mark.clause("PAY-3")
@pytest.mark.parametrize("b", [P.HELD, P.REQUIRES_ACTION, P.CAPTURED, P.PENDING])
def test_a_card_the_issuer_refused_never_proceeds(b):
    assert not allowed(P.DECLINED, b)


@pytest.mark.clause("PAY-4")
def test_an_authentication_request_ends_in_a_hold_a_refusal_or_a_lapse_never_a_charge():
    assert allowed(P.PENDING, P.REQUIRES_ACTION)
    for outcome in (P.HELD, P.DECLINED, P.EXPIRED):
        assert allowed(P.REQUIRES_ACTION, outcome), outcome
    assert not allowed(P.REQUIRES_ACTION, P.CAPTURED)
    assert not allowed(P.PENDING, P.CAPTURED)  # no charge without a hold first
    assert not allowed(P.RELEASED, P.HELD) and not allowed(P.EXPIRED, P.HELD)  # a new hold is a new row


@pytest.mark.clause("GTC-3.6")
def test_only_approved_or_shipped_orders_are_final():
    assert {s for s in OrderStatus if is_final(s)} == {S.APPROVED, S.PARTIALLY_SHIPPED, S.SHIPPED}
    assert not is_final("awaiting_approval") and not is_final("compliance_review") and not is_final(S.CANCELLED)


@pytest.mark.clause("GTC-3.6")
def test_customer_labels_say_pending_orders_are_not_final():
    assert customer_label("awaiting_approval") == ("Awaiting approval — your card is authorised, not charged; "
                                                   "the order becomes final once we confirm it")
    assert all(customer_label(s) for s in OrderStatus)
    assert "sanction" not in customer_label(S.COMPLIANCE_REVIEW).lower()  # neutral wording


def test_statuses_of_orders_and_holds_do_not_mix_and_unknown_values_are_refused():
    assert set(ORDER_TRANSITIONS) == set(OrderStatus) and set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert not can_transition(S.AWAITING_APPROVAL, P.HELD)
    with pytest.raises(ValueError):
        can_transition("pending_payment", "teleported")
