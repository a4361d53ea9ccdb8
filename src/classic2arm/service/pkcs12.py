"""A PKCS#12 (PFX) with an empty password, in the one shape Azure's `.publishsettings` files carried and the classic
xplat CLI's own decoder (azure-cli 0.10.x, lib/util/certificates/pkcs.js) reads: an RSA key in a
pkcs-8ShroudedKeyBag encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC, the certificate in a plain certBag, each in
a `data` ContentInfo, and a SHA-1 HMAC over the authenticated safe.

`cryptography` refuses to build a PKCS#12 with an empty password, so this module writes the DER itself. The key
derivation is RFC 7292 appendix B with the password as the CLI treats an empty one: no bytes at all (not the
two-byte BMPString terminator), which is also what OpenSSL uses for a NULL password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes

ITERATIONS = 2048
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_PBE_3DES = "1.2.840.113549.1.12.1.3"
_OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
_OID_X509 = "1.2.840.113549.1.9.22.1"
_OID_LOCAL_KEY_ID = "1.2.840.113549.1.9.21"
_OID_SHA1 = "1.3.14.3.2.26"


# --------------------------------------------------------------------------- DER


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _set(*items: bytes) -> bytes:
    return _tlv(0x31, b"".join(sorted(items)))


def _int(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return _tlv(0x02, raw)


def _octets(data: bytes) -> bytes:
    return _tlv(0x04, data)


def _null() -> bytes:
    return b"\x05\x00"


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _explicit0(content: bytes) -> bytes:
    return _tlv(0xA0, content)


# --------------------------------------------------------------------------- RFC 7292 appendix B (SHA-1)


def derive(salt: bytes, iterations: int, purpose: int, size: int) -> bytes:
    """Key material for `purpose` (1 key, 2 IV, 3 MAC key) from an empty password."""
    u, v = 20, 64
    d = bytes([purpose]) * v
    s = (salt * ((v + len(salt) - 1) // len(salt)))[: v * ((len(salt) + v - 1) // v)]
    i = bytearray(s)  # (P is empty: I = S)
    out = b""
    while len(out) < size:
        a = hashlib.sha1(d + bytes(i)).digest()
        for _ in range(iterations - 1):
            a = hashlib.sha1(a).digest()
        out += a
        if len(out) >= size:
            break
        b = int.from_bytes((a * ((v + u - 1) // u))[:v], "big")
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j:j + v], "big") + b + 1) % (1 << (8 * v))
            i[j:j + v] = block.to_bytes(v, "big")
    return out[:size]


def _encrypt(plain: bytes, salt: bytes) -> bytes:
    key, iv = derive(salt, ITERATIONS, 1, 24), derive(salt, ITERATIONS, 2, 8)
    padder = padding.PKCS7(64).padder()
    enc = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    return enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()


# --------------------------------------------------------------------------- the PFX


def _data_info(content: bytes) -> bytes:
    return _seq(_oid(_OID_DATA), _explicit0(_octets(content)))


def pfx(cert_der: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """The PKCS#12 of this certificate and its RSA key, with an empty password."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("a publishsettings PKCS#12 holds an RSA key (the classic CLI reads no other)")
    key_info = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    local_id = hashlib.sha1(cert_der).digest()
    attributes = _set(_seq(_oid(_OID_LOCAL_KEY_ID), _set(_octets(local_id))))
    salt = secrets.token_bytes(8)
    shrouded = _seq(_seq(_oid(_OID_PBE_3DES), _seq(_octets(salt), _int(ITERATIONS))),
                    _octets(_encrypt(key_info, salt)))
    key_bag = _seq(_oid(_OID_SHROUDED_KEY_BAG), _explicit0(shrouded), attributes)
    cert_bag = _seq(_oid(_OID_CERT_BAG), _explicit0(_seq(_oid(_OID_X509), _explicit0(_octets(cert_der)))),
                    attributes)
    auth_safe = _seq(_data_info(_seq(cert_bag)), _data_info(_seq(key_bag)))
    mac_salt = secrets.token_bytes(8)
    digest = hmac.new(derive(mac_salt, ITERATIONS, 3, 20), auth_safe, hashlib.sha1).digest()
    mac_data = _seq(_seq(_seq(_oid(_OID_SHA1), _null()), _octets(digest)), _octets(mac_salt), _int(ITERATIONS))
    return _seq(_int(3), _data_info(auth_safe), mac_data)
