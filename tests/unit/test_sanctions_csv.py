import csv
import io

import pytest

from storefront.adapters.sanctions_csv import decode, load_sample, load_sdn, parse_alt, parse_sdn, sample_dir
from storefront.domain.screening import Verdict, prepare, screen


@pytest.mark.clause("PAY-7")
def test_sample_files_are_in_the_published_format():
    raw = (sample_dir() / "sdn.csv").read_bytes()
    assert raw.endswith(b"\x1a") and b"\r\n" in raw and b'"-0- "' in raw
    assert not raw.startswith(b"ent_num")  # no header row
    rows = [r for r in csv.reader(io.StringIO(decode(raw).replace("\x1a", ""))) if r]
    assert rows and all(len(r) == 12 and r[0].isdigit() for r in rows)
    alt_rows = [r for r in csv.reader(io.StringIO(decode((sample_dir() / "alt.csv").read_bytes()))) if r[0].isdigit()]
    assert alt_rows and all(len(r) == 5 and r[1].isdigit() for r in alt_rows)


@pytest.mark.clause("PAY-7")
def test_sample_list_parses_with_aliases_kinds_and_programs():
    entries = {e.uid: e for e in load_sample()}
    assert len(entries) >= 15
    assert entries["91001"].name == "DRAKOVIC, Milan" and entries["91001"].kind == "individual"
    assert entries["91002"].kind == "entity"  # SDN_Type "-0-"
    assert entries["91002"].aliases == ("KORVANEK TRADE CO.", "KORVANEK IMPORT-EXPORT LLC")
    assert entries["91003"].programs == "SDGT; IRAN"
    assert entries["91004"].kind == "vessel" and entries["91016"].kind == "aircraft"
    assert entries["91010"].name == "ØSTERGÅRD, Bjørn"  # cp1252 decoded
    assert entries["91001"].aliases == ()


@pytest.mark.clause("PAY-7")
def test_null_markers_padding_and_eof_byte_are_tolerated():
    sdn = ('7,"SAMPLE, Person","individual","SDGT","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- "\r\n'
           '8,"SAMPLE CORP"," -0- ","IRAN","-0-"\r\n'  # short row, padded null marker
           '\r\n\x1a')
    alt = '8,2,"aka","SAMPLE CO.","-0- "\n8,1,"fka","OLD SAMPLE CORP","-0- "\n8,3,"aka","-0- ","-0- "\n\x1a'
    entries = parse_sdn(sdn, parse_alt(alt))
    assert [(e.uid, e.kind) for e in entries] == [("7", "individual"), ("8", "entity")]
    assert entries[1].aliases == ("OLD SAMPLE CORP", "SAMPLE CO.")  # alt_num order, nulls dropped


@pytest.mark.clause("PAY-7")
def test_decoding_is_lenient():
    assert decode("Müller".encode("utf-8")) == "Müller"
    assert decode("Müller".encode("cp1252")) == "Müller"
    assert decode(b"caf\xe9 \x81") == "café \x81"  # byte undefined in cp1252 falls back to latin-1


@pytest.mark.clause("PAY-7")
def test_loading_from_paths_and_screening_the_sample(tmp_path):
    (tmp_path / "sdn.csv").write_bytes((sample_dir() / "sdn.csv").read_bytes())
    assert len(load_sdn(tmp_path / "sdn.csv")) == len(load_sample())
    listed = prepare(load_sample())
    assert screen("Milan Drakovic", listed).verdict is Verdict.MATCH
    assert screen("Tariq Al-Farouk", listed).verdict is Verdict.MATCH
    assert screen("Bjorn Ostergard", listed).verdict is Verdict.MATCH
    assert screen("Lothar Gruenwald-Escobar", listed).verdict is Verdict.MATCH
    assert screen("Arkady Beltramov", listed).verdict is Verdict.POSSIBLE
    assert screen("Zephyr Novak", listed).verdict is Verdict.CLEAR  # a vessel
    assert screen("Anna Keller", listed).verdict is Verdict.CLEAR
