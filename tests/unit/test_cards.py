import pytest

from storefront.domain.cards import accepted_brand_keys, brand_refusal, canonical_brand, display_name

REFUSAL = ("We accept Visa, Mastercard, American Express, Discover and UnionPay. "
           "Please use one of these cards.")


@pytest.mark.clause("PAY-1")
@pytest.mark.parametrize("spelling, key", [
    ("visa", "visa"), ("Visa", "visa"), ("mastercard", "mastercard"), ("MasterCard", "mastercard"),
    ("amex", "amex"), ("American Express", "amex"), ("american_express", "amex"),
    ("discover", "discover"), ("Discover", "discover"), ("unionpay", "unionpay"), ("UnionPay", "unionpay"),
    ("jcb", "jcb"), ("JCB", "jcb"), ("diners", "diners"), ("Diners Club", "diners"),
    ("unknown", "unknown"), ("", "unknown"), ("Bankcard of Nowhere", "unknown"),
])
def test_stripe_brand_spellings_reduce_to_one_key(spelling, key):
    assert canonical_brand(spelling) == key


@pytest.mark.clause("PAY-1")
def test_the_accepted_set_is_visa_mastercard_amex_discover():
    assert accepted_brand_keys() == ("visa", "mastercard", "amex", "discover", "unionpay")
    for brand in ["visa", "MasterCard", "American Express", "Discover"]:
        assert brand_refusal(brand) is None


@pytest.mark.clause("GTC-4.5")
def test_unionpay_is_accepted_too():
    assert brand_refusal("UnionPay") is None
    assert display_name("unionpay") == "UnionPay"


@pytest.mark.clause("PAY-1")
@pytest.mark.parametrize("brand", ["jcb", "JCB", "diners", "Diners Club", "unknown", "", "cartes_bancaires"])
def test_other_brands_are_refused_with_a_clear_message(brand):
    assert brand_refusal(brand) == REFUSAL
