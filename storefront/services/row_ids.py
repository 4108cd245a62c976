"""What a record id sent by a browser can be. Ids are INTEGER columns: a larger number names no row, and
PostgreSQL refuses to compare an INTEGER with it, so it is turned away before any query."""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID
