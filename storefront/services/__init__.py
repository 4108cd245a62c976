"""Use cases: the only code that changes the database. Pages, the CLI and webhooks all call these."""
