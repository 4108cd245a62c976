import pytest

from storefront.domain.screening import SdnEntry, Verdict, normalise, prepare, screen, variants


def person(uid, name, *aliases):
    return SdnEntry(uid, name, tuple(aliases), "SDGT", "individual")


LIST = prepare([
    person("1", "DRAKOVIC, Milan"),
    person("2", "AL-FAROUK, Tariq", "AL-FARUQ, Tariq Hassan", "ABU HASSAN AL-FAROUK"),
    person("3", "MUELLER, Jose"),
    person("4", "MÜLLER, Anselm"),
    person("5", "BELTRAMOV, Arkady Sergeyevich"),
    person("6", "TESSARIN, Viktor"),
    SdnEntry("7", "JOHN SMITHSON ENTERPRISES", (), "SDGT", "entity"),
    SdnEntry("8", "ZEPHYR NOVAK", (), "IRAN", "vessel"),
    SdnEntry("9", "KORVANEK TRADING LLC", ("KORVANEK TRADE CO.",), "RUSSIA-EO14024", "entity"),
])


@pytest.mark.clause("PAY-7")
def test_normalise_strips_accents_case_and_punctuation():
    assert normalise("  José   MÜLLER-Dupont, Jr. ") == "jose muller dupont jr"
    assert normalise("Straße Łukasz Đorđević Bjørn Æsa Þór") == "strasse lukasz dordevic bjorn aesa thor"
    assert normalise("O'Brien") == normalise("O’Brien") == "obrien"
    assert normalise("ＭＩＬＡＮ") == "milan"  # full-width letters (NFKD)


@pytest.mark.clause("PAY-7")
def test_umlauts_have_both_renderings():
    assert variants("José Müller") == ("jose mueller", "jose muller")
    assert variants("MULLER, Jose") == ("jose muller",)


@pytest.mark.clause("PAY-7")
def test_exact_name_matches():
    result = screen("Milan Drakovic", LIST)
    assert result.verdict is Verdict.MATCH and result.score == 100
    assert result.entry.uid == "1" and result.matched_name == "DRAKOVIC, Milan"


@pytest.mark.clause("PAY-7")
def test_comma_inverted_order_and_case_and_punctuation_do_not_matter():
    for name in ["DRAKOVIC, Milan", "milan drakovic", "  Milan   DRAKOVIĆ!! ", "Drakovic Milan"]:
        assert screen(name, LIST).verdict is Verdict.MATCH, name


@pytest.mark.clause("PAY-7")
def test_aliases_match():
    result = screen("Tariq Hassan Al-Faruq", LIST)
    assert result.verdict is Verdict.MATCH and result.matched_name == "AL-FARUQ, Tariq Hassan"
    assert screen("Abu Hassan al Farouk", LIST).entry.uid == "2"
    assert screen("Korvanek Trade Co", LIST).verdict is Verdict.MATCH


@pytest.mark.clause("PAY-7")
def test_umlaut_written_u_or_ue_matches_either_way():
    for name in ["José Müller", "Jose Mueller", "Jose Muller", "MÜLLER José"]:
        result = screen(name, LIST)
        assert result.verdict is Verdict.MATCH and result.entry.uid == "3", name
    mixed = prepare([person("10", "MULLER, Jose")])
    assert screen("José Müller", mixed).verdict is Verdict.MATCH
    for name in ["Anselm Mueller", "Anselm Muller"]:  # listed as MÜLLER
        assert screen(name, LIST).entry.uid == "4", name


@pytest.mark.clause("PAY-7")
def test_near_spellings_and_partial_names_are_possible_matches_for_review():
    close = screen("Victor Tessarin", LIST)
    assert close.verdict is Verdict.POSSIBLE and close.entry.uid == "6"
    partial = screen("Arkady Beltramov", LIST)  # listed with a patronymic
    assert partial.verdict is Verdict.POSSIBLE and partial.entry.uid == "5"
    assert screen("Korvanek Trading", LIST).verdict is Verdict.POSSIBLE


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("name", [
    "Milan",  # a first name alone
    "Milan Petrovic",  # same first name, different surname
    "Tariq Mansour",
    "Hassan Tariq",  # given names of an alias, without its surname
    "John Smith",  # versus JOHN SMITHSON ENTERPRISES
    "Jose Martinez",
    "Anna Müller",
])
def test_near_misses_stay_clear(name):
    result = screen(name, LIST)
    assert result.verdict is Verdict.CLEAR, (name, result)
    assert result.entry is None and result.score < 85


@pytest.mark.clause("PAY-7")
def test_vessels_and_aircraft_are_not_screened_against_buyers():
    assert screen("Zephyr Novak", LIST).verdict is Verdict.CLEAR
    assert len(prepare([SdnEntry("8", "ZEPHYR NOVAK", (), "IRAN", "vessel")]).forms) == 0


@pytest.mark.clause("PAY-7")
def test_unprepared_entries_are_accepted_and_an_empty_name_is_refused():
    assert screen("Milan Drakovic", [person("1", "DRAKOVIC, Milan")]).verdict is Verdict.MATCH
    with pytest.raises(ValueError):
        screen(" ,. ", LIST)
