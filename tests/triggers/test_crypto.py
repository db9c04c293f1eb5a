"""nodeflow.crypto: secrets at rest, with key rotation through NODEFLOW_SECRET_KEYS."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from nodeflow import crypto


@pytest.fixture
def keys(settings):
    """Set NODEFLOW["SECRET_KEYS"] for the test."""

    def use(*values):
        settings.NODEFLOW = {**settings.NODEFLOW, "SECRET_KEYS": list(values)}

    return use


def test_encrypt_then_decrypt_gives_the_text_back_and_hides_it(keys):
    keys(crypto.generate_key())
    token = crypto.encrypt("pässword ✓")
    assert "pässword" not in token and token != crypto.encrypt("pässword ✓")  # random IV
    assert crypto.decrypt(token) == "pässword ✓"


def test_without_configured_keys_the_key_comes_from_secret_key(keys, settings):
    keys()
    token = crypto.encrypt("x")
    assert Fernet(crypto.key_from_secret_key(settings.SECRET_KEY)).decrypt(token.encode()) == b"x"
    settings.SECRET_KEY = "another secret key, another derived key"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_the_first_key_encrypts_and_every_key_decrypts(keys):
    old, new = crypto.generate_key(), crypto.generate_key()
    keys(old)
    from_old = crypto.encrypt("secret")
    keys(new, old)
    from_new = crypto.encrypt("secret")
    assert crypto.decrypt(from_old) == crypto.decrypt(from_new) == "secret"
    assert Fernet(new).decrypt(from_new.encode()) == b"secret"
    rotated = crypto.rotate(from_old)
    keys(new)
    assert crypto.decrypt(rotated) == "secret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(from_old)


def test_an_altered_or_foreign_value_does_not_decrypt(keys):
    keys(crypto.generate_key())
    token = crypto.encrypt("secret")
    for bad in (token[:-4] + "AAAA", "not a token", Fernet(Fernet.generate_key()).encrypt(b"secret").decode()):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(bad)


def test_a_malformed_key_is_refused_naming_the_variable(keys):
    keys(crypto.generate_key(), "too-short")
    with pytest.raises(ImproperlyConfigured, match="NODEFLOW_SECRET_KEYS: key #2"):
        crypto.encrypt("x")
