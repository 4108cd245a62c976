from datetime import time

import pytest

from storefront.domain.policy import policy


@pytest.mark.clause("GTC-5.1")
def test_ship_within_thirty_business_days():
    assert policy().ship_within_business_days == 30


@pytest.mark.clause("GTC-5.4")
def test_delay_thresholds():
    assert policy().delay_notice_business_days == 20
    assert policy().cancellation_offer_days == 51


@pytest.mark.clause("GTC-5.2")
def test_shipping_hours():
    assert (policy().shipping_start, policy().shipping_end) == (time(8, 0), time(17, 0))


@pytest.mark.clause("PAY-5")
def test_hold_lifetime_and_payment_retry_window():
    assert policy().hold_lifetime_days == 7
    assert policy().payment_retry_minutes == 30
