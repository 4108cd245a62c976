from tests.integration.stripe_fixtures import *  # noqa
