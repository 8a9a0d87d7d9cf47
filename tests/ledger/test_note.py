"""Signed notes and checkpoints: C2SP format, round trips, foreign signatures ignored."""

from __future__ import annotations

import base64

import pytest

from tepat.ledger import note
from tepat.ledger.note import Checkpoint, NoteError, Signer


def test_a_checkpoint_signs_and_opens_with_its_key():
    signer = Signer.generate("example.com/log")
    cp = Checkpoint("example.com/log", 12, bytes(range(32)))
    text = note.sign_checkpoint(cp, [signer])
    assert text.startswith("example.com/log\n12\n" + base64.b64encode(bytes(range(32))).decode())
    assert "\n\n— example.com/log " in text
    assert note.open_checkpoint(text, [signer.verifier], origin="example.com/log") == cp


def test_the_key_id_is_the_first_four_bytes_of_the_named_key_hash():
    import hashlib

    signer = Signer.generate("example.com/log")
    pub = signer.verifier.public
    want = hashlib.sha256(b"example.com/log\n\x01" + pub).digest()[:4]
    assert signer.verifier.key_id == want
    line = note.sign_note("a\n", signer).line()
    assert base64.b64decode(line.split(" ")[2])[:4] == want


def test_keys_round_trip_through_their_text_form_even_with_plus_in_base64():
    for _ in range(20):
        signer = Signer.generate("log.example/x")
        assert note.parse_signer(signer.skey()) == signer
        assert note.parse_verifier(signer.verifier.vkey()) == signer.verifier


def test_a_signature_from_an_unknown_key_is_ignored_not_fatal():
    ours = Signer.generate("example.com/log")
    stranger = Signer.generate("stranger.example")
    text = note.sign_checkpoint(Checkpoint("example.com/log", 1, b"\0" * 32), [stranger, ours])
    assert note.open_checkpoint(text, [ours.verifier]).size == 1
    parsed = note.parse_note(text)
    assert note.verified_by(parsed, [ours.verifier]) == [ours.verifier]


def test_a_note_signed_only_by_a_foreign_key_is_refused():
    stranger = Signer.generate("example.com/log")  # same name, different key
    ours = Signer.generate("example.com/log")
    text = note.sign_checkpoint(Checkpoint("example.com/log", 1, b"\0" * 32), [stranger])
    with pytest.raises(NoteError, match="no valid signature"):
        note.open_checkpoint(text, [ours.verifier])


def test_a_changed_checkpoint_no_longer_verifies():
    signer = Signer.generate("example.com/log")
    text = note.sign_checkpoint(Checkpoint("example.com/log", 5, b"\1" * 32), [signer])
    forged = text.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(NoteError):
        note.open_checkpoint(forged, [signer.verifier])


def test_a_checkpoint_from_another_origin_is_refused():
    signer = Signer.generate("other.example")
    text = note.sign_checkpoint(Checkpoint("other.example", 5, b"\1" * 32), [signer])
    with pytest.raises(NoteError, match="origin"):
        note.open_checkpoint(text, [signer.verifier], origin="example.com/log")


@pytest.mark.parametrize(
    "text",
    [
        "example\n5\n\n",  # no root
        "example\n05\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",  # leading zero
        "example\n5\nAAAA\n",  # short root
        "example\n-5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # no final newline
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        note.parse_checkpoint(text)


def test_checkpoint_extension_lines_are_kept():
    cp = note.parse_checkpoint("o\n1\n" + base64.b64encode(b"\2" * 32).decode() + "\nx ext\n")
    assert cp.extensions == ("x ext",)
    assert cp.text().endswith("x ext\n")


def test_a_witness_cosignature_v1_signs_time_and_checkpoint():
    log = Signer.generate("example.com/log")
    witness = Signer.generate("w.example", alg=note.ALG_COSIGNATURE_V1)
    text = note.sign_checkpoint(Checkpoint("example.com/log", 3, b"\3" * 32), [log])
    sig = note.sign_note(note.parse_note(text).text, witness, timestamp=1_790_000_000)
    cosigned = note.add_signatures(text, [sig])
    parsed = note.parse_note(cosigned)
    assert len(parsed.signatures) == 2
    assert note.verified_by(parsed, [witness.verifier, log.verifier]) == [
        witness.verifier,
        log.verifier,
    ]
    assert int.from_bytes(parsed.signatures[1].raw[:8], "big") == 1_790_000_000
