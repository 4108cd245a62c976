import reflex as rx


def terms_text(view) -> rx.Component:
    return rx.flex(
        rx.heading(view.title, size="6", as_="h2"),
        rx.text("Version ", view.version, " · published ", view.published, size="2", color_scheme="gray",
                class_name="terms-version"),
        rx.foreach(view.blocks, lambda b: rx.cond(b.kind == "heading", rx.heading(b.text, size="4", as_="h3"),
                                                  rx.text(b.text, size="2"))),
        direction="column", spacing="2",
    )
