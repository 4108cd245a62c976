import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from storefront.settings import get_settings

config = rx.Config(
    app_name="storefront",
    telemetry_enabled=False,
    db_url=get_settings().database_url,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="bronze", gray_color="sand", radius="medium", appearance="light")
        )
    ],
    disable_plugins=[SitemapPlugin],
)
