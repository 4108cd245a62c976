"""Shared UI pieces: layout template, header, price notices."""
