"""Terms versions are readable from their effective date on, and every earlier one stays readable (GTC-1.4)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import pytest

from storefront.adapters.tables import TermsVersion
from storefront.services import terms as terms_service
from storefront.services.unit_of_work import UnitOfWork


@pytest.fixture
def upcoming_terms(database):
    """A version the merchant has entered ahead of its effective date in a week."""
    effective = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
    version = f"F-{secrets.token_hex(3)}"
    with UnitOfWork() as uow:
        row = TermsVersion(version=version, title="Terms (upcoming)", body="# Terms\nNot yet.", content_hash="0" * 64,
                           published_at=effective)
        uow.session.add(row)
        uow.commit()
    return version, effective  # it stays: a published version cannot be deleted (migration e3f4a5b6c7d8)


@pytest.mark.clause("GTC-1.4")
def test_a_version_cannot_be_read_before_its_effective_date(upcoming_terms):
    version, effective = upcoming_terms
    in_force = terms_service.current(UnitOfWork())

    assert terms_service.view(UnitOfWork(), version, "en_GB") is None
    assert version not in [v for v, _date in terms_service.archive(UnitOfWork(), "en_GB")]
    assert terms_service.view(UnitOfWork(), None, "en_GB").version == in_force.version
    # From its effective date on it is the current version, and the earlier one stays readable.
    assert terms_service.view(UnitOfWork(), version, "en_GB", effective).version == version
    assert terms_service.view(UnitOfWork(), None, "en_GB", effective).version == version
    assert terms_service.view(UnitOfWork(), in_force.version, "en_GB", effective).version == in_force.version
    assert version in [v for v, _date in terms_service.archive(UnitOfWork(), "en_GB", effective)]
