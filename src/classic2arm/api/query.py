"""Query-string rules both surfaces share.

Starlette's `QueryParams.get` answers the last of repeated keys, so `?comp=validate&comp=prepare` would run a
prepare; real Azure refuses a repeated parameter, and so does every route here (keys compared case-insensitively,
as both APIs read them).
"""

from __future__ import annotations

from starlette.datastructures import QueryParams


def repeated_key(query: QueryParams) -> str | None:
    """The first query parameter given more than once (any case), or None."""
    seen: set[str] = set()
    for key, _ in query.multi_items():
        low = key.lower()
        if low in seen:
            return key
        seen.add(low)
    return None


def repeated_message(key: str) -> str:
    return f"The query parameter '{key[:60]}' is given more than once; give each parameter once."
