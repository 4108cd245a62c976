"""Step 2 of the checkout: the order information, checked field by field (GTC-3.5, GTC-2.2).

Wrong information (a bad email, a phone number that does not exist for the country, an address
the carrier cannot deliver) is caught here, each error at its own field, before anything is ordered.
"""

from __future__ import annotations

from datetime import date

import pytest

from storefront.domain.majority import check_majority
from storefront.domain.markets import country
from storefront.domain.order_info import Address, OrderInfo, area_choices, validate

COMPANY = "Orders can only be placed by private individuals, not companies."
PHONE = "Please enter a valid phone number, with the country code if it is not the delivery country's."


def swiss(**overrides) -> dict:
    form = dict(
        email="Anna.Keller@EXAMPLE.ch", phone="044 668 18 00", full_name="  Anna   Keller ", birth_date="1985-04-12",
        ship_name="Anna Keller", ship_street="Bahnhofstrasse 12", ship_city="Zürich", ship_postal_code="8001",
        ship_area="", ship_country="CH",
    )
    form.update(overrides)
    return form


def american(**overrides) -> dict:
    form = swiss(phone="(212) 555-0187", ship_street="350 Fifth Avenue", ship_city="New York",
                 ship_postal_code="10118", ship_area="NY", ship_country="US")
    form.update(overrides)
    return form


# -- valid forms are normalised ------------------------------------------------------------------


@pytest.mark.clause("GTC-3.4")
def test_valid_swiss_form_is_normalised():
    info, errors = validate(swiss())

    assert errors == {}
    assert isinstance(info, OrderInfo)
    assert info.email == "Anna.Keller@example.ch"  # domain lower-cased, local part kept
    assert info.phone == "+41446681800"  # E.164, national number read for the delivery country
    assert info.full_name == "Anna Keller"  # surplus spaces removed
    assert info.birth_date == date(1985, 4, 12)
    assert info.shipping == Address("Anna Keller", "Bahnhofstrasse 12", "Zürich", "8001", "", "CH")
    assert info.billing == info.shipping  # billing same as delivery by default


@pytest.mark.clause("GTC-3.4")
def test_valid_us_form_is_normalised_with_state_and_upper_case_city():
    info, errors = validate(american(ship_area="ny"))

    assert errors == {}
    assert info.phone == "+12125550187"
    assert info.shipping.area == "NY" and info.shipping.city == "NEW YORK" and info.shipping.country == "US"
    assert info.shipping.lines()[-1] == "UNITED STATES"


@pytest.mark.clause("GTC-3.4")
def test_separate_billing_address_is_validated_and_kept():
    info, errors = validate(swiss(billing_same=False, bill_name="Anna Keller", bill_street="Unter den Linden 1",
                                  bill_city="Berlin", bill_postal_code="10117", bill_country="DE"))

    assert errors == {}
    assert info.billing == Address("Anna Keller", "Unter den Linden 1", "BERLIN", "10117", "", "DE")
    assert info.shipping.country == "CH"


@pytest.mark.clause("GTC-3.4")
def test_phone_from_abroad_is_accepted_with_its_country_code():
    info, errors = validate(american(phone="+41 44 668 18 00"))

    assert errors == {} and info.phone == "+41446681800"


# -- wrong information: one error per field (GTC-3.5) -------------------------------------------


@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize("email", ["anna@", "anna.keller", "anna keller@example.ch", "", "a@b@example.ch"])
def test_bad_email_is_refused_at_its_field(email):
    info, errors = validate(swiss(email=email))

    assert info is None
    assert errors == {"email": "Please enter a valid email address."}


@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize(
    "form",
    [
        pytest.param(swiss(phone="12345"), id="too-short"),
        pytest.param(swiss(phone="044 668 18"), id="swiss-number-missing-digits"),
        pytest.param(american(phone="030 1234567"), id="german-national-number-for-a-us-delivery"),
        pytest.param(american(phone="044 668 18 00"), id="swiss-national-number-for-a-us-delivery"),
        pytest.param(swiss(phone="+1 212 555"), id="foreign-number-incomplete"),
        pytest.param(swiss(phone=""), id="missing"),
    ],
)
def test_phone_number_that_does_not_exist_for_the_country_is_refused(form):
    info, errors = validate(form)

    assert info is None
    assert errors == {"phone": PHONE}


@pytest.mark.clause("GTC-3.5")
def test_missing_postal_code_is_required():
    info, errors = validate(swiss(ship_postal_code=""))

    assert info is None
    assert errors == {"ship_postal_code": "This field is required."}


@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize("form", [swiss(ship_postal_code="80011"), american(ship_postal_code="1011")],
                         ids=["CH-five-digits", "US-four-digits"])
def test_postal_code_that_does_not_exist_in_the_country_is_refused(form):
    info, errors = validate(form)

    assert info is None
    assert errors == {"ship_postal_code": "This value is not valid here."}


@pytest.mark.clause("GTC-3.5")
def test_us_state_is_required_and_must_be_a_real_state():
    assert validate(american(ship_area=""))[1] == {"ship_area": "This field is required."}
    assert validate(american(ship_area="XX"))[1] == {"ship_area": "This value is not valid here."}
    assert ("NY", "New York (NY)") in area_choices("US")
    assert area_choices("CH") == []  # Swiss addresses need no canton


@pytest.mark.clause("GTC-3.5")
def test_missing_street_city_and_recipient_are_each_reported():
    info, errors = validate(swiss(ship_street="", ship_city="", ship_name=""))

    assert info is None
    assert errors == {"ship_street": "This field is required.", "ship_city": "This field is required.",
                      "ship_name": "Please enter the recipient's full name."}


@pytest.mark.clause("GTC-3.5")
def test_several_wrong_fields_are_reported_together():
    info, errors = validate(swiss(email="nope", phone="1", birth_date="12/04/1985", full_name="A"))

    assert info is None
    assert set(errors) == {"email", "phone", "birth_date", "full_name"}
    assert errors["birth_date"] == "Please enter your date of birth."
    assert errors["full_name"] == "Please enter your full name."


@pytest.mark.clause("GTC-3.5")
def test_untrusted_input_shapes_do_not_crash():
    assert validate(None)[0] is None
    info, errors = validate(swiss(full_name=["Anna"], email={"x": 1}, ship_city=None))
    assert info is None and {"full_name", "email", "ship_city"} <= set(errors)


# -- natural persons only (GTC-2.2) ------------------------------------------------------------


@pytest.mark.clause("GTC-2.2")
@pytest.mark.parametrize("name", ["Keller Trading AG", "Acme Watches Ltd.", "Horlogerie Dupont SA", "Müller & Co. KG",
                                  "Bright Holdings LLC"])
def test_company_name_is_refused_as_buyer(name):
    info, errors = validate(swiss(full_name=name))

    assert info is None
    assert errors == {"full_name": COMPANY}


@pytest.mark.clause("GTC-2.2")
def test_company_as_billing_party_is_refused():
    info, errors = validate(swiss(billing_same=False, bill_name="Keller Holding AG", bill_street="Bahnhofstrasse 12",
                                  bill_city="Zürich", bill_postal_code="8001", bill_country="CH"))

    assert info is None
    assert errors == {"bill_name": COMPANY}


@pytest.mark.clause("GTC-2.2")
def test_company_recipient_is_reported_at_the_visible_field_when_billing_is_the_delivery_address():
    """With 'billing same as delivery' only the delivery fields are on screen, so the error must be there."""
    info, errors = validate(swiss(ship_name="Keller Holding AG"))

    assert info is None
    assert errors == {"ship_name": COMPANY}


@pytest.mark.clause("GTC-2.2")
def test_names_that_merely_contain_legal_form_letters_are_people():
    for name in ("Agatha Sauer", "Sakura Coe", "Ingrid Kgosi", "Corinne Agassi"):
        info, errors = validate(swiss(full_name=name, ship_name=name))
        assert errors == {}, name


@pytest.mark.clause("GTC-2.2")
def test_a_minor_passes_the_form_and_is_stopped_by_the_age_check_of_the_delivery_country():
    """The form only checks the date is a date; the age of majority is the delivery country's (checked at step 2 and 5)."""
    info, errors = validate(swiss(birth_date="2010-06-01"))
    assert errors == {} and info.birth_date == date(2010, 6, 1)

    refusal = check_majority(info.birth_date, country("CH"), date(2026, 3, 1))
    assert refusal.startswith("You must be at least 18 to order.")
    assert "parent or guardian" in refusal
    assert check_majority(date(2005, 6, 1), country("AE"), date(2026, 3, 1)).startswith("You must be at least 21")
    assert check_majority(date(2005, 6, 1), country("CH"), date(2026, 3, 1)) is None


# -- the region of a country with sanctioned regions (PAY-7) -------------------------------------

REGION = "Please choose your region from the list."


def ukrainian(**overrides) -> dict:
    form = swiss(phone="+380 44 123 4567", ship_street="Khreshchatyk 1", ship_city="Kyiv", ship_postal_code="01001",
                 ship_area="місто Київ", ship_country="UA")
    form.update(overrides)
    return form


@pytest.mark.clause("PAY-7")
def test_a_ukrainian_address_must_name_its_region_from_the_list():
    """Ukraine's post needs no region, but the shop does: the region is one way Crimea is recognised."""
    values = [value for value, _label in area_choices("UA")]
    assert "Автономна Республіка Крим" in values and "місто Київ" in values and len(values) == 27
    assert validate(ukrainian(ship_area="")) == (None, {"ship_area": REGION})
    info, errors = validate(ukrainian())
    assert errors == {} and info.shipping.area == "місто Київ"


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("area", ["UA-99", "<script>alert(1)</script>", "x" * 5000, "Narnia"])
def test_a_crafted_region_gets_the_same_clear_message_at_its_field(area):
    assert validate(ukrainian(ship_area=area)) == (None, {"ship_area": REGION})


@pytest.mark.clause("PAY-7")
def test_a_ukrainian_billing_address_must_name_its_region_too():
    form = swiss(billing_same=False, bill_name="Anna Keller", bill_street="Khreshchatyk 1", bill_city="Kyiv",
                 bill_postal_code="01001", bill_area="", bill_country="UA")
    assert validate(form) == (None, {"bill_area": REGION})
    assert ("місто Київ", "Kyiv city (місто Київ)") in area_choices("UA")
