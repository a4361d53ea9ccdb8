"""domain/media.py: media links, blob names and VHD sizes, and that a rule and the translation read the same blob."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from classic2arm.domain import arm, media
from classic2arm.domain import classic as c
from classic2arm.domain.rules import validate
from classic2arm.domain.translate import translate
from classic2arm.domain.units import CloudService, Destination, UnitKind, UnitRef, UnitSnapshot

GIB = 1024**3


def test_parse_plain_link() -> None:
    got = media.parse("https://Acct1.blob.core.windows.net/vhds/dir/disk.vhd")
    assert got == media.MediaLink("acct1", "vhds", "dir/disk.vhd")
    assert got.path == "vhds/dir/disk.vhd"


def test_parse_unquotes_and_drops_query_fragment_port_and_user() -> None:
    got = media.parse("https://u@acct1.blob.core.windows.net:443/vhds/my%20disk%231.vhd?sv=2019&sig=x%2F#frag")
    assert got == media.MediaLink("acct1", "vhds", "my disk#1.vhd")


def test_parse_without_scheme_and_with_doubled_slash() -> None:
    assert media.parse("acct1.blob.core.windows.net/vhds/a.vhd") == media.MediaLink("acct1", "vhds", "a.vhd")
    assert media.parse("http://acct1.blob.core.windows.net//vhds/a.vhd").path == "vhds/a.vhd"


def test_account_only_link() -> None:
    got = media.parse("https://acct1.blob.core.windows.net/")
    assert (got.account, got.container, got.blob, got.path) == ("acct1", "", "", "")
    assert media.link("acct1", "") == "https://acct1.blob.core.windows.net/"


def test_account_of_and_blob_in() -> None:
    link = "https://MyAcct.blob.core.windows.net/vhds/x.vhd"
    assert media.account_of(link) == "myacct"
    assert media.blob_in(link, "MYACCT") and not media.blob_in(link, "myacct2")
    # a substring match would take this one for account "acct"
    assert not media.blob_in("https://myacct.blob.core.windows.net/vhds/acct.blob.vhd", "acct")


def test_link_quotes_what_needs_it() -> None:
    assert media.link("acct1", "vhds", "dir/my disk?.vhd") == \
        "https://acct1.blob.core.windows.net/vhds/dir/my%20disk%3F.vhd"


_ACCOUNT = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=3, max_size=24)
_CONTAINER = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=3, max_size=63)
# Blob names may hold any character, '/' (virtual directories), '%', '?', '#' and spaces included.
_BLOB = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda b: not b.startswith("/"))


@given(_ACCOUNT, _CONTAINER, _BLOB)
def test_link_parse_round_trip(account: str, container: str, blob: str) -> None:
    url = media.link(account, container, blob)
    assert media.parse(url) == media.MediaLink(account, container, blob)
    assert media.parse(url).url() == url


@given(st.sampled_from(["ACCT1", "Acct1", "acct1"]), _BLOB)
def test_account_case_is_folded(account: str, blob: str) -> None:
    assert media.parse(media.link(account, "vhds", blob)).account == "acct1"


def test_vhd_sizes() -> None:
    assert media.VHD_FOOTER_BYTES == 512
    assert media.vhd_blob_size(10) == 10 * GIB + 512
    assert (media.os_disk_gb("Linux"), media.os_disk_gb("Windows"), media.os_disk_gb(None)) == (30, 127, 127)


# --------------------------------------------------------------------------- rules and translation agree


def _snapshot(blob_bytes: int) -> UnitSnapshot:
    link = "https://acct1.blob.core.windows.net/vhds/my%20data%2Bdisk.vhd"
    disk = c.DataDisk(disk_name="d0", media_link=link, lun=0, logical_size_gb=10)
    os_link = "https://acct1.blob.core.windows.net/vhds/vm1-os.vhd"
    role = c.Role(name="vm1", service_name="cs1", deployment_name="dep1", data_disks=[disk],
                  os_disk=c.OSDisk(disk_name="vm1-os", media_link=os_link, logical_size_gb=127))
    account = c.StorageAccount(name="acct1", location="West US", blobs={
        "vhds/my data+disk.vhd": c.Blob(size_bytes=blob_bytes),
        "vhds/vm1-os.vhd": c.Blob(size_bytes=127 * GIB + 512)})
    cs = CloudService(c.HostedService(name="cs1", location="West US"),
                      c.Deployment(name="dep1", service_name="cs1"), [role])
    return UnitSnapshot(subscription=c.Subscription(id="sub1", registered_for_migration=True),
                        ref=UnitRef(UnitKind.DEPLOYMENT, "dep1", "cs1", Destination("New")),
                        now=datetime(2024, 1, 1, tzinfo=UTC), exists=True, location="West US", services=[cs],
                        storage_accounts={"acct1": account})


def _data_disk(snap: UnitSnapshot) -> dict[str, object]:
    vm = next(r for r in translate(snap).resources if r.type == arm.VM)
    disks: list[dict[str, object]] = vm.properties["storageProfile"]["dataDisks"]
    return disks[0]


def test_rule_and_translation_see_the_same_blob_for_a_quoted_link() -> None:
    # The blob is found (no R26) and its size disagrees: R25 warns and the translation leaves the size out.
    resized = _snapshot(11 * GIB + 512)
    rules = {m.rule for m in validate(resized)}
    assert "R25" in rules and "R26" not in rules
    assert "diskSizeGB" not in _data_disk(resized)
    # The same blob with the matching size: no R25, and the translation keeps the size.
    exact = _snapshot(10 * GIB + 512)
    assert not {"R25", "R26"} & {m.rule for m in validate(exact)}
    assert _data_disk(exact)["diskSizeGB"] == 10


def test_endpoint_keeps_scheme_and_host() -> None:
    assert media.endpoint("https://acct1.blob.core.windows.net/bootdiagnostics/vm1.log") == \
        "https://acct1.blob.core.windows.net/"
    assert media.endpoint("http://Acct1.blob.core.chinacloudapi.cn?sv=1") == "http://Acct1.blob.core.chinacloudapi.cn/"
    assert media.endpoint("acct1.blob.core.windows.net/x") is None
    assert media.endpoint("https:///x") is None
