"""Alibaba Cloud RPC signature V1 (HMAC-SHA1), server side.

Independent of the C client on purpose: the simulator is a second
implementation of alicloud-openapi.md section 1 so that a bug in one side
shows up as SignatureDoesNotMatch instead of being mirrored.
"""
import base64
import hashlib
import hmac
import re

# Only RFC 3986 unreserved characters stay literal under Alibaba's percentEncode.
_ALL_SAFE = re.compile(r"[A-Za-z0-9\-_.~]*\Z")
_UNSAFE_BYTE = re.compile(rb"[^A-Za-z0-9\-_.~]")
_HEX = {b: ("%%%02X" % b).encode("ascii") for b in range(256)}


def _escape(match):
    return _HEX[match.group()[0]]


def percent_encode(value):
    """UTF-8 then %XY (uppercase hex) for every byte outside A-Za-z0-9-_.~"""
    if not isinstance(value, bytes):
        value = str(value)
        if _ALL_SAFE.match(value):
            return value
        value = value.encode("utf-8")
    return _UNSAFE_BYTE.sub(_escape, value).decode("ascii")


def canonical_query(params):
    """Sorted name=value pairs over every parameter except Signature."""
    items = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(percent_encode(k) + "=" + percent_encode(v) for k, v in items)


def string_to_sign(method, params):
    return method.upper() + "&%2F&" + percent_encode(canonical_query(params))


def sign(method, params, secret):
    """Base64(HMAC-SHA1(secret + "&", StringToSign))."""
    sts = string_to_sign(method, params)
    mac = hmac.new((secret + "&").encode("utf-8"), sts.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def verify(method, params, secret):
    """Return (ok, server_string_to_sign)."""
    sts = string_to_sign(method, params)
    mac = hmac.new((secret + "&").encode("utf-8"), sts.encode("utf-8"), hashlib.sha1)
    expected = base64.b64encode(mac.digest()).decode("ascii")
    got = params.get("Signature", "")
    return hmac.compare_digest(expected.encode(), got.encode("utf-8", "replace")), sts
