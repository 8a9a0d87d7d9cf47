"""Witnesses cosign a checkpoint only after checking it extends the last one they signed."""

from __future__ import annotations

import pytest

from tepat.core.errors import TepatError
from tepat.ledger import merkle, note, selectors
from tepat.ledger.models import WitnessCosignature
from tepat.ledger.services import witness_cosignature_add
from tepat.ledger.witness import WitnessRefused, WitnessState, witness_cosign

ORIGIN = "test.tepat/ledger"


def test_a_witness_cosigns_a_consistent_checkpoint_and_the_log_publishes_it(
    logged, log_signer, witness_signer
):
    logged(10)
    first = selectors.latest_checkpoint()
    assert first is not None
    _, state = witness_cosign(
        note=first.note, log_keys=[log_signer.verifier], origin=ORIGIN, last=None, proof=[],
        signer=witness_signer,
    )  # fmt: skip
    logged(6)
    second = selectors.latest_checkpoint()
    assert second is not None
    proof = selectors.consistency_proof(first=state.size, second=second.size)
    cosigned, state = witness_cosign(
        note=second.note, log_keys=[log_signer.verifier], origin=ORIGIN, last=state, proof=proof,
        signer=witness_signer,
    )  # fmt: skip
    assert state.size == 16
    stored = witness_cosignature_add(note=cosigned)
    assert WitnessCosignature.objects.filter(checkpoint=stored).count() == 1
    assert stored.note.count("\n— ") == 2
    parsed = note.parse_note(stored.note)
    assert note.verified_by(parsed, [witness_signer.verifier, log_signer.verifier])


def test_a_witness_refuses_a_checkpoint_from_a_forked_log(logged, log_signer, witness_signer):
    logged(10)
    honest = selectors.latest_checkpoint()
    assert honest is not None
    state = WitnessState(honest.size, bytes(honest.root))
    # The same key signs a different history of 12 entries (a split view).
    other = merkle.MemoryTree([merkle.leaf_hash(b"%d" % i) for i in range(12)])
    forked = note.sign_checkpoint(note.Checkpoint(ORIGIN, 12, other.root()), [log_signer])
    proof = merkle.consistency_proof(10, 12, other.node)
    with pytest.raises(WitnessRefused, match="not consistent"):
        witness_cosign(
            note=forked, log_keys=[log_signer.verifier], origin=ORIGIN, last=state, proof=proof,
            signer=witness_signer,
        )  # fmt: skip


def test_a_witness_refuses_to_go_back_in_time(logged, log_signer, witness_signer):
    logged(10)
    cp = selectors.latest_checkpoint()
    assert cp is not None
    with pytest.raises(WitnessRefused, match="smaller"):
        witness_cosign(
            note=cp.note, log_keys=[log_signer.verifier], origin=ORIGIN,
            last=WitnessState(20, b"\0" * 32), proof=[], signer=witness_signer,
        )  # fmt: skip


def test_the_log_refuses_a_cosigned_checkpoint_it_never_issued(logged, log_signer, witness_signer):
    logged(10)
    bogus = note.sign_checkpoint(note.Checkpoint(ORIGIN, 10, b"\7" * 32), [log_signer])
    sig = note.sign_note(note.parse_note(bogus).text, witness_signer)
    with pytest.raises(TepatError, match="not consistent"):
        witness_cosignature_add(note=note.add_signatures(bogus, [sig]))


def test_the_log_ignores_a_cosignature_from_an_unregistered_witness(logged, log_signer, settings):
    logged(10)
    settings.LEDGER_WITNESS_KEYS = []
    stranger = note.Signer.generate("stranger.example", alg=note.ALG_COSIGNATURE_V1)
    cp = selectors.latest_checkpoint()
    assert cp is not None
    sig = note.sign_note(note.parse_note(cp.note).text, stranger)
    with pytest.raises(TepatError, match="registered witness"):
        witness_cosignature_add(note=note.add_signatures(cp.note, [sig]))
