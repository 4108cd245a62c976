import pytest

from storefront.domain.errors import ErrorCode
from storefront.domain.catalogue import Availability, availability, max_orderable, quantity_refusal


@pytest.mark.clause("GTC-3.2")
def test_availability_wording():
    assert availability(0).kind is Availability.OUT and availability(0).text == "Out of stock"
    assert availability(1).text == "Only 1 left"
    assert availability(3).kind is Availability.LOW
    assert availability(8).text == "In stock"


@pytest.mark.clause("GTC-3.3")
def test_quantity_bounded_by_limit_and_stock():
    assert max_orderable(stock=5, max_per_order=2) == 2
    assert max_orderable(stock=1, max_per_order=2) == 1
    assert max_orderable(stock=0, max_per_order=2) == 0
    assert quantity_refusal("Abysse", 2, stock=5, max_per_order=2) is None
    assert quantity_refusal("Abysse", 3, stock=5, max_per_order=2).code is ErrorCode.OVER_ORDER_LIMIT
    assert quantity_refusal("Abysse", 2, stock=1, max_per_order=3).code is ErrorCode.OVER_STOCK
    assert quantity_refusal("Abysse", 1, stock=0, max_per_order=3).code is ErrorCode.OUT_OF_STOCK


@pytest.mark.clause("GTC-3.1")
def test_inactive_or_nonsense_quantities_are_refused():
    assert quantity_refusal("Abysse", 1, stock=5, max_per_order=2, active=False).code is ErrorCode.PRODUCT_NOT_OFFERED
    assert quantity_refusal("Abysse", 0, stock=5, max_per_order=2)
    assert quantity_refusal("Abysse", -3, stock=5, max_per_order=2)
    assert quantity_refusal("Abysse", True, stock=5, max_per_order=2)  # type: ignore[arg-type]
