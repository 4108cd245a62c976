"""Terms versions written, published and kept by staff (GTC-1.4, 2.3; issue 10 section 2).

Services against the real database (SQLite, and PostgreSQL with `bash scripts/with-postgres.sh`): drafts
are edited and deleted freely and never public; a version takes effect at its time only; the database
itself refuses to change or delete a published version; bad input is refused field by field with nothing
saved; every action is in the audit log. Then the checkout itself (its Reflex state, driven in this process
on a clock the test moves): a shopper who ticked the box under one version must read and accept the next
one before the order is confirmed, and the order records the version accepted.

Published versions can never be deleted, so each test publishes after every version already in the test
database and at least a year ahead: no other test's "now" ever sees them in force.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from sqlalchemy import func, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import StaffAuditEntry, TermsDraft, TermsVersion
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import Role
from storefront.services import terms_admin
from storefront.adapters import clock as shop_clock
from storefront.services import terms as terms_service
from storefront.services import browser as browser_id
from storefront.services.order_admin import ActionRefused
from storefront.services.seed import terms_hash
from storefront.services.terms_admin import Status, TermsInvalid
from storefront.services.unit_of_work import UnitOfWork
from tests.async_runner import run_async
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import ADDRESSES, PHONES, aware, new_ip, order_row, staff_member

pytestmark = pytest.mark.usefixtures("database")

BODY = "## 1. Scope\n1.1 These terms govern every sale.\n\n## 2. Orders\n2.1 An order is a contract."


def _label(prefix: str = "T") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _slot() -> datetime:
    """A moment after every version published so far, and a year ahead of now."""
    with Session(get_engine()) as s:
        latest = s.exec(select(func.max(TermsVersion.published_at))).one()
    year_ahead = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=365)
    return max(year_ahead, aware(latest) + timedelta(days=1)) if latest else year_ahead


def _counts() -> tuple[int, int, int]:
    with Session(get_engine()) as s:
        return (s.exec(select(func.count()).select_from(TermsDraft)).one(),
                s.exec(select(func.count()).select_from(TermsVersion)).one(),
                s.exec(select(func.count()).select_from(StaffAuditEntry)).one())


def _audit(subject: str) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return s.exec(select(StaffAuditEntry).where(StaffAuditEntry.subject == subject)
                      .order_by(StaffAuditEntry.id)).all()


def _published(admin, *, at: datetime, effective: datetime, body: str = BODY) -> TermsVersion:
    draft = terms_admin.create_draft(UnitOfWork(), version=_label(), title="Terms of sale", body=body, staff=admin)
    return terms_admin.publish(UnitOfWork(), draft.id, draft.revision, effective_at=effective, staff=admin, at=at)


@pytest.fixture(scope="module")
def admin():
    return staff_member(Role.ADMIN)


# -- drafts ---------------------------------------------------------------------------------------


def test_a_draft_is_saved_edited_and_deleted_each_step_audited_with_before_and_after(admin):
    label = _label("D")
    draft = terms_admin.create_draft(UnitOfWork(), version=f"  {label} ", title="Terms  of sale",
                                     body="# Terms\r\nFirst text.   \r\n\r\n", staff=admin, ip="203.0.113.9")
    assert (draft.version, draft.title, draft.body, draft.revision) == (label, "Terms of sale", "# Terms\nFirst text.", 1)

    edited = terms_admin.update_draft(UnitOfWork(), draft.id, 1, version=label, title="Terms of sale",
                                      body=BODY, staff=admin)
    assert edited.revision == 2 and terms_admin.draft(UnitOfWork(), draft.id).body == BODY
    # saving what is already saved changes nothing and writes nothing
    assert terms_admin.update_draft(UnitOfWork(), draft.id, 2, version=label, title="Terms of sale", body=BODY,
                                    staff=admin).revision == 2
    terms_admin.delete_draft(UnitOfWork(), draft.id, 2, staff=admin)
    assert terms_admin.draft(UnitOfWork(), draft.id) is None

    entries = _audit(f"terms_draft:{draft.id}")
    assert [(e.action, e.outcome, e.staff_id) for e in entries] == [
        ("terms.create_draft", "done", admin.staff_id), ("terms.edit_draft", "done", admin.staff_id),
        ("terms.delete_draft", "done", admin.staff_id)]
    created, edit, deleted = entries
    assert created.before is None and created.after["version"] == label and created.ip == "203.0.113.9"
    assert created.after["body_sha256"] == terms_hash("# Terms\nFirst text.")
    assert edit.before["revision"] == 1 and edit.after == {"version": label, "title": "Terms of sale",
                                                             "body_sha256": terms_hash(BODY), "body_chars": len(BODY),
                                                             "revision": 2}
    assert deleted.before["revision"] == 2 and deleted.after is None


@pytest.mark.clause("GTC-1.4")
def test_a_draft_is_never_public(admin):
    draft = terms_admin.create_draft(UnitOfWork(), version=_label("D"), title="Unpublished", body=BODY, staff=admin)
    far = datetime(2999, 1, 1, tzinfo=timezone.utc)

    assert terms_service.view(UnitOfWork(), draft.version, "en_GB", far) is None
    assert draft.version not in [v for v, _ in terms_service.archive(UnitOfWork(), "en_GB", far)]
    assert terms_service.current(UnitOfWork(), far).version != draft.version


@pytest.mark.parametrize("fields, errors", [
    ({"version": ""}, {"version": ErrorCode.TERMS_LABEL_INVALID}),
    ({"version": "2026/07"}, {"version": ErrorCode.TERMS_LABEL_INVALID}),
    ({"version": "x" * 21}, {"version": ErrorCode.TERMS_LABEL_INVALID}),
    ({"version": "a@b.example"}, {"version": ErrorCode.TERMS_LABEL_INVALID}),
    ({"version": "2026-01"}, {"version": ErrorCode.TERMS_LABEL_TAKEN}),  # the seeded version
    ({"title": "   "}, {"title": ErrorCode.TERMS_TITLE_INVALID}),
    ({"title": "t" * 201}, {"title": ErrorCode.TERMS_TITLE_INVALID}),
    ({"body": ""}, {"body": ErrorCode.TERMS_BODY_UNSTRUCTURED}),
    ({"body": "Just a paragraph, no heading."}, {"body": ErrorCode.TERMS_BODY_UNSTRUCTURED}),
    ({"body": "# Only a heading"}, {"body": ErrorCode.TERMS_BODY_UNSTRUCTURED}),
    ({"body": "# Scope\nText.\n##\nMore text."}, {"body": ErrorCode.TERMS_BODY_UNSTRUCTURED}),
    ({"body": "# Scope\n" + "x" * 10_000}, {"body": ErrorCode.TERMS_BODY_TOO_LONG}),
    ({"body": None, "title": 7, "version": ["2026-02"]},
     {"version": ErrorCode.TERMS_LABEL_INVALID, "title": ErrorCode.TERMS_TITLE_INVALID,
      "body": ErrorCode.TERMS_BODY_UNSTRUCTURED}),
], ids=lambda v: ",".join(v) if isinstance(v, dict) else str(v))
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(admin, fields, errors):
    before = _counts()
    typed = {"version": _label("D"), "title": "Terms", "body": BODY, **fields}

    with pytest.raises(TermsInvalid) as refused:
        terms_admin.create_draft(UnitOfWork(), **typed, staff=admin)

    assert {name: r.code for name, r in refused.value.errors.items()} == errors
    assert all(r.message for r in refused.value.errors.values())
    assert _counts() == before


def test_an_edit_refused_or_made_on_a_stale_revision_leaves_the_draft_as_it_was(admin):
    draft = terms_admin.create_draft(UnitOfWork(), version=_label("D"), title="Terms", body=BODY, staff=admin)
    other = terms_admin.create_draft(UnitOfWork(), version=_label("D"), title="Terms", body=BODY, staff=admin)
    before = _counts()

    with pytest.raises(TermsInvalid) as refused:  # the label of another draft
        terms_admin.update_draft(UnitOfWork(), draft.id, 1, version=other.version, title="", body=BODY, staff=admin)
    assert {n: r.code for n, r in refused.value.errors.items()} == {
        "version": ErrorCode.TERMS_LABEL_TAKEN, "title": ErrorCode.TERMS_TITLE_INVALID}
    terms_admin.update_draft(UnitOfWork(), draft.id, 1, version=draft.version, title="Colleague's", body=BODY,
                             staff=admin)
    for call in (lambda: terms_admin.update_draft(UnitOfWork(), draft.id, 1, version=draft.version, title="Mine",
                                                  body=BODY, staff=admin),
                 lambda: terms_admin.delete_draft(UnitOfWork(), draft.id, 1, staff=admin)):
        with pytest.raises(ActionRefused) as stale:
            call()
        assert stale.value.refusal.code is ErrorCode.TERMS_DRAFT_CHANGED
    assert terms_admin.draft(UnitOfWork(), draft.id).title == "Colleague's"
    assert _counts()[:2] == before[:2]
    for unknown in (0, -1, 2**31, 2**62, True, "1"):  # no row; beyond INTEGER, PostgreSQL would refuse the query
        assert terms_admin.draft(UnitOfWork(), unknown) is None
        assert terms_admin.version_preview(UnitOfWork(), unknown) is None
        with pytest.raises(ActionRefused):
            terms_admin.delete_draft(UnitOfWork(), unknown, 1, staff=admin)


# -- publishing -----------------------------------------------------------------------------------


@pytest.mark.clause("GTC-1.4")
def test_a_published_version_takes_effect_at_its_time_and_every_earlier_one_stays_readable(admin):
    now = _slot()
    effective = now + timedelta(days=3, hours=9, minutes=30)
    draft = terms_admin.create_draft(UnitOfWork(), version=_label("P"), title="Terms of sale (new)", body=BODY,
                                     staff=admin)
    in_force = terms_service.current(UnitOfWork(), now)

    version = terms_admin.publish(UnitOfWork(), draft.id, draft.revision, effective_at=effective, staff=admin,
                                  ip="203.0.113.9", at=now)

    assert terms_admin.draft(UnitOfWork(), draft.id) is None  # the draft became the version
    assert (version.version, version.title, version.body) == (draft.version, draft.title, draft.body)
    assert version.content_hash == terms_hash(BODY) and aware(version.published_at) == effective
    # not public before its time: not current, not readable at its address, not in the archive
    just_before = effective - timedelta(seconds=1)
    assert terms_service.current(UnitOfWork(), just_before).id == in_force.id
    assert terms_service.view(UnitOfWork(), version.version, "en_GB", just_before) is None
    assert version.version not in [v for v, _ in terms_service.archive(UnitOfWork(), "en_GB", just_before)]
    # from its time on it is the version of new orders, and the earlier one stays archived and readable
    assert terms_service.current(UnitOfWork(), effective).id == version.id
    assert terms_service.view(UnitOfWork(), version.version, "en_GB", effective).title == "Terms of sale (new)"
    assert terms_service.view(UnitOfWork(), in_force.version, "en_GB", effective).version == in_force.version
    archived = [v for v, _ in terms_service.archive(UnitOfWork(), "en_GB", effective)]
    assert archived[:2] == [version.version, in_force.version]

    [entry] = [e for e in _audit(f"terms:{version.version}") if e.action == "terms.publish"]
    assert (entry.outcome, entry.staff_id, entry.role, entry.ip) == ("done", admin.staff_id, "admin", "203.0.113.9")
    assert entry.before["version"] == draft.version and entry.before["revision"] == draft.revision
    assert entry.after == {"version_id": version.id, "version": version.version,
                           "effective_at": effective.isoformat(), "content_hash": terms_hash(BODY)}


@pytest.mark.clause("GTC-1.4")
@pytest.mark.clause("GTC-2.3")
def test_the_database_refuses_to_change_or_delete_a_published_version(admin):
    """Not even plain SQL rewrites what clients accepted (triggers of migration e3f4a5b6c7d8); drafts stay free."""
    now = _slot()
    version = _published(admin, at=now, effective=now + timedelta(days=1))
    engine = get_engine()

    for statement in ("UPDATE terms_version SET body = 'rewritten' WHERE id = :id",
                      "UPDATE terms_version SET published_at = published_at WHERE id = :id",
                      "UPDATE terms_version SET content_hash = 'x', title = 'x' WHERE id = :id",
                      "UPDATE terms_version SET version = 'renamed' WHERE id = :id",
                      "DELETE FROM terms_version WHERE id = :id",
                      "DELETE FROM terms_version"):
        with pytest.raises(DatabaseError) as caught:
            with engine.begin() as conn:
                conn.execute(text(statement), {"id": version.id})
        assert "append-only" in str(caught.value), statement
    if engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="append-only: TRUNCATE on terms_version"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE terms_version CASCADE"))
    with Session(engine) as s:
        kept = s.get(TermsVersion, version.id)
    assert (kept.body, kept.content_hash, aware(kept.published_at)) == (BODY, terms_hash(BODY), now + timedelta(days=1))

    draft = terms_admin.create_draft(UnitOfWork(), version=_label("D"), title="Draft", body=BODY, staff=admin)
    with engine.begin() as conn:
        conn.execute(text("UPDATE terms_draft SET title = 'edited' WHERE id = :id"), {"id": draft.id})
        conn.execute(text("DELETE FROM terms_draft WHERE id = :id"), {"id": draft.id})
    assert terms_admin.draft(UnitOfWork(), draft.id) is None


@pytest.mark.clause("GTC-1.4")
def test_a_version_takes_effect_from_now_on_and_after_every_published_one(admin):
    now = _slot()
    scheduled = _published(admin, at=now, effective=now + timedelta(days=10))
    draft = terms_admin.create_draft(UnitOfWork(), version=_label("P"), title="Terms", body=BODY, staff=admin)
    before = _counts()

    for effective, immediately, code in [
        (None, False, ErrorCode.TERMS_EFFECTIVE_INVALID),
        (now - timedelta(minutes=1), False, ErrorCode.TERMS_EFFECTIVE_PAST),
        (now + timedelta(days=5), False, ErrorCode.TERMS_EFFECTIVE_BEFORE_LATEST),  # before the scheduled one
        (now + timedelta(days=10), False, ErrorCode.TERMS_EFFECTIVE_BEFORE_LATEST),  # at the same moment
        (None, True, ErrorCode.TERMS_EFFECTIVE_BEFORE_LATEST),  # immediately, with a later one scheduled
    ]:
        with pytest.raises(TermsInvalid) as refused:
            terms_admin.publish(UnitOfWork(), draft.id, draft.revision, effective_at=effective,
                                immediately=immediately, staff=admin, at=now)
        assert {n: r.code for n, r in refused.value.errors.items()} == {"effective_at": code}
    assert scheduled.version in refused.value.errors["effective_at"].message
    assert _counts() == before  # no version, the draft kept, nothing audited

    version = terms_admin.publish(UnitOfWork(), draft.id, draft.revision, effective_at=None, immediately=True,
                                  staff=admin, at=now + timedelta(days=11, microseconds=5))
    assert aware(version.published_at) == now + timedelta(days=11)


def test_only_the_revision_read_is_published_and_only_once(admin):
    now = _slot()
    draft = terms_admin.create_draft(UnitOfWork(), version=_label("P"), title="Terms", body=BODY, staff=admin)
    terms_admin.update_draft(UnitOfWork(), draft.id, 1, version=draft.version, title="Changed meanwhile", body=BODY,
                             staff=admin)
    before = _counts()

    with pytest.raises(ActionRefused) as stale:
        terms_admin.publish(UnitOfWork(), draft.id, 1, effective_at=now + timedelta(days=1), staff=admin, at=now)
    assert stale.value.refusal.code is ErrorCode.TERMS_DRAFT_CHANGED
    assert _counts() == before

    terms_admin.publish(UnitOfWork(), draft.id, 2, effective_at=now + timedelta(days=1), staff=admin, at=now)
    with pytest.raises(ActionRefused) as again:
        terms_admin.publish(UnitOfWork(), draft.id, 2, effective_at=now + timedelta(days=2), staff=admin, at=now)
    assert again.value.refusal.code is ErrorCode.TERMS_DRAFT_NOT_FOUND


@pytest.mark.clause("GTC-1.4")
@pytest.mark.clause("GTC-2.3")
def test_the_list_shows_each_version_s_status_and_how_many_orders_accepted_it(admin, make_product, place):
    now = _slot()
    older = _published(admin, at=now, effective=now + timedelta(days=1))
    newer = _published(admin, at=now, effective=now + timedelta(days=2))
    scheduled = _published(admin, at=now, effective=now + timedelta(days=30))
    draft = terms_admin.create_draft(UnitOfWork(), version=_label("D"), title="Draft", body=BODY, staff=admin)
    watch = make_product(stock=5)
    for at, version in ((now + timedelta(days=1, hours=1), older), (now + timedelta(days=2, hours=1), newer),
                        (now + timedelta(days=2, hours=2), newer)):
        placed = place({watch: 1}, at=at)
        assert order_row(placed.reference).terms_version_id == version.id  # the version in force when placed

    rows = {r.version: r for r in terms_admin.versions(UnitOfWork(), at=now + timedelta(days=3))}

    assert (rows[draft.version].status, rows[draft.version].public) == (Status.DRAFT, False)
    assert (rows[older.version].status, rows[older.version].orders, rows[older.version].public) == (
        Status.SUPERSEDED, 1, True)
    assert (rows[newer.version].status, rows[newer.version].orders) == (Status.IN_FORCE, 2)
    assert (rows[scheduled.version].status, rows[scheduled.version].orders, rows[scheduled.version].public) == (
        Status.SCHEDULED, 0, False)
    assert rows["2026-01"].status == Status.SUPERSEDED
    assert terms_admin.orders_per_version(UnitOfWork())[newer.id] == 2
    assert rows[scheduled.version].effective == terms_admin.merchant_time(now + timedelta(days=30))
    assert rows[scheduled.version].effective.endswith(("CET", "CEST"))  # the merchant's time zone
    assert terms_admin.version_preview(UnitOfWork(), scheduled.id).version == scheduled.version  # staff read it early
    assert terms_admin.version_preview(UnitOfWork(), 987_654) is None


# -- a shopper in the middle of checkout when a new version takes effect ---------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock(monkeypatch):
    """The time the terms and the checkout see, moved by the test (no waiting)."""
    moment = Clock(_slot())
    monkeypatch.setattr(shop_clock, "now", lambda: moment.now)  # what every service reads
    return moment


def checkout_tab(cookie: str, draft: str = ""):
    """The checkout's state as a browser tab has it, in this process: the identity cookie on its connection."""
    from storefront.state.checkout import CheckoutState

    root = State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({
        "headers": {"cookie": cookie, "user-agent": "Mozilla/5.0 (TermsTest)", "accept-language": "en-CH"},
        "pathname": "/checkout", "query": {}, "ip": new_ip()})
    state = root.get_substate(CheckoutState.get_full_name().split(".")[1:])
    state.country = "CH"
    if draft:
        state.draft = draft
    return state


def at_confirmation(state, watch: str, today: datetime) -> None:
    """Steps 1 to 4 of GTC-3.4 as the page sends them, ticks given under the version on screen."""
    from storefront.state.checkout import CONFIRM

    street, city, postal, _area = ADDRESSES["CH"]
    state.cart_json = json.dumps({watch: 1})
    state.load()
    state.continue_from_cart()
    state.submit_info({"email": f"client-{secrets.token_hex(4)}@example.com", "phone": PHONES["CH"],
                       "full_name": "Anna Keller", "birth_date": f"{today.year - 40}-04-12", "ship_name": "Anna Keller",
                       "ship_street": street, "ship_city": city, "ship_postal_code": postal})
    state.set_details_confirmed(True)
    state.confirm_details()
    state.set_terms_accepted(True)
    state.set_personal_use(True)
    state.accept_terms()
    assert state.step == CONFIRM, (state.step, state.message_code, state.field_errors)


def confirm(state) -> None:
    """Step 5, as Reflex runs its background event; here `async with` the state (its lock) is a no-op."""
    from storefront.state.checkout import CheckoutState

    run_async(CheckoutState.place_order.fn(state))


@pytest.mark.clause("GTC-1.4")
@pytest.mark.clause("GTC-2.3")
def test_a_shopper_mid_checkout_must_accept_the_new_version_before_the_order_is_confirmed(admin, clock, make_product):
    from storefront.state.checkout import CONFIRM, PAY, TERMS

    state = checkout_tab("vx_sid=" + browser_id.issue())
    at_confirmation(state, make_product(), clock.now)
    shown = state.terms.version
    new = _published(admin, at=clock.now, effective=clock.now + timedelta(minutes=10),
                     body="# Terms\nThe new version.")
    clock.now += timedelta(minutes=10)  # it takes effect while the shopper is on the confirmation step

    confirm(state)

    assert not state.order_reference
    assert (state.step, state.message_code) == (TERMS, ErrorCode.TERMS_CHANGED.value)
    assert state.message  # "Our terms have been updated. Please read and accept the current version."
    assert (state.terms.version, state.terms.blocks[1].text) == (new.version, "The new version.")
    assert shown != new.version and state.terms_accepted is False and state.personal_use is True
    confirm(state)  # a crafted confirmation without the new tick is not taken
    assert (state.step, state.message_code, state.order_reference) == (TERMS, "step_not_ready", "")

    state.set_terms_accepted(True)
    state.accept_terms()
    assert state.step == CONFIRM
    confirm(state)

    assert state.step == PAY and state.order_reference
    order = order_row(state.order_reference)  # the order records the version accepted, by id and content hash
    assert (order.terms_version_id, order.terms_content_hash) == (new.id, new.content_hash)


@pytest.mark.clause("GTC-1.4")
def test_a_new_version_in_force_when_the_shopper_accepts_the_terms_is_shown_first(admin, clock, make_product):
    from storefront.state.checkout import TERMS

    state = checkout_tab("vx_sid=" + browser_id.issue())
    at_confirmation(state, make_product(), clock.now)
    state.go_to(TERMS)
    new = _published(admin, at=clock.now, effective=clock.now + timedelta(minutes=1))
    clock.now += timedelta(minutes=1)

    state.accept_terms()  # the box was ticked under the earlier version

    assert (state.step, state.message_code, state.terms.version) == (TERMS, "terms_changed", new.version)
    assert state.terms_accepted is False


@pytest.mark.clause("GTC-2.3")
def test_a_tick_saved_in_the_tab_does_not_carry_over_to_a_newer_version_after_a_reload(admin, clock, make_product):
    from storefront.state.checkout import CONFIRM, TERMS

    cookie = "vx_sid=" + browser_id.issue()
    state = checkout_tab(cookie)
    at_confirmation(state, make_product(), clock.now)
    sealed, cart = state.draft, state.cart_json

    def reload():
        """The tab loaded again (a reload, or a restarted server): a new state from the sealed draft."""
        tab = checkout_tab(cookie, sealed)
        tab.cart_json = cart
        tab.load()
        return tab

    resumed = reload()
    assert (resumed.step, resumed.terms_accepted, resumed.message_code) == (CONFIRM, True, "")
    new = _published(admin, at=clock.now, effective=clock.now + timedelta(hours=1))
    clock.now += timedelta(hours=1)

    reloaded = reload()

    assert (reloaded.step, reloaded.message_code, reloaded.terms.version) == (TERMS, "terms_changed", new.version)
    assert reloaded.terms_accepted is False and reloaded.details_confirmed is True

