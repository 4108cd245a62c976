from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storefront.domain import carriers
from storefront.domain.business_days import BusinessCalendar

GENEVA = BusinessCalendar("Europe/Zurich", "CH", "GE")
Z = ZoneInfo("Europe/Zurich")


@pytest.mark.clause("GTC-5.2")
@pytest.mark.parametrize(("moment", "slot"), [
    (datetime(2026, 11, 25, 10, 0, tzinfo=Z), datetime(2026, 11, 25, 10, 0, tzinfo=Z)),  # within hours: itself
    (datetime(2026, 11, 25, 7, 0, tzinfo=Z), datetime(2026, 11, 25, 8, 0, tzinfo=Z)),
    (datetime(2026, 11, 25, 17, 0, tzinfo=Z), datetime(2026, 11, 26, 8, 0, tzinfo=Z)),  # 17:00 is closed
    (datetime(2026, 11, 27, 18, 0, tzinfo=Z), datetime(2026, 11, 30, 8, 0, tzinfo=Z)),  # Friday evening
    (datetime(2026, 12, 24, 17, 30, tzinfo=Z), datetime(2026, 12, 28, 8, 0, tzinfo=Z)),  # Christmas, weekend
    (datetime(2026, 12, 30, 17, 30, tzinfo=Z), datetime(2027, 1, 4, 8, 0, tzinfo=Z)),  # Restauration, New Year
])
def test_next_shipping_slot(moment, slot):
    assert GENEVA.next_shipping_slot(moment) == slot
    assert GENEVA.is_shipping_time(slot)


def test_carriers_and_tracking_numbers():
    names = [c.name for c in carriers.carriers()]
    assert {"DHL Express", "FedEx", "UPS", "Swiss Post", "Ferrari Group (valuables)", "Brink's"} <= set(names)
    assert all("{tracking}" in c.tracking_url for c in carriers.carriers())
    assert carriers.carrier_named("UPS").link("1Z-99") == "https://www.ups.com/track?tracknum=1Z-99"
    assert carriers.carrier_named("ups") is None
    assert carriers.tracking_ok("JD0146-00006") and carriers.tracking_ok("A" * 40)
    for bad in ("", "a1", "A" * 41, "A B", None, 12):
        assert not carriers.tracking_ok(bad)
