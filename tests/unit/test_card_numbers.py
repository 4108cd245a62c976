"""The Luhn guard on staff free text (PAY-2): a card number typed into a note, a name or an address
is refused; ordinary text with numbers in it (phones, postcodes, IBANs, references) is not."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront.domain.card_numbers import contains_card_number, field_errors, luhn_ok, refusal_for
from storefront.domain.errors import ErrorCode

pytestmark = pytest.mark.clause("PAY-2")

TEST_CARDS = ["4242424242424242", "4000000000000341", "5555555555554444", "378282246310005",
              "6011111111111117", "6200000000000005", "4000002500003155", "3056930009020004"]


def _with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return body + digit
    raise AssertionError


@pytest.mark.parametrize("number", TEST_CARDS)
def test_the_sandbox_and_network_test_cards_pass_luhn(number):
    assert luhn_ok(number)


@pytest.mark.parametrize("text", [
    "4242 4242 4242 4242", "4242-4242-4242-4242", "card: 4242424242424242, exp 12/29",
    "Amex 3782 822463 10005", "4242 4242 4242 4242 123",  # a card followed by its security code
    "Bahnhofstrasse 1, 4242424242424242", "４２４２ ４２４２ ４２４２ ４２４２",  # full-width digits
    "4242\u00a04242\u00a04242\u00a04242", "ref 6011-1111-1111-1117.",
])
def test_card_numbers_however_written_are_found(text):
    assert contains_card_number(text)


@pytest.mark.parametrize("text", [
    "", "Mme Anne Dupont", "Bahnhofstrasse 12", "8001 Zürich", "+41 44 668 18 00", "+1 212 555 0100",
    "CH93 0076 2011 6238 5295 7",  # an IBAN written in groups
    "1234 5678 1234 5678",  # 16 digits failing Luhn
    "4242424242424241",  # one digit wrong
    "424242424242",  # 12 digits, too short for a card
    "42424242424242424242424",  # 23 digits in one piece: no card number
    "VX-ABCD234567", "2026-07-01 10:00",
])
def test_ordinary_text_with_numbers_passes(text):
    assert not contains_card_number(text)


@given(st.integers(min_value=12, max_value=18), st.randoms(use_true_random=False),
       st.text(alphabet="abc xyz,.", max_size=20), st.text(alphabet="abc xyz,.", max_size=20),
       st.sampled_from(["", " ", "-"]))
def test_any_luhn_valid_13_to_19_digits_are_found_in_any_text(length, rnd, before, after, separator):
    body = "".join(rnd.choice("0123456789") for _ in range(length))
    number = _with_check_digit(body)
    written = separator.join(number[i:i + 4] for i in range(0, len(number), 4))
    assert contains_card_number(f"{before} {written} {after}")


@given(st.integers(min_value=13, max_value=19), st.randoms(use_true_random=False))
def test_changing_one_digit_of_a_card_number_makes_it_pass(length, rnd):
    number = _with_check_digit("".join(rnd.choice("0123456789") for _ in range(length - 1)))
    position = rnd.randrange(length)
    wrong = number[:position] + str((int(number[position]) + rnd.randrange(1, 10)) % 10) + number[position + 1:]
    assert not luhn_ok(wrong)
    assert not contains_card_number(wrong)


@given(st.text(max_size=200))
def test_never_raises_on_any_text(text):
    assert contains_card_number(text) in (True, False)


def test_non_text_is_not_a_card_number():
    assert not contains_card_number(None)
    assert not contains_card_number(4242424242424242)


def test_refusal_names_the_first_field_holding_a_card_number():
    refusal = refusal_for({"ship_name": "Anne Dupont", "ship_street": "Rue 1 / 4242 4242 4242 4242",
                           "note": "4000000000000341"})
    assert refusal is not None
    assert (refusal.code, refusal.field) == (ErrorCode.CARD_NUMBER_IN_TEXT, "ship_street")
    assert refusal_for({"ship_name": "Anne Dupont"}) is None
    assert set(field_errors({"a": "x", "b": "4242424242424242", "c": "5555 5555 5555 4444"})) == {"b", "c"}


def test_random_luhn_numbers_are_always_found():
    rnd = random.Random(7)
    for _ in range(200):
        number = _with_check_digit("".join(rnd.choice("0123456789") for _ in range(rnd.randint(12, 18))))
        assert contains_card_number(f"note {number} end")
