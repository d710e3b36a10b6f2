"""Personal data at rest (PIPL): values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) and
found again through a keyed hash (HMAC-SHA256), never through the plaintext.

Keys come from the environment:
- TMCS_FIELD_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first (older keys still decrypt,
  which is how keys are rotated);
- TMCS_LOOKUP_HASH_KEY: the secret of the lookup hash (changing it needs a re-hash of every row).
Without them (local use and tests) both are derived from SECRET_KEY; `check --deploy` warns then.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


def _derive(purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tmcs-personal-data", info=purpose.encode())
    return hkdf.derive(settings.SECRET_KEY.encode())


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derive("field-encryption")).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys():
    return tuple(settings.TMCS_FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY


def encrypt(plaintext: str) -> str:
    return _fernet(*_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(*_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("personal data cannot be decrypted with the configured keys") from None


def lookup_hash(kind: str, normalized: str) -> str:
    """Keyed hash of a normalized value; `kind` separates ID numbers from phone numbers."""
    key = settings.TMCS_LOOKUP_HASH_KEY.encode() if settings.TMCS_LOOKUP_HASH_KEY else _derive("lookup-hash")
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


@register(deploy=True)
def check_personal_data_keys(app_configs, **kwargs):
    problems = []
    if not settings.TMCS_FIELD_ENCRYPTION_KEYS:
        problems.append(
            CheckWarning(
                "TMCS_FIELD_ENCRYPTION_KEYS is not set: personal data is encrypted with a key derived from SECRET_KEY.",
                hint="Generate one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.",
                id="tmcs.W001",
            )
        )
    if not settings.TMCS_LOOKUP_HASH_KEY:
        problems.append(
            CheckWarning(
                "TMCS_LOOKUP_HASH_KEY is not set: lookup hashes use a key derived from SECRET_KEY.",
                hint="Set a random secret of at least 32 characters and keep it for the life of the database.",
                id="tmcs.W002",
            )
        )
    for key in settings.TMCS_FIELD_ENCRYPTION_KEYS:
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append(
                CheckWarning("A TMCS_FIELD_ENCRYPTION_KEYS entry is not a valid Fernet key.", id="tmcs.W003")
            )
    return problems
