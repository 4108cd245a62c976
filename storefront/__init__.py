"""Vireux storefront: a Reflex web shop for high-value watches sold under strict terms of sale."""
