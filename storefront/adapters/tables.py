"""Database tables (SQLModel). Money is stored as integer minor units beside its currency.

Designed for the roadmap: an order has many payment authorizations over time (a lapsed hold is
renewed), lines track shipped and cancelled quantities (partial shipment, refunds of unshipped
items), and every change is appended to `order_event`, never rewritten.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storefront.adapters import clock


def utcnow() -> datetime:
    return clock.now()


class Collection(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=120)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    position: int = 0


class Product(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=40)
    slug: str = Field(unique=True, max_length=120)
    name: str = Field(max_length=160)
    collection_id: int = Field(foreign_key="collection.id", index=True)
    case_material: str = Field(max_length=80, index=True)
    diameter_mm: str = Field(sa_column=Column(Numeric(5, 1), nullable=False))
    movement: str = Field(max_length=200)
    water_resistance_m: int
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    images: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stock: int = Field(default=0, ge=0)
    max_per_order: int = Field(default=1, ge=1)
    active: bool = Field(default=True, index=True)
    featured: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class ProductPrice(SQLModel, table=True):
    """The merchant's price list: one price per product and market currency (not a conversion)."""

    __tablename__ = "product_price"
    product_id: int = Field(foreign_key="product.id", primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class StockMovement(SQLModel, table=True):
    """Every change of a product's stock, and why (issue 10 section 1): a staff adjustment (staff_id set,
    a reason code of rules/catalogue.toml) or an order placed or cancelled (staff_id null, order_id set).
    Append-only in the database itself (migration a9c1d2e3f4b5), like the audit log. `stock_after` is the
    stock the change left, so the history explains the number on the product."""

    __tablename__ = "stock_movement"
    id: Optional[int] = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    delta: int
    stock_after: int
    reason: str = Field(max_length=40)
    note: str = Field(default="", max_length=200)
    staff_id: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    order_id: Optional[int] = Field(default=None, foreign_key="shop_order.id")
    at: datetime = Field(default_factory=utcnow)


class ShippingFee(SQLModel, table=True):
    """The insured-courier fee per shipping zone and currency (GTC-4.1, 4.2), in minor units; seeded from
    rules/shipping.toml (the default), edited by staff. Checkout reads it; orders keep the fee they were
    placed with (order.shipping_minor)."""

    __tablename__ = "shipping_fee"
    zone: str = Field(primary_key=True, max_length=20)
    currency: str = Field(primary_key=True, max_length=3)
    fee_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class SanctionedDestination(SQLModel, table=True):
    """Destinations under US sanctions (PAY-7); seeded from rules/sanctions.toml, editable by staff.

    `places` are the region's own names and its towns in any script (domain/destinations.py);
    `programme` is the OFAC programme the row comes from."""

    __tablename__ = "sanctioned_destination"
    __table_args__ = (UniqueConstraint("country", "region"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    region: Optional[str] = Field(default=None, max_length=10)
    name: str = Field(max_length=120)
    postal_prefixes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    places: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    programme: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class TermsVersion(SQLModel, table=True):
    """Published terms; rows are never edited, a new version is a new row (GTC-1.4). The database refuses
    UPDATE and DELETE (migration e3f4a5b6c7d8). `published_at` is the time the version takes effect: it is
    public, and the version of new orders, from then on (services/terms.py)."""

    __tablename__ = "terms_version"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: str = Field(unique=True, max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    published_at: datetime = Field(index=True)


class TermsDraft(SQLModel, table=True):
    """A version of the terms staff are writing: edited and deleted freely, never public. Publishing
    copies it into `terms_version` and deletes it, in one transaction (services/terms_admin.py).
    `revision` counts saves, so a publish acts on exactly the text that was reviewed."""

    __tablename__ = "terms_draft"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: str = Field(unique=True, max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    revision: int = 1
    created_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SdnEntry(SQLModel, table=True):
    """One entry of the OFAC SDN list as loaded (sdn.csv + alt.csv)."""

    __tablename__ = "sdn_entry"
    uid: str = Field(primary_key=True, max_length=20)
    name: str = Field(max_length=400)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    programs: str = Field(default="", max_length=400)
    kind: str = Field(default="", max_length=40)
    # the entry's addresses from add.csv, one "street, city, country" each (migration f1a2b3c4d5e6)
    addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


class SanctionsListVersion(SQLModel, table=True):
    """One import of the OFAC SDN files; the newest row is the list in force (PAY-7, migration f1a2b3c4d5e6)."""

    __tablename__ = "sanctions_list_version"
    id: Optional[int] = Field(default=None, primary_key=True)
    published: str = Field(default="", max_length=40)  # the publication date given with the files, if any
    entry_count: int = 0
    address_count: int = 0
    imported_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    imported_via: str = Field(default="upload", max_length=20)  # "upload" or "command"
    imported_at: datetime = Field(default_factory=utcnow)
    digest: str = Field(default="", max_length=64)
    rescreened: int = 0  # open orders screened again after the import
    flagged: int = 0  # of which newly matching


class Order(SQLModel, table=True):
    __tablename__ = "shop_order"
    id: Optional[int] = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=32)
    access_token: str = Field(max_length=64)
    checkout_key: str = Field(unique=True, max_length=64)
    status: str = Field(max_length=32, index=True)
    channel: str = Field(default="web", max_length=16)
    country: str = Field(max_length=2)
    currency: str = Field(max_length=3)
    # Babel display locale the order was placed in (page language + delivery country, see
    # domain/markets.py display_locale), e.g. "en_CH": its emails and documents keep it.
    locale: str = Field(max_length=20)
    email: str = Field(max_length=320, index=True)
    phone: str = Field(max_length=40)
    full_name: str = Field(max_length=200)
    birth_date: date
    shipping_address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    billing_address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    subtotal_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    shipping_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    vat_rate: Optional[str] = Field(default=None, max_length=10)
    vat_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    total_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    ship_by: date
    # Empty until the client accepts the terms: a telephone order awaits the client's own acceptance (PAY-2).
    terms_version_id: Optional[int] = Field(default=None, foreign_key="terms_version.id")
    terms_content_hash: str = Field(default="", max_length=64)
    terms_accepted_at: Optional[datetime] = None
    accepted_ip: str = Field(default="", max_length=64, index=True)
    # Fingerprint of the browser that placed a web order (services/browser.py): only it may pay or cancel.
    browser_hash: Optional[str] = Field(default=None, max_length=64, index=True)
    accepted_user_agent: str = Field(default="", max_length=400)
    personal_use_declared: bool = False
    screening: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    payment_customer_id: Optional[str] = Field(default=None, max_length=80)
    payment_deadline: Optional[datetime] = None
    # The member of staff who entered a telephone order (PAY-2); None for an order the client placed online.
    entered_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    placed_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    # What services/retention.py erased of the personal data above (domain/retention.py Erasure: "", "partial",
    # "full"), when, and until when a legal duty keeps what a partial erasure left (migration c7e3f4a5b6d7).
    erasure: str = Field(default="", max_length=10)
    erased_at: Optional[datetime] = None
    retained_until: Optional[date] = None


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    reference: str = Field(max_length=40)
    name: str = Field(max_length=160)
    quantity: int
    unit_price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    quantity_shipped: int = 0
    quantity_cancelled: int = 0


class PaymentAuthorization(SQLModel, table=True):
    """One hold on the client's card; an order may have several over time (renewal, partial capture)."""

    __tablename__ = "payment_authorization"
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    idempotency_key: str = Field(unique=True, max_length=120)
    intent_id: Optional[str] = Field(default=None, unique=True, max_length=80)
    status: str = Field(max_length=32)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    captured_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    refunded_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    card_id: Optional[str] = Field(default=None, max_length=80)
    brand: str = Field(default="", max_length=30)
    last4: str = Field(default="", max_length=4)
    decline_code: Optional[str] = Field(default=None, max_length=80)
    capture_before: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Shipment(SQLModel, table=True):
    """A parcel handed to a carrier (GTC-5.5: risk passes at `handed_over_at`) and what its capture charged (PAY-5).

    `number` counts an order's shipments from 1; (order_id, number) is unique, so two staff recording
    the same next shipment at once record it once. Rows are never edited.
    """

    __tablename__ = "shipment"
    __table_args__ = (UniqueConstraint("order_id", "number", name="uq_shipment_order_number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    number: int
    carrier: str = Field(max_length=80)
    tracking_number: str = Field(max_length=40)
    handed_over_at: datetime
    created_at: datetime = Field(default_factory=utcnow)
    staff_id: int = Field(foreign_key="staff_user.id")
    captured_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)


class ShipmentLine(SQLModel, table=True):
    __tablename__ = "shipment_line"
    id: Optional[int] = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    order_line_id: int = Field(foreign_key="order_line.id")
    quantity: int


class OrderEvent(SQLModel, table=True):
    """Append-only history of an order: what happened, when, by whom."""

    __tablename__ = "order_event"
    __table_args__ = (Index("ix_order_event_order_at", "order_id", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id")
    type: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(default="system", max_length=120)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OutboxEmail(SQLModel, table=True):
    """Emails written in the same transaction as the change they announce, sent later by a worker."""

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True, max_length=120)
    order_id: Optional[int] = Field(default=None, foreign_key="shop_order.id", index=True)
    kind: str = Field(max_length=40)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    locked_until: Optional[datetime] = None
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None
    # The issued PDF sent with it (the order record, a shipment's invoice, a refund's credit note): a reference,
    # never a copy, to bytes that never change once issued (services/documents.py).
    document_id: Optional[int] = Field(default=None, foreign_key="issued_document.id")


class DocumentCounter(SQLModel, table=True):
    """The last number issued in one document series (services/documents.py). Issuing increments the row in
    the issuing transaction, so numbers are gap-free: a rolled-back issue rolls its number back, and a
    second issue at the same instant waits for the first (row lock) and takes the next number."""

    __tablename__ = "document_counter"
    series: str = Field(primary_key=True, max_length=20)
    last_number: int = 0


class IssuedDocument(SQLModel, table=True):
    """A PDF given to the client (GTC-3.8), stored as issued: the bytes are the document, never re-rendered.

    `source_key` names what it documents (the order, one shipment, one refund request), so each is issued
    once: `order:<id>`, `shipment:<id>`, `refund:<order id>:<request number>`."""

    __tablename__ = "issued_document"
    __table_args__ = (UniqueConstraint("series", "number", name="uq_issued_document_series_number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    kind: str = Field(max_length=20)  # order_confirmation | invoice | credit_note
    series: str = Field(max_length=20)
    number: int
    document_number: str = Field(unique=True, max_length=40)
    source_key: str = Field(unique=True, max_length=80)
    shipment_id: Optional[int] = Field(default=None, foreign_key="shipment.id")
    issued_at: datetime
    filename: str = Field(max_length=120)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)


class JobRun(SQLModel, table=True):
    """The last run of each background job, for the admin home (one row per job, updated in place)."""

    __tablename__ = "job_run"
    name: str = Field(primary_key=True, max_length=40)
    finished_at: datetime
    outcome: str = Field(max_length=10)  # ok | failed
    handled: int = 0  # rows the job acted on in that run
    error: str = Field(default="", max_length=120)  # the exception's class on failure, never its message


class RetentionRun(SQLModel, table=True):
    """One run of the daily retention job (services/retention.py) and what it erased, by kind."""

    __tablename__ = "retention_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class WebhookEvent(SQLModel, table=True):
    """Stripe event ids already applied, so a redelivered event changes nothing."""

    __tablename__ = "webhook_event"
    id: str = Field(primary_key=True, max_length=120)
    type: str = Field(max_length=80)
    received_at: datetime = Field(default_factory=utcnow)


class RefundRecord(SQLModel, table=True):
    """Money given back of one captured hold (services/refunds.py). A refund request spanning several holds
    is several rows with the same `number` (the order's request count); (order_id, number, authorization_id)
    is unique, so two requests read at once record one. `lines` ({line reference: quantity}) sits on the
    request's first row only."""

    __tablename__ = "refund"
    __table_args__ = (UniqueConstraint("order_id", "number", "authorization_id", name="uq_refund_order_number_hold"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    number: int
    authorization_id: int = Field(foreign_key="payment_authorization.id")
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    reason_code: str = Field(max_length=40)
    lines: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16, index=True)
    provider_refund_id: Optional[str] = Field(default=None, max_length=80)
    failure_code: Optional[str] = Field(default=None, max_length=80)
    idempotency_key: Optional[str] = Field(default=None, unique=True, max_length=120)
    requested_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    approved_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: Optional[datetime] = None


class UnavailableItem(SQLModel, table=True):
    """Units of an order line found unavailable after approval (GTC-3.2, services/unavailable_items.py): the
    client chooses a new date or a refund by `deadline_at`; `status` awaiting_choice | new_date_agreed |
    refunded | dropped (no answer by the deadline)."""

    __tablename__ = "unavailable_item"
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    order_line_id: int = Field(foreign_key="order_line.id")
    quantity: int
    proposed_date: date
    status: str = Field(max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    deadline_at: datetime
    reminded_at: Optional[datetime] = None
    decided_at: Optional[datetime] = None
    created_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")


class OrderDelay(SQLModel, table=True):
    """A delivery delay of one order (GTC-5.4, services/delays.py), counted from the ship-by date shown to the
    client (`counted_from`; an agreed new date starts a new row). `status` noticed (the notice at +20 business
    days went) | offered (the client chooses a new date or cancellation) | refused (the new date refused: the
    cancellation is offered) | new_date_agreed | cancelled | closed (shipped or ended meanwhile). The client's
    choice, its time and the link used (a fingerprint of the token, never the token) are kept."""

    __tablename__ = "order_delay"
    __table_args__ = (UniqueConstraint("order_id", "counted_from", name="uq_order_delay_order_counted_from"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="shop_order.id", index=True)
    counted_from: date
    status: str = Field(max_length=20, index=True)
    noticed_at: datetime
    offered_at: Optional[datetime] = None
    proposed_date: Optional[date] = None  # staff's proposal (orders.follow_up_delay)
    proposed_by: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    offer_date: Optional[date] = None  # the new delivery date offered to the client
    reminded_at: Optional[datetime] = None
    reminders: int = 0
    task_at: Optional[datetime] = None  # no answer: customer service is to call the client
    refused_at: Optional[datetime] = None
    refused_link: Optional[str] = Field(default=None, max_length=16)
    decided_at: Optional[datetime] = None
    choice: Optional[str] = Field(default=None, max_length=20)  # new_date | cancel
    decided_link: Optional[str] = Field(default=None, max_length=16)


class StaffUser(SQLModel, table=True):
    """A member of staff of the back office. Staff are deactivated, never deleted: the audit names them."""

    __tablename__ = "staff_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # lower-cased
    full_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=32)
    password_hash: str = Field(max_length=200)  # argon2id, encoded with its parameters
    # Fernet token of the base32 TOTP secret (services/staff.py); pending until totp_enabled.
    totp_secret: Optional[str] = Field(default=None, max_length=400)
    totp_enabled: bool = False
    # Time step of the last TOTP code accepted, so a code seen over a shoulder cannot be used again.
    totp_last_step: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    active: bool = True
    failed_logins: int = 0
    # No sign-in is checked before this moment: a back-off wait, or a lock once failures reach the limit.
    locked_until: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StaffRecoveryCode(SQLModel, table=True):
    """One-time codes for a lost authenticator, stored as SHA-256 (they are random, not chosen)."""

    __tablename__ = "staff_recovery_code"
    id: Optional[int] = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    code_hash: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: Optional[datetime] = None


class StaffSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of its token is kept: a copy of the database signs no one in."""

    __tablename__ = "staff_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime  # absolute end, whatever the activity
    revoked_at: Optional[datetime] = None
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)


class StaffAuditEntry(SQLModel, table=True):
    """Append-only record of what staff did or tried (the database refuses UPDATE and DELETE).

    Holds ids and codes only, never a client's or colleague's personal data, so it can be kept for
    years and shown to an auditor."""

    __tablename__ = "staff_audit"
    __table_args__ = (
        Index("ix_staff_audit_at", "at"),
        Index("ix_staff_audit_staff_id", "staff_id"),
        Index("ix_staff_audit_order_id", "order_id"),
        Index("ix_staff_audit_action", "action"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    staff_id: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    role: str = Field(default="", max_length=32)  # the role at the time
    action: str = Field(max_length=60)
    outcome: str = Field(max_length=16)
    order_id: Optional[int] = Field(default=None, foreign_key="shop_order.id")
    subject: str = Field(default="", max_length=80)
    before: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    after: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    ip: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=60)
