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


def test_a_decryptor_decrypts_many_tokens_of_one_context():
    tokens = [crypto.encrypt(f"32730112058000{i:02d}", context="person.nik") for i in range(5)]
    one = crypto.decryptor(context="person.nik")
    assert [one(t) for t in tokens] == [crypto.decrypt(t, context="person.nik") for t in tokens]
    wrong = crypto.decryptor(context="household.kk")
    with pytest.raises(InvalidTag):
        wrong(tokens[0])
    with pytest.raises(ValueError, match="unknown field-encryption key id"):
        one("nokey:" + tokens[0].partition(":")[2])


@pytest.mark.parametrize("context", ["", "integration.record.nik", "integration.record.kk"])
def test_an_encryptor_makes_tokens_that_decrypt_as_encrypts_do(context):
    one = crypto.encryptor(context=context)
    values = ["3273010101900001", "", "José Ünïcode", "x" * 300]
    tokens = [one(v) for v in values]
    assert [crypto.decrypt(t, context=context) for t in tokens] == values
    # The same format as encrypt: key id, colon, base64 of nonce + ciphertext + tag.
    reference = crypto.encrypt(values[0], context=context)
    assert tokens[0].partition(":")[0] == reference.partition(":")[0]
    assert len(tokens[0]) == len(reference)
    assert one(values[0]) != tokens[0]  # a fresh nonce every call
    with pytest.raises(InvalidTag):
        crypto.decrypt(tokens[0], context=context + ".other")


def test_an_encryptor_uses_the_current_key(settings):
    settings.FIELD_KEY = "k7:" + "C" * 43
    settings.FIELD_KEYS_OLD = ["k1:" + "A" * 43]
    token = crypto.encryptor(context="c")("rahasia")
    assert token.startswith("k7:")
    assert crypto.decrypt(token, context="c") == "rahasia"


@pytest.mark.parametrize("master", [None, "short", "k" * 200])
@pytest.mark.parametrize("purpose", ["nik", "kk", "pseudonym:ledger"])
def test_a_blind_indexer_gives_the_digests_of_blind_index(settings, master, purpose):
    if master is not None:
        settings.BLIND_INDEX_KEY = master
    one = crypto.blind_indexer(purpose=purpose)
    for value in ["3273010101900001", "", "x", "José", "a" * 100, "\u0663" * 16]:
        assert one(value) == crypto.blind_index(value, purpose=purpose)
