"""The publishsettings PKCS#12 (service/pkcs12.py): an empty-password PFX that OpenSSL (through `cryptography`)
reads back to the same key and certificate, in the shape the classic xplat CLI decodes (3DES shrouded key bag,
certBag, SHA-1 MAC), and the .publishsettings file around it."""

from __future__ import annotations

import base64
from xml.etree import ElementTree

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from classic2arm.service import credentials
from classic2arm.service import pkcs12 as ours
from classic2arm.service.errors import ServiceError


def _rsa() -> tuple[bytes, bytes]:
    return credentials.make_certificate("pkcs12 test")


def test_rsa_is_the_default_and_ec_on_request() -> None:
    cert_pem, key_pem = _rsa()
    assert load_pem_private_key(key_pem, None).key_size == 2048  # type: ignore[union-attr]
    _, ec_key = credentials.make_certificate("ec", key_type="ec")
    assert isinstance(load_pem_private_key(ec_key, None), ec.EllipticCurvePrivateKey)
    with pytest.raises(ServiceError):
        credentials.make_certificate("x", key_type="dsa")
    assert x509.load_pem_x509_certificate(cert_pem).subject.rfc4514_string() == "CN=pkcs12 test"


@pytest.mark.parametrize("password", [None, b""])
def test_pfx_reads_back_with_an_empty_password(password: bytes | None) -> None:
    cert_pem, key_pem = _rsa()
    key = load_pem_private_key(key_pem, None)
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    data = ours.pfx(der, key)  # type: ignore[arg-type]
    back_key, back_cert, extra = pkcs12.load_key_and_certificates(data, password)  # the MAC is checked too
    assert back_cert is not None and back_cert.public_bytes(serialization.Encoding.DER) == der
    assert back_key is not None and back_key.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    assert extra == []
    # the algorithm the CLI's decoder knows (pbeWithSHAAnd3-KeyTripleDES-CBC) and both bag types are there
    for oid in ("1.2.840.113549.1.12.1.3", "1.2.840.113549.1.12.10.1.2", "1.2.840.113549.1.12.10.1.3"):
        assert ours._oid(oid) in data


def test_derive_is_rfc7292_appendix_b() -> None:
    # PKCS#12 KDF with SHA-1: a key longer than one digest chains two blocks
    one = ours.derive(b"\x01" * 8, 1, 1, 20)
    two = ours.derive(b"\x01" * 8, 1, 1, 24)
    assert two[:20] == one and len(two) == 24 and ours.derive(b"\x01" * 8, 2, 1, 20) != one


def test_publishsettings_file() -> None:
    cert_pem, key_pem = _rsa()
    text = credentials.publish_settings(cert_pem, key_pem, "sub-1", "My & sub", "https://127.0.0.1:8443")
    root = ElementTree.fromstring(text)
    profile = root.find("PublishProfile")
    assert profile is not None and profile.get("SchemaVersion") == "2.0"
    sub = profile.find("Subscription")
    assert sub is not None and (sub.get("Id"), sub.get("Name"), sub.get("ServiceManagementUrl")) == (
        "sub-1", "My & sub", "https://127.0.0.1:8443")
    _key, cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(sub.get("ManagementCertificate") or ""), None)
    assert cert is not None and cert.public_bytes(serialization.Encoding.PEM) == cert_pem
    _, ec_key = credentials.make_certificate("ec", key_type="ec")
    with pytest.raises(ServiceError, match="RSA"):
        credentials.publish_settings(cert_pem, ec_key, "s", "s", "https://x")
