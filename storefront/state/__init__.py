"""Thin Reflex State classes: they call services and hold display-ready values for one page."""
