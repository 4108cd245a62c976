"""Sanctioned destinations (PAY-7): whole countries, and regions found by region, postcode or place name."""

import pytest

from storefront.domain.destinations import (
    SanctionedDestination,
    address_refusal,
    barred_destination,
    default_destinations,
    names_place,
    place_key,
    region_code,
)
from storefront.domain.errors import ErrorCode

DEST = default_destinations()
UA_REGIONS = [d for d in DEST if d.country == "UA" and d.region]


def barred(country, area="", postal="", city="", destinations=DEST):
    """(name of the barred place, field that gave it away), or None."""
    found = barred_destination(country, area, postal, city, destinations)
    return (found.destination.name, found.field) if found else None


def place_named(city: str) -> list[str]:
    return [d.name for d in UA_REGIONS if names_place(city, d.places)]


@pytest.mark.clause("PAY-7")
def test_defaults_list_the_embargoed_countries_and_the_ofac_regions_of_ukraine():
    countries = {d.country for d in DEST if d.region is None}
    assert countries == {"CU", "IR", "KP", "SY"}
    assert {d.region for d in UA_REGIONS} == {"UA-43", "UA-40", "UA-14", "UA-09"}
    # Zaporizhzhia (UA-23) and Kherson (UA-65) are not OFAC-covered regions: they stay deliverable.
    assert not {"UA-23", "UA-65"} & {d.region for d in DEST}
    assert all(d.programme for d in DEST)  # each row says which OFAC programme it comes from


@pytest.mark.clause("PAY-7")
def test_whole_countries_are_refused_at_the_country_field():
    assert barred("IR", postal="11369") == ("Iran", "country")
    assert barred("cu") == ("Cuba", "country")
    assert barred(" KP ", city="Pyongyang") == ("North Korea", "country")


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("area, expected", [
    ("UA-43", "Crimea"), ("43", "Crimea"), ("ua-43", "Crimea"),
    ("Автономна Республіка Крим", "Crimea"), ("Crimea", "Crimea"),  # the address data's key and Latin name
    ("місто Севастополь", "Sevastopol"), ("UA-40", "Sevastopol"),
    ("Донецька область", "Donetsk"), ("UA-14", "Donetsk"),
    ("Луганська область", "Luhansk"), ("09", "Luhansk"),
])
def test_a_region_is_refused_by_the_region_chosen(area, expected):
    assert barred("UA", area=area, postal="01001", city="Kyiv") == (expected, "area")


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("postal, expected", [
    ("95000", "Crimea"), ("98600", "Crimea"), ("99011", "Sevastopol"), ("83 001", "Donetsk"), ("84300", "Donetsk"),
    ("91000", "Luhansk"),
])
def test_a_region_is_refused_by_postcode_whatever_region_is_claimed(postal, expected):
    assert barred("UA", area="місто Київ", postal=postal, city="Kyiv") == (expected, "postal_code")


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("city, expected", [
    ("Simferopol", "Crimea"), ("Сімферополь", "Crimea"), ("Симферополь", "Crimea"), ("SIMFEROPOL'", "Crimea"),
    ("м. Сімферополь", "Crimea"), ("г. Симферополь", "Crimea"), ("Simferopil", "Crimea"),
    ("Kerch", "Crimea"), ("Керчь", "Crimea"), ("Yalta", "Crimea"), ("Evpatoriya", "Crimea"), ("Feodosiya", "Crimea"),
    ("Sevastopol", "Sevastopol"), ("Севастополь", "Sevastopol"), ("Sevastopol city", "Sevastopol"),
    ("Balaklava", "Sevastopol"),
    ("Donetsk", "Donetsk"), ("Донецьк", "Donetsk"), ("Донецк", "Donetsk"), ("Makiivka", "Donetsk"),
    ("Makeyevka", "Donetsk"), ("Макеевка", "Donetsk"), ("Horlivka", "Donetsk"), ("Gorlovka", "Donetsk"),
    ("Горлівка", "Donetsk"), ("Mariupol'", "Donetsk"), ("Enakievo", "Donetsk"),
    ("Luhansk", "Luhansk"), ("Lugansk", "Luhansk"), ("Луганськ", "Luhansk"), ("Луганск", "Luhansk"),
    ("Alchevsk", "Luhansk"), ("Алчевськ", "Luhansk"), ("Krasny Luch", "Luhansk"), ("Stanytsia Luhanska", "Luhansk"),
])
def test_a_region_is_refused_by_town_name_in_any_script_or_common_spelling(city, expected):
    # The region and postcode claim Kyiv: only the town gives the address away.
    assert barred("UA", area="місто Київ", postal="01001", city=city) == (expected, "city")


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("city", [
    "Kyiv", "Kiev", "Київ", "Odesa", "Odessa", "Одеса", "Lviv", "Lvov", "Kharkiv", "Харьков", "Dnipro", "Dnepr",
    "Dnipropetrovsk", "Zaporizhzhia", "Запоріжжя", "Zaporozhye", "Kherson", "Херсон", "Melitopol", "Berdiansk",
    "Henichesk", "Nova Kakhovka", "Enerhodar", "Mykolaiv", "Nikolaev", "Chornomorsk", "Pervomaisk", "Pokrov",
    "Krymka", "Balta", "Kamianske", "Vilnohirsk", "Bryansk", "Kryvyi Rih", "Kremenchuk", "Izium", "Lutsk", "Sumy",
    "Poltava", "Vinnytsia", "Bila Tserkva", "Kropyvnytskyi", "Kirovohrad", "Ivano-Frankivsk", "Uzhhorod",
])
def test_towns_elsewhere_in_ukraine_are_not_mistaken_for_sanctioned_ones(city):
    assert place_named(city) == []
    assert barred("UA", area="місто Київ", postal="01001", city=city) is None


@pytest.mark.clause("PAY-7")
def test_no_other_region_of_ukraine_is_taken_for_a_sanctioned_one():
    for area in ("місто Київ", "Київська область", "Запорізька область", "Херсонська область", "Одеська область",
                 "Харківська область", "Дніпропетровська область", "Zaporiz'ka oblast", "Khersons'ka oblast"):
        assert barred("UA", area=area, postal="01001", city="Kyiv") is None, area


@pytest.mark.clause("PAY-7")
def test_the_same_regions_written_with_russia_as_the_country_are_refused():
    assert barred("RU", area="Республика Крым", postal="295000", city="Симферополь") == ("Crimea", "area")
    assert barred("RU", area="Москва", postal="295000", city="Москва") == ("Crimea", "postal_code")
    assert barred("RU", area="Москва", postal="101000", city="Луганск") == ("Luhansk", "city")
    assert barred("RU", area="Москва", postal="101000", city="Москва") is None  # Russia itself is no OFAC embargo
    assert barred("CH", postal="95000", city="Genève") is None  # the same digits in another country


@pytest.mark.clause("PAY-7")
def test_refusals_carry_the_code_and_the_field_of_the_delivery_or_billing_form():
    ship = address_refusal("UA", "місто Київ", "01001", "Сімферополь", DEST, prefix="ship", billing=False)
    assert (ship.code, ship.field, ship.params) == (ErrorCode.DESTINATION_SANCTIONED, "ship_city", {"place": "Crimea"})
    bill = address_refusal("KP", "", "", "Pyongyang", DEST, prefix="bill", billing=True)
    assert (bill.code, bill.field, bill.params) == (ErrorCode.BILLING_SANCTIONED, "bill_country", {"place": "North Korea"})
    assert address_refusal("UA", "місто Київ", "01001", "Kyiv", DEST, prefix="ship", billing=False) is None
    assert address_refusal("DE", "", "10117", "Berlin", DEST, prefix="bill", billing=True) is None


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("area", ["", "UA-99", "<script>alert(1)</script>", "x" * 5000, "Кримська", "UA-30 OR 1=1"])
def test_an_unknown_region_of_a_country_with_sanctioned_regions_is_sent_back_to_its_field(area):
    refusal = address_refusal("UA", area, "01001", "Kyiv", DEST, prefix="bill", billing=True)
    assert (refusal.code, refusal.field) == (ErrorCode.REGION_NOT_LISTED, "bill_area")


def test_region_codes_and_names_resolve_through_the_address_data():
    assert region_code("UA", "Crimea") == region_code("UA", "43") == region_code("UA", "ua-43") == "UA-43"
    assert region_code("UA", "місто Київ") == "UA-30"
    assert region_code("UA", "UA-99") is None and region_code("<script>", "43") is None
    assert place_key("Слов'янськ") == place_key("Словʼянськ") == "slovyansk"


@pytest.mark.clause("PAY-7")
def test_an_edited_list_is_honoured():
    edited = (*DEST, SanctionedDestination("ZZ", None, "Testland"))
    assert barred("ZZ", destinations=edited) == ("Testland", "country")
    assert barred("IR", destinations=()) is None
    assert barred("UA", city="Simferopol", destinations=()) is None
