import pytest

from storefront.domain.order_status import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    InvalidTransition,
    OrderEvent,
    OrderStatus,
    PaymentStatus,
    can_transition,
    customer_label,
    is_final,
    transition,
)

S, P = OrderStatus, PaymentStatus
ORDER_MOVES = [(a, b) for a, targets in ORDER_TRANSITIONS.items() for b in sorted(targets)]
PAYMENT_MOVES = [(a, b) for a, targets in PAYMENT_TRANSITIONS.items() for b in sorted(targets)]


@pytest.mark.clause("GTC-3.6")
@pytest.mark.parametrize("a, b", ORDER_MOVES, ids=[f"{a}->{b}" for a, b in ORDER_MOVES])
def test_every_allowed_order_transition(a, b):
    assert can_transition(a, b) and can_transition(str(a), str(b))
    assert transition(a, b) is b


@pytest.mark.clause("PAY-5")
@pytest.mark.parametrize("a, b", PAYMENT_MOVES, ids=[f"{a}->{b}" for a, b in PAYMENT_MOVES])
def test_every_allowed_payment_transition(a, b):
    assert can_transition(a, b)
    assert transition(str(a), str(b)) is b


@pytest.mark.clause("GTC-3.6")
def test_the_table_covers_every_status():
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert {(S.PENDING_PAYMENT, S.AWAITING_APPROVAL), (S.AWAITING_APPROVAL, S.APPROVED),
            (S.APPROVED, S.SHIPPED), (S.PENDING_PAYMENT, S.COMPLIANCE_REVIEW)} <= set(ORDER_MOVES)


@pytest.mark.clause("GTC-3.6")
@pytest.mark.parametrize("a, b", [
    (S.PENDING_PAYMENT, S.APPROVED),  # never final without a hold
    (S.COMPLIANCE_REVIEW, S.APPROVED),  # staff must clear the review first
    (S.PENDING_PAYMENT, S.SHIPPED),
    (S.AWAITING_APPROVAL, S.SHIPPED),
    (S.SHIPPED, S.CANCELLED),
    (S.CANCELLED, S.AWAITING_APPROVAL),
    (S.APPROVED, S.APPROVED),
])
def test_forbidden_order_transitions(a, b):
    assert not can_transition(a, b)
    with pytest.raises(InvalidTransition):
        transition(a, b)


@pytest.mark.clause("PAY-5")
@pytest.mark.parametrize("a, b", [
    (P.DECLINED, P.HELD), (P.RELEASED, P.CAPTURED), (P.EXPIRED, P.CAPTURED),
    (P.REQUIRES_ACTION, P.CAPTURED),  # never charge an unauthenticated card
    (P.CAPTURED, P.HELD), (P.HELD, P.REFUNDED),  # a hold is released, not refunded
])
def test_forbidden_payment_transitions(a, b):
    assert not can_transition(a, b)
    with pytest.raises(InvalidTransition):
        transition(a, b)


@pytest.mark.clause("GTC-3.6")
def test_order_and_payment_statuses_do_not_mix_and_unknown_values_are_refused():
    assert not can_transition(S.AWAITING_APPROVAL, P.HELD)
    with pytest.raises(ValueError):
        can_transition("pending_payment", "teleported")


@pytest.mark.clause("GTC-3.6")
def test_final_only_once_approved_and_not_when_cancelled():
    assert {s for s in OrderStatus if is_final(s)} == {S.APPROVED, S.PARTIALLY_SHIPPED, S.SHIPPED}
    assert not is_final("awaiting_approval") and not is_final(S.CANCELLED)


@pytest.mark.clause("GTC-3.6")
def test_customer_labels_say_pending_orders_are_not_final():
    assert customer_label("awaiting_approval") == ("Awaiting approval — your card is authorised, not charged; "
                                                   "the order becomes final once we confirm it")
    assert all(customer_label(s) for s in OrderStatus)
    assert "sanction" not in customer_label(S.COMPLIANCE_REVIEW).lower()  # neutral wording


@pytest.mark.clause("GTC-3.5")
def test_failed_payment_or_bad_information_can_cancel_before_approval():
    for status in [S.PENDING_PAYMENT, S.COMPLIANCE_REVIEW, S.AWAITING_APPROVAL]:
        assert can_transition(status, S.CANCELLED)
    assert can_transition(P.HELD, P.RELEASED)  # the hold is released on cancellation


@pytest.mark.clause("GTC-3.5")
def test_event_names_are_stable_strings():
    assert OrderEvent.PAYMENT_DECLINED == "payment_declined"
    assert {"order_placed", "terms_accepted", "payment_authorized", "compliance_hold", "approved", "cancelled",
            "stock_released", "email_queued", "handed_to_carrier"} <= {e.value for e in OrderEvent}
