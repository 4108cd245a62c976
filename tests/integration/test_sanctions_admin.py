"""Importing the OFAC SDN list as staff work (issue 10 § 3, PAY-7): the three published files are read
strictly, a malformed or truncated file is refused with the line that failed and the list in force stays,
an accepted import records its version and screens the open orders again, and every attempt is audited.

The tests share the session's database: each restores the bundled sample list when it ends.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.sanctions_csv import load_sample, sample_dir
from storefront.adapters.tables import Order, SdnEntry as SdnRow, StaffAuditEntry
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderEvent as E, OrderStatus
from storefront.domain.staff import Role
from storefront.services import payment, sanctions, sanctions_admin
from storefront.services.order_admin import ActionRefused
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, order_row, staff_member

pytestmark = [pytest.mark.usefixtures("database"), pytest.mark.clause("PAY-7")]

EOF_MARK = b"\x1a"
NEW_ENTRY = (b'91990,"VELMORA, Kasimir","individual","CYBER2","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ",'
             b'"FICTIONAL TEST ENTRY."\r\n')
NEW_ALIAS = b'91990,9190,"aka","VELMORA, Kasimir Anton","-0- "\r\n'
NEW_ADDRESS = b'91990,9290,"14 Imaginary Row","Port Nowhere","Fictonia","-0- "\r\n'


def _sample(name: str) -> bytes:
    return (sample_dir() / name).read_bytes().rstrip(EOF_MARK).rstrip(b"\r\n") + b"\r\n"


def files(extra_sdn: bytes = NEW_ENTRY, extra_alt: bytes = NEW_ALIAS, extra_add: bytes = NEW_ADDRESS,
          end: bytes = EOF_MARK) -> dict[str, bytes]:
    """The sample list with one more entry, in the published form."""
    return {"sdn": _sample("sdn.csv") + extra_sdn + end, "alt": _sample("alt.csv") + extra_alt + end,
            "add": extra_add + end}


@pytest.fixture(autouse=True)
def sample_list_restored():
    yield
    sanctions.replace_list(load_sample())


def listed_uids() -> set[str]:
    with Session(get_engine()) as s:
        return set(s.exec(select(SdnRow.uid)).all())


def audit_of(action: str) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.action == action)
                           .order_by(StaffAuditEntry.id)).all())


def test_an_import_replaces_the_list_records_its_version_and_is_audited():
    officer = staff_member(Role.COMPLIANCE)

    result = sanctions_admin.import_list(UnitOfWork(), staff=officer, published="2026-11-20", ip="203.0.113.9",
                                         **files())

    assert result.entry_count == len(load_sample()) + 1
    assert "91990" in listed_uids()
    with Session(get_engine()) as s:
        row = s.get(SdnRow, "91990")
        assert (row.name, row.aliases, row.addresses, row.programs) == (
            "VELMORA, Kasimir", ["VELMORA, Kasimir Anton"], ["14 Imaginary Row, Port Nowhere, Fictonia"], "CYBER2")
    version = sanctions_admin.current_version(UnitOfWork())
    assert (version.id, version.published, version.entry_count, version.imported_by, version.imported_via) == (
        result.version_id, "2026-11-20", result.entry_count, officer.email, "upload")
    entry = audit_of("sanctions.import")[-1]
    assert (entry.staff_id, entry.outcome, entry.subject, entry.ip) == (
        officer.staff_id, "done", f"sanctions:{result.version_id}", "203.0.113.9")
    assert entry.after["entries"] == result.entry_count and entry.after["published"] == "2026-11-20"


@pytest.mark.parametrize(("broken", "code", "file", "line"), [
    pytest.param(lambda f: {**f, "sdn": f["sdn"].replace(b'"-0- ","FICTIONAL TEST ENTRY."', b'"FICTIONAL"')},
                 ErrorCode.SANCTIONS_FILE_MALFORMED, "sdn.csv", 17, id="sdn-field-missing"),
    pytest.param(lambda f: {**f, "alt": b"x" + f["alt"]}, ErrorCode.SANCTIONS_FILE_MALFORMED, "alt.csv", 1,
                 id="alt-entry-number-not-a-number"),
    pytest.param(lambda f: {**f, "add": b'91999,9291,"1 Nowhere","Town","Land","-0- "\r\n' + f["add"]},
                 ErrorCode.SANCTIONS_FILE_MALFORMED, "add.csv", 1, id="address-of-an-unknown-entry"),
    pytest.param(lambda f: {**f, "sdn": f["sdn"][:-60]}, ErrorCode.SANCTIONS_FILE_TRUNCATED, "sdn.csv", 17,
                 id="sdn-cut-mid-record"),
    pytest.param(lambda f: {**f, "sdn": f["sdn"][:f["sdn"].index(b"\r\n") + 2]}, ErrorCode.SANCTIONS_FILE_TRUNCATED,
                 "sdn.csv", 1, id="sdn-cut-at-a-line-end"),
    pytest.param(lambda f: {**f, "alt": f["alt"][:-1]}, ErrorCode.SANCTIONS_FILE_TRUNCATED, "alt.csv", 9,
                 id="alt-without-its-end-mark"),
])
def test_a_malformed_or_truncated_file_is_refused_with_its_line_and_the_list_in_force_stays(broken, code, file,
                                                                                              line):
    officer = staff_member(Role.COMPLIANCE)
    before, version_before = listed_uids(), sanctions_admin.current_version(UnitOfWork())
    refused_before = len([e for e in audit_of("sanctions.import") if e.outcome == "failed"])

    with pytest.raises(ActionRefused) as caught:
        sanctions_admin.import_list(UnitOfWork(), staff=officer, **broken(files()))

    assert caught.value.refusal.code is code
    assert (caught.value.refusal.params["file"], caught.value.refusal.params.get("line")) == (file, line)
    assert f"line {line}" in caught.value.refusal.message
    assert listed_uids() == before and "91990" not in before
    assert sanctions_admin.current_version(UnitOfWork()) == version_before
    refused = [e for e in audit_of("sanctions.import") if e.outcome == "failed"]
    assert len(refused) == refused_before + 1 and refused[-1].detail == code.value
    assert refused[-1].staff_id == officer.staff_id


def test_a_bad_publication_date_is_refused_before_anything_changes():
    before = listed_uids()
    with pytest.raises(ActionRefused) as caught:
        sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), published="20 Nov", **files())
    assert caught.value.refusal.code is ErrorCode.SANCTIONS_PUBLISHED_INVALID
    assert listed_uids() == before


def test_after_an_import_open_orders_newly_matching_enter_the_compliance_queue(
        make_product, place, card_token, stripe_gateway):
    pending = place({make_product(): 1}, buyer(name="Kasimir Velmora")).reference
    held = place({make_product(): 1}, buyer(name="Kasimir Velmora")).reference
    assert payment.authorize(UnitOfWork(), held, card_token(), gw=stripe_gateway, browser=None).status == "held"
    unrelated = place({make_product(): 1}, buyer(name="Anna Keller")).reference
    assert order_row(held).status == OrderStatus.AWAITING_APPROVAL
    assert order_row(pending).screening["verdict"] == "clear"

    result = sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **files())

    assert set(result.flagged) >= {pending, held} and unrelated not in result.flagged
    # awaiting approval stops in compliance review, listed for compliance with what matched
    assert order_row(held).status == OrderStatus.COMPLIANCE_REVIEW
    assert order_row(held).screening["status_then"] == OrderStatus.AWAITING_APPROVAL
    assert held in [f.reference for f in sanctions_admin.flagged_orders(UnitOfWork())]
    assert [e for e in events_of(held) if e.type == E.COMPLIANCE_HOLD][-1].data["entry"] == "91990"
    # not yet paid: once the card is held, the order goes to compliance review rather than awaiting approval
    assert order_row(pending).screening["entry"] == "91990"
    assert [e.type for e in events_of(pending)].count(E.COMPLIANCE_HOLD) == 1
    assert payment.authorize(UnitOfWork(), pending, card_token(), gw=stripe_gateway, browser=None).status == "held"
    assert order_row(pending).status == OrderStatus.COMPLIANCE_REVIEW
    assert order_row(unrelated).screening["verdict"] == "clear"
    with Session(get_engine()) as s:
        entry = sanctions_admin.matched_entry(s, s.exec(select(Order).where(Order.reference == pending)).one())
    assert (entry.name, entry.aliases, entry.addresses, entry.programs) == (
        "VELMORA, Kasimir", ["VELMORA, Kasimir Anton"], ["14 Imaginary Row, Port Nowhere, Fictonia"], "CYBER2")
    # the reviewer's view on the order page reads the same entry; an order matching nothing shows none
    assert sanctions_admin.matched_entry_of(UnitOfWork(), pending) == entry
    assert sanctions_admin.matched_entry_of(UnitOfWork(), unrelated) is None

    # the same list imported again finds nothing new
    again = sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **files())
    assert pending not in again.flagged and held not in again.flagged
    assert [e.type for e in events_of(held)].count(E.COMPLIANCE_HOLD) == 1


def test_the_command_imports_the_files_as_the_command_line(tmp_path, capsys):
    from storefront.__main__ import main

    for name, raw in files().items():
        (tmp_path / f"{name}.csv").write_bytes(raw)
    main(["sanctions", "load", str(tmp_path / "sdn.csv"), str(tmp_path / "alt.csv"), "--add", str(tmp_path / "add.csv"),
          "--published", "2026-11-21"])

    assert "91990" in listed_uids()
    version = sanctions_admin.current_version(UnitOfWork())
    assert (version.imported_via, version.imported_by, version.published) == ("command", "command line", "2026-11-21")
    assert audit_of("sanctions.import")[-1].staff_id is None
