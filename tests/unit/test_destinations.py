import pytest

from storefront.domain.destinations import SanctionedDestination, default_destinations, destination_refusal

DEST = default_destinations()


@pytest.mark.clause("PAY-7")
def test_defaults_list_the_sanctioned_countries_and_regions():
    countries = {d.country for d in DEST if d.region is None}
    regions = {d.region: d for d in DEST if d.region}
    assert countries == {"CU", "IR", "KP", "SY"}
    assert set(regions) == {"UA-43", "UA-40", "UA-14", "UA-09"}
    assert regions["UA-43"].postal_prefixes == ("95", "96", "97", "98")
    assert regions["UA-09"].postal_prefixes == ("91", "92", "93", "94")


@pytest.mark.clause("PAY-7")
def test_whole_countries_are_refused_neutrally():
    assert destination_refusal("IR", None, "11369", DEST) == "We cannot deliver to Iran."
    assert destination_refusal("cu", "", "", DEST) == "We cannot deliver to Cuba."
    assert destination_refusal("KP", None, None, DEST) == "We cannot deliver to North Korea."


@pytest.mark.clause("PAY-7")
def test_regions_are_refused_by_iso_code_or_by_postal_code():
    assert destination_refusal("UA", "UA-43", "", DEST) == "We cannot deliver to Crimea."
    assert destination_refusal("UA", "43", None, DEST) == "We cannot deliver to Crimea."
    assert destination_refusal("UA", None, "95000", DEST) == "We cannot deliver to Crimea."
    assert destination_refusal("UA", "", "99011", DEST) == "We cannot deliver to Sevastopol."
    assert destination_refusal("UA", None, "83 001", DEST) == "We cannot deliver to Donetsk."
    assert destination_refusal("UA", None, "91000", DEST) == "We cannot deliver to Luhansk."


@pytest.mark.clause("PAY-7")
def test_the_rest_of_the_country_and_other_countries_are_deliverable():
    assert destination_refusal("UA", None, "01001", DEST) is None  # Kyiv
    assert destination_refusal("UA", "UA-30", "79000", DEST) is None  # Lviv
    assert destination_refusal("CH", None, "95000", DEST) is None  # same digits, another country
    assert destination_refusal("DE", None, "10115", DEST) is None


@pytest.mark.clause("PAY-7")
def test_an_edited_list_is_honoured():
    edited = (*DEST, SanctionedDestination("ZZ", None, "Testland"))
    assert destination_refusal("ZZ", None, None, edited) == "We cannot deliver to Testland."
    assert destination_refusal("IR", None, None, ()) is None
