"""Pure business logic: no Reflex, no database, no Stripe; plain functions and frozen dataclasses."""
