import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from storefront.domain.retention import POLICY as RETENTION
from storefront.http_headers import allowed_origins
from storefront.settings import get_settings

config = rx.Config(
    app_name="storefront",
    telemetry_enabled=False,
    db_url=get_settings().database_url,
    show_built_with_reflex=False,
    # Only the shop's own pages may call the API or open the event socket (Reflex's default is "*").
    cors_allowed_origins=allowed_origins(get_settings().public_url),
    # The security headers hash each page's inline scripts and can read gzip, not brotli or zstd.
    frontend_compression_formats=["gzip"],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="bronze", gray_color="sand", radius="medium", appearance="light")
        )
    ],
    disable_plugins=[SitemapPlugin],
    # A tab's state (a checkout's typed details with it) is dropped this long after its last event, by the
    # memory, disk and Redis state managers alike: the abandoned-checkout period of rules/retention.toml (PAY-6).
    redis_token_expiration=RETENTION.abandoned_checkout_seconds,
    # Without Redis (one process) the tabs' states stay in memory. Reflex's default, the disk manager, keeps
    # them in memory as well and also pickles each changed state to `.states/` and stats every saved file on
    # each write cycle: CPU on every event, and what shoppers typed on disk. Nothing needed after a restart
    # lives only there (the cart is in localStorage, the checkout draft sealed in sessionStorage, orders in
    # the database). Naming no mode when REFLEX_REDIS_URL is set lets Reflex choose Redis (several workers).
    **({} if os.environ.get("REFLEX_REDIS_URL") else {"state_manager_mode": "memory"}),
)
