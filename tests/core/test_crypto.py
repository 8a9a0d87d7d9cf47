import pytest
from cryptography.exceptions import InvalidTag

from tepat.core import crypto


def test_encryption_round_trips_and_is_randomised():
    a = crypto.encrypt("3273010101900001", context="person.nik")
    b = crypto.encrypt("3273010101900001", context="person.nik")
    assert a != b
    assert crypto.decrypt(a, context="person.nik") == "3273010101900001"


def test_ciphertext_bound_to_its_context():
    token = crypto.encrypt("3273010101900001", context="person.nik")
    with pytest.raises(InvalidTag):
        crypto.decrypt(token, context="person.phone")


def test_blind_index_is_deterministic_and_purpose_separated():
    assert crypto.blind_index("x", purpose="nik") == crypto.blind_index("x", purpose="nik")
    assert crypto.blind_index("x", purpose="nik") != crypto.blind_index("x", purpose="phone")


def test_old_keys_still_decrypt_after_rotation(settings):
    settings.FIELD_KEY = "k1:" + "A" * 43
    token = crypto.encrypt("rahasia")
    settings.FIELD_KEY = "k2:" + "B" * 43
    settings.FIELD_KEYS_OLD = ["k1:" + "A" * 43]
    assert token.startswith("k1:")
    assert crypto.decrypt(token) == "rahasia"
    assert crypto.encrypt("baru").startswith("k2:")
