"""The `x-ms-version` dates the Service Management API knows: the one list the ASM surface accepts.

Taken from the Service Management versioning page (2009-10-01 … 2015-04-01) and from what the real clients send
(azure-servicemanagement-legacy 2012-03-01/2014-10-01/2015-02-01/2015-04-01; the CAT status script 2015-10-01;
the node SDK's migration calls 2016-03-01, 2016-06-01, 2016-07-01, 2017-01-01). A well-formed date that is
not a version (`2016-13-45`, `2016-07-02`) is refused as ASM does, with `MissingOrIncorrectVersionHeader`.
"""

from __future__ import annotations

from typing import Final

KNOWN: Final[tuple[str, ...]] = (
    "2009-10-01", "2010-04-01", "2010-10-28", "2011-02-25", "2011-06-01", "2011-08-01", "2011-10-01",
    "2012-03-01", "2012-08-01", "2013-03-01", "2013-06-01", "2013-08-01", "2013-11-01", "2014-02-01",
    "2014-04-01", "2014-05-01", "2014-06-01", "2014-10-01", "2015-02-01", "2015-04-01", "2015-10-01",
    "2016-03-01", "2016-06-01", "2016-07-01", "2017-01-01",
)
_KNOWN: Final = frozenset(KNOWN)
OLDEST: Final = KNOWN[0]
NEWEST: Final = KNOWN[-1]


def known(version: str) -> bool:
    return version in _KNOWN
