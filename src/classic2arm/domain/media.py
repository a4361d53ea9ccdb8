"""Media links (the blob URL behind a disk, an image or boot diagnostics) and VHD sizes: the one parse the
rules, the translation, the snapshot loader and the classic writes share, so they all see the same blob.

A link is `https://{account}.blob.core.windows.net/{container}/{blob}`. The account is compared in lower case
(`UnitSnapshot.storage_accounts` is keyed so); container and blob are un-quoted (`%20` → space) because
`StorageAccount.blobs` is keyed by the plain `container/blob` name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import quote, unquote

GIB: Final = 1024**3
# A fixed VHD is the disk's bytes plus a 512-byte footer, so a disk of N GiB sits in a blob of N GiB + 512.
VHD_FOOTER_BYTES: Final = 512
# What a classic OS disk is when nothing says its size (the platform images' sizes).
_OS_DISK_GB: Final = {"Windows": 127, "Linux": 30}
BLOB_HOST: Final = "blob.core.windows.net"


@dataclass(frozen=True, slots=True)
class MediaLink:
    account: str  # lower case
    container: str
    blob: str  # may hold '/' (a virtual directory; R27)

    @property
    def path(self) -> str:
        """`container/blob`: the key of the blob in `StorageAccount.blobs`."""
        return f"{self.container}/{self.blob}" if self.blob else self.container

    def url(self) -> str:
        return link(self.account, self.container, self.blob)


@lru_cache(maxsize=1 << 16)  # each disk's link is read by 3–4 rules and the translation per validation
def parse(media_link: str) -> MediaLink:
    """The parts of a media link; a link without a scheme is read as `host/path`. Query and fragment (a SAS
    token, say) are dropped, user info and port ignored."""
    # (urlsplit's general parse was a fifth of building a VM's storage profile)
    rest = media_link.partition("://")[2] or media_link
    host, _, path = rest.partition("/")
    account = host.rpartition("@")[2].split(".", 1)[0].split(":", 1)[0].lower()
    path = path.split("?", 1)[0].split("#", 1)[0]
    if "%" in path:
        path = unquote(path)
    container, _, blob = path.lstrip("/").partition("/")
    return MediaLink(account, container, blob)


def account_of(media_link: str) -> str:
    """Lower-case name of the storage account a link points into."""
    return parse(media_link).account


def blob_in(media_link: str, account: str) -> bool:
    """Does the link point into this storage account (named in any case)?"""
    return parse(media_link).account == account.lower()


def endpoint(media_link: str) -> str | None:
    """`scheme://host/` of a link (the account's blob endpoint, as boot diagnostics store it), host and scheme
    kept as written; None for a link that has no scheme or no host."""
    scheme, sep, host = media_link.partition("://")
    for end in "/?#":
        host = host.partition(end)[0]
    return f"{scheme}://{host}/" if sep and scheme and host else None


def link(account: str, container: str, blob: str = "") -> str:
    """The media link of a blob (quoted as the storage service writes it; '/' in the blob name kept)."""
    base = f"https://{account}.{BLOB_HOST}/"
    if not container:
        return base
    path = quote(container, safe="") + ("/" + quote(blob, safe="/") if blob else "")
    return base + path


def by_container(paths: Iterable[str]) -> dict[str, list[str]]:
    """`container/blob` paths (the keys of `StorageAccount.blobs`) grouped by container, both in name order:
    how the storage service lists an account's containers and a container's blobs."""
    out: dict[str, list[str]] = {}
    for path in sorted(paths):
        container, _, blob = path.partition("/")
        out.setdefault(container, []).append(blob)
    return dict(sorted(out.items()))


def vhd_blob_size(logical_size_gb: int) -> int:
    """Bytes of the page blob behind a fixed VHD of this size: the disk plus its footer."""
    return logical_size_gb * GIB + VHD_FOOTER_BYTES


def os_disk_gb(os: str | None) -> int:
    """Size of an OS disk that does not say its own: 30 GB for Linux, 127 GB otherwise (Windows)."""
    return _OS_DISK_GB["Linux" if os == "Linux" else "Windows"]
