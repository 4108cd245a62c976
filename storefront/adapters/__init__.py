"""Edges of the system: database tables and queries, Stripe, SMTP, files. No business rules."""
