"""Bad input is refused with an InputError naming the file and the spot inside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classic2arm.importers import InputError, load_bytes, load_file, safe_xml

DATA = Path(__file__).parent / "data"
AZ = 'xmlns="http://schemas.microsoft.com/windowsazure"'
NET = 'xmlns="http://schemas.microsoft.com/ServiceHosting/2011/07/NetworkConfiguration"'


def refused(data: bytes | str, name: str = "bad.xml", context: dict[str, str] | None = None) -> InputError:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(InputError) as info:
        load_bytes(raw, name, context)
    err = info.value
    assert str(err).startswith(f"{name}: ")
    assert str(err) == f"{err.path}: {err.where}: {err.message}"
    return err


def netcfg(sites: str, dns: str = "") -> str:
    return (f"<NetworkConfiguration {NET}><VirtualNetworkConfiguration>{dns}"
            f"<VirtualNetworkSites>{sites}</VirtualNetworkSites></VirtualNetworkConfiguration></NetworkConfiguration>")


# ------------------------------------------------------------------ XML safety and well-formedness


def test_malformed_xml_names_the_line() -> None:
    err = refused(f"<HostedService {AZ}>\n  <ServiceName>x</ServiceNam>\n</HostedService>")
    assert err.where == "line 2" and "malformed XML" in err.message


def test_xxe_is_refused_before_any_entity_is_read() -> None:
    with pytest.raises(InputError, match="DOCTYPE/entity declarations are not allowed") as info:
        load_file(DATA / "xxe.xml")
    assert info.value.path.endswith("xxe.xml") and info.value.where == "line 2"
    assert "root:" not in str(info.value)  # /etc/passwd content never appears


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(InputError, match="DOCTYPE/entity declarations are not allowed") as info:
        load_file(DATA / "billion_laughs.xml")
    assert info.value.where == "line 3"


def test_undeclared_entity_reference_is_malformed() -> None:
    err = refused(f"<HostedService {AZ}><ServiceName>&e;</ServiceName></HostedService>")
    assert "malformed XML" in err.message


def test_wrong_namespace_root() -> None:
    err = refused('<HostedService xmlns="urn:evil"><ServiceName>x</ServiceName></HostedService>')
    assert err.where == "HostedService" and "unexpected namespace 'urn:evil'" in err.message


def test_asm_namespace_on_netcfg_root_is_wrong() -> None:
    err = refused(f"<NetworkConfiguration {AZ}/>")
    assert "unexpected namespace" in err.message


def test_non_utf8_bytes_name_offset_and_line() -> None:
    data = b'<?xml version="1.0" encoding="utf-8"?>\n<HostedService><ServiceName>caf\xe9</ServiceName></HostedService>'
    offset = data.index(b"\xe9")
    err = refused(data)
    assert err.where == "line 2" and f"offset {offset}" in err.message and "0xe9" in err.message


def test_unknown_declared_encoding() -> None:
    err = refused(b'<?xml version="1.0" encoding="klingon-8"?><HostedService/>')
    assert "unknown encoding 'klingon-8'" in err.message


@pytest.mark.parametrize("codec", ["base64", "rot13", "rot-13", "zlib", "zlib_codec", "bz2", "hex", "uu",
                                   "quopri", "punycode", "undefined", "cp500"])
def test_declared_codec_that_is_not_a_text_encoding(codec: str) -> None:
    # Python's codec registry knows these names, but bytes.decode refuses them (LookupError) or they cannot
    # read the ASCII declaration itself: bad input, never a crash.
    err = refused(f'<?xml version="1.0" encoding="{codec}"?><HostedService {AZ}/>')
    assert err.where == "line 1" and f"encoding '{codec}'" in err.message and "not a text encoding" in err.message


def test_unknown_root() -> None:
    err = refused(f"<Subscription {AZ}/>")
    assert err.where == "Subscription" and err.message == "unknown root element <Subscription>"


@pytest.mark.parametrize("data", [b"", b"   \n\t", b"\xef\xbb\xbf"])
def test_empty_file(data: bytes) -> None:
    assert "empty" in refused(data).message


def test_unrecognised_content() -> None:
    assert "unrecognised content" in refused(b"hello world").message


def test_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_xml, "MAX_BYTES", 100)
    err = refused(f"<HostedService {AZ}><ServiceName>{'x' * 200}</ServiceName></HostedService>")
    assert "limit is 100 bytes" in err.message


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_file(tmp_path / "nope.xml")


# ------------------------------------------------------------------ encodings that must still work


def test_real_utf16_with_bom_parses() -> None:
    doc = f'<?xml version="1.0" encoding="utf-16"?><ReservedIPs {AZ}><ReservedIP><Name>ré</Name>' \
          "<Address>1.2.3.4</Address><Location>West Europe</Location></ReservedIP></ReservedIPs>"
    estate = load_bytes(doc.encode("utf-16"), "ips.xml")
    assert estate.reserved_ips[0].name == "ré"


def test_honestly_declared_latin1_parses() -> None:
    doc = b'<?xml version="1.0" encoding="iso-8859-1"?><ReservedIP><Name>caf\xe9</Name>' \
          b"<Address>1.2.3.4</Address><Location>West Europe</Location></ReservedIP>"
    assert load_bytes(doc, "ip.xml").reserved_ips[0].name == "café"


# ------------------------------------------------------------------ missing or invalid required data


def test_vnet_without_address_space_names_the_site() -> None:
    with pytest.raises(InputError) as info:
        load_file(DATA / "vnet_no_address_space.netcfg")
    assert info.value.where.endswith("VirtualNetworkSite[2]/AddressSpace")
    assert "'broken'" in info.value.message


def test_vnet_with_empty_address_space() -> None:
    err = refused(netcfg('<VirtualNetworkSite name="v" Location="East US"><AddressSpace/></VirtualNetworkSite>'))
    assert "AddressSpace" in err.where and "at least one" in err.message


def test_vnet_without_name() -> None:
    err = refused(netcfg("<VirtualNetworkSite><AddressSpace><AddressPrefix>10.0.0.0/8</AddressPrefix>"
                         "</AddressSpace></VirtualNetworkSite>"))
    assert err.where.endswith("VirtualNetworkSite@name")


def test_bad_cidr_names_the_subnet() -> None:
    err = refused(netcfg('<VirtualNetworkSite name="v" Location="East US"><AddressSpace><AddressPrefix>'
                         "10.0.0.0/8</AddressPrefix></AddressSpace><Subnets><Subnet name='a'><AddressPrefix>"
                         "10.0.0.0/8</AddressPrefix></Subnet><Subnet name='b'><AddressPrefix>10.300.0.0/16"
                         "</AddressPrefix></Subnet></Subnets></VirtualNetworkSite>"))
    assert err.where.endswith("Subnets/Subnet[2]/AddressPrefix") and "10.300.0.0/16" in err.message


def test_subnet_without_prefix() -> None:
    err = refused(netcfg('<VirtualNetworkSite name="v" Location="East US"><AddressSpace><AddressPrefix>'
                         "10.0.0.0/8</AddressPrefix></AddressSpace><Subnets><Subnet name='a'/></Subnets>"
                         "</VirtualNetworkSite>"))
    assert err.where.endswith("Subnet/AddressPrefix")


def test_unknown_dns_server_ref() -> None:
    err = refused(netcfg('<VirtualNetworkSite name="v" Location="East US"><AddressSpace><AddressPrefix>'
                         "10.0.0.0/8</AddressPrefix></AddressSpace><DnsServersRef><DnsServerRef name='ghost'/>"
                         "</DnsServersRef></VirtualNetworkSite>",
                         dns="<Dns><DnsServers><DnsServer name='real' IPAddress='10.0.0.4'/></DnsServers></Dns>"))
    assert err.where.endswith("DnsServerRef") and "'ghost'" in err.message


def test_unknown_local_network_site_ref() -> None:
    err = refused(netcfg('<VirtualNetworkSite name="v" Location="East US"><AddressSpace><AddressPrefix>'
                         "10.0.0.0/8</AddressPrefix></AddressSpace><Gateway><ConnectionsToLocalNetwork>"
                         "<LocalNetworkSiteRef name='nowhere'/></ConnectionsToLocalNetwork></Gateway>"
                         "</VirtualNetworkSite>"))
    assert "'nowhere'" in err.message


def test_role_without_role_name() -> None:
    with pytest.raises(InputError) as info:
        load_file(DATA / "role_without_rolename.xml")
    assert info.value.where == "Deployment/RoleList/Role/RoleName"


def test_get_role_without_service_and_deployment() -> None:
    err = refused(f"<PersistentVMRole {AZ}><RoleName>vm</RoleName></PersistentVMRole>", "role.xml")
    assert "service_name and deployment_name" in err.message


def test_get_deployment_without_service_name() -> None:
    err = refused(f"<Deployment {AZ}><Name>d</Name><Url>http://example.com/</Url></Deployment>")
    assert err.where == "Deployment/Url" and "service_name" in err.message


def test_bad_port_is_named() -> None:
    err = refused(f"<PersistentVMRole {AZ}><RoleName>vm</RoleName><ConfigurationSets><ConfigurationSet>"
                  "<ConfigurationSetType>NetworkConfiguration</ConfigurationSetType><InputEndpoints><InputEndpoint>"
                  "<Name>ssh</Name><Port>twenty-two</Port><LocalPort>22</LocalPort></InputEndpoint>"
                  "</InputEndpoints></ConfigurationSet></ConfigurationSets></PersistentVMRole>",
                  context={"service_name": "s", "deployment_name": "d"})
    assert err.where.endswith("InputEndpoint/Port") and "twenty-two" in err.message


def test_unknown_instance_status() -> None:
    err = refused(f"<Deployment {AZ}><Name>d</Name><Url>http://s.cloudapp.net/</Url><RoleInstanceList>"
                  "<RoleInstance><RoleName>vm</RoleName><InstanceStatus>Dancing</InstanceStatus></RoleInstance>"
                  "</RoleInstanceList><RoleList><Role><RoleName>vm</RoleName><RoleSize>Small</RoleSize></Role>"
                  "</RoleList></Deployment>")
    assert err.where.endswith("RoleInstance/InstanceStatus") and "'Dancing'" in err.message


def test_nsg_rule_with_bad_action() -> None:
    err = refused(f"<NetworkSecurityGroup {AZ}><Name>n</Name><Location>East US</Location><Rules><Rule>"
                  "<Name>r</Name><Priority>100</Priority><Action>Maybe</Action></Rule></Rules></NetworkSecurityGroup>")
    assert err.where.endswith("Rules/Rule/Action")


def test_reserved_ip_without_location() -> None:
    err = refused(f"<ReservedIP {AZ}><Name>ip</Name><Address>1.2.3.4</Address></ReservedIP>")
    assert err.where == "ReservedIP/Location"


def test_cscfg_role_without_instances() -> None:
    err = refused('<ServiceConfiguration xmlns="http://schemas.microsoft.com/ServiceHosting/2008/10/'
                  'ServiceConfiguration"><Role name="w"/></ServiceConfiguration>', "x.cscfg")
    assert err.where == "ServiceConfiguration/Role/Instances"


# ------------------------------------------------------------------ JSON session records


def test_truncated_session_json() -> None:
    with pytest.raises(InputError) as info:
        load_file(DATA / "truncated_session.json")
    assert info.value.where.startswith("line 1 column") and "malformed JSON" in info.value.message


def test_json_of_unknown_shape() -> None:
    assert "neither a session record" in refused(b'{"hello": 1}', "x.json").message


def test_session_entries_not_a_list() -> None:
    assert refused(b'{"Entries": 3}', "s.json").where == "Entries"


def test_session_entry_missing_method() -> None:
    err = refused(json.dumps({"Entries": [{"RequestUri": "/x", "StatusCode": 200}]}), "s.json")
    assert err.where == "Entries[0]" and "RequestMethod" in err.message


def test_session_bad_response_body_names_the_entry() -> None:
    body = f"<VirtualNetworkSites {AZ}><VirtualNetworkSite><Name>v</Name></VirtualNetworkSite></VirtualNetworkSites>"
    doc = {"Entries": [{"RequestUri": "/s/services/networking/virtualnetwork", "RequestMethod": "GET",
                        "ResponseBody": body, "StatusCode": 200}]}
    err = refused(json.dumps(doc), "s.json")
    assert err.where == "Entries[0]/ResponseBody/VirtualNetworkSites/VirtualNetworkSite/AddressSpace"


def test_session_ignores_failed_calls_and_foreign_bodies() -> None:
    doc = {"Entries": [
        {"RequestUri": "/s/services/networking/media", "RequestMethod": "GET", "StatusCode": 404,
         "ResponseBody": "<Error><Code>ResourceNotFound</Code></Error>"},
        {"RequestUri": "/s/locations", "RequestMethod": "GET", "StatusCode": 200,
         "ResponseBody": f"<Locations {AZ}/>"},
        {"RequestUri": "/s/providers/x", "RequestMethod": "GET", "StatusCode": 200, "ResponseBody": "{}"},
    ]}
    estate = load_bytes(json.dumps(doc).encode(), "s.json")
    assert estate.counts() == {} and estate.notes


def test_wrongly_declared_ascii_over_utf8_falls_back_to_utf8() -> None:
    doc = '<?xml version="1.0" encoding="us-ascii"?><ReservedIP><Name>café</Name>' \
          "<Address>1.2.3.4</Address><Location>West Europe</Location></ReservedIP>"
    assert load_bytes(doc.encode("utf-8"), "ip.xml").reserved_ips[0].name == "café"


def test_declared_ascii_with_latin1_bytes_is_refused() -> None:
    err = refused(b'<?xml version="1.0" encoding="us-ascii"?>\n<ReservedIP><Name>caf\xe9</Name></ReservedIP>')
    assert err.where == "line 2" and "not valid utf-8" in err.message


@pytest.mark.parametrize("doc", [
    b"classic2arm: estate/v1\nsubscription: " + b"[" * 50_000 + b"]" * 50_000,
    b"classic2arm: estate/v1\nx:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 3000)),
    b"classic2arm: estate/v1\nx: " + b"{a: " * 20_000 + b"1" + b"}" * 20_000,
])
def test_deeply_nested_yaml_is_bad_input(doc: bytes) -> None:
    err = refused(doc, "deep.yaml")
    assert "nested more than 100 levels deep" in err.message


def test_deeply_nested_json_is_bad_input() -> None:
    err = refused(b'{"classic2arm": "estate/v1", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "deep.json")
    assert "nested too deeply" in err.message or "depth" in err.message
