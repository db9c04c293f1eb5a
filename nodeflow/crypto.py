"""Encryption of secrets at rest (webhook secrets, credentials): Fernet with key rotation.

Keys come from NODEFLOW_SECRET_KEYS (settings.NODEFLOW["SECRET_KEYS"]), comma-separated
Fernet keys: the first encrypts, every one decrypts. Rotating is: put a new key first,
re-encrypt stored values with `rotate()`, then drop the old key. Without the variable
(embedded mode) the one key is derived from SECRET_KEY, so changing SECRET_KEY then
makes stored secrets unreadable; `key_from_secret_key()` prints that key for moving to
NODEFLOW_SECRET_KEYS.

    token = encrypt("s3cret")   # text, safe to store in a CharField/TextField
    decrypt(token)              # "s3cret"; DecryptionError for a token no key opens
"""

import base64
import binascii
import threading

# cryptography is imported where it is used: it weighs about 8 MB, and embedded mode (idle
# RSS under 100 MB) may well run without ever storing a secret.
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_KDF_INFO = b"nodeflow secrets at rest v1"


class DecryptionError(ValueError):
    """The value was not encrypted by any of the configured keys (or was altered)."""


def encrypt(text: str) -> str:
    """`text` encrypted (and authenticated) with the first key, as URL-safe text."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text `encrypt()` made; DecryptionError when no configured key opens it."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, AttributeError):
        raise DecryptionError("the value cannot be decrypted with the configured NODEFLOW_SECRET_KEYS") from None


def rotate(token: str) -> str:
    """The same secret encrypted again with the first key (after a new key was put first)."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, AttributeError):
        raise DecryptionError("the value cannot be decrypted with the configured NODEFLOW_SECRET_KEYS") from None


def generate_key() -> str:
    """A new random key for NODEFLOW_SECRET_KEYS."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def key_from_secret_key(secret_key=None) -> str:
    """The key used when NODEFLOW_SECRET_KEYS is not set: HKDF-SHA256 of SECRET_KEY."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    material = (secret_key if secret_key is not None else settings.SECRET_KEY).encode("utf-8")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(material)
    return base64.urlsafe_b64encode(derived).decode("ascii")


def configured_keys():
    """The keys in use, first (encrypting) key first; ImproperlyConfigured for a malformed one."""
    return check_keys() or [key_from_secret_key()]


def check_keys():
    """The keys of NODEFLOW_SECRET_KEYS (maybe none); ImproperlyConfigured for a malformed one."""
    keys = list(settings.NODEFLOW.get("SECRET_KEYS") or [])
    for number, key in enumerate(keys, 1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (binascii.Error, ValueError, UnicodeError):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"NODEFLOW_SECRET_KEYS: key #{number} is not a Fernet key (32 bytes, URL-safe base64); "
                "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
    return keys


_cache = {}
_cache_lock = threading.Lock()


def _fernet():
    # Keyed by the settings it is made from, so override_settings (tests) and a changed
    # environment are seen; building a MultiFernet costs a few microseconds per key anyway.
    source = (tuple(settings.NODEFLOW.get("SECRET_KEYS") or ()), settings.SECRET_KEY)
    fernet = _cache.get(source)
    if fernet is None:
        from cryptography.fernet import Fernet, MultiFernet

        fernet = MultiFernet([Fernet(key) for key in configured_keys()])
        with _cache_lock:
            _cache.clear()
            _cache[source] = fernet
    return fernet
