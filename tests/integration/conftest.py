from tests.integration.stripe_fixtures import *  # noqa


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate counts live in the process; each test starts from zero."""
    from storefront.adapters import rate_limiter

    rate_limiter.reset()
