"""Checkpoints are signed with an Ed25519 key so a copy kept outside proves it came from the
platform. The key is JOURNAL_SIGNING_KEY (base64 of the 32-byte private key) or, when unset,
derived from SECRET_KEY — set it explicitly in production so rotating SECRET_KEY keeps the key."""

import base64
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from . import hashing


@lru_cache(maxsize=4)
def _private_key(configured, secret):
    if configured:
        raw = base64.b64decode(configured)
    else:
        raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tmcs-journal-checkpoint").derive(
            secret.encode("utf-8")
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def private_key():
    return _private_key(getattr(settings, "JOURNAL_SIGNING_KEY", ""), settings.SECRET_KEY)


def public_key_b64():
    raw = private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def checkpoint_message(checkpoint):
    return hashing.canonical(
        {
            "day": str(checkpoint["day"]),
            "last_seq": int(checkpoint["last_seq"]),
            "head_hash": checkpoint["head_hash"],
            "entry_count": int(checkpoint["entry_count"]),
        }
    )


def sign(message):
    return base64.b64encode(private_key().sign(message.encode("utf-8"))).decode("ascii")


def verify(message, signature, public_key=None):
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key or public_key_b64()))
    try:
        key.verify(base64.b64decode(signature), message.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True
