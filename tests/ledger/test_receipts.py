"""A citizen's receipt verifies offline against the signed checkpoint and fails when altered."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tepat.ledger import merkle, selectors
from tepat.ledger.note import Signer
from tepat.ledger.receipts import receipt_verify


def test_a_receipt_holds_entry_proof_and_checkpoint_and_verifies_offline(logged, log_signer):
    logged(77, batch=30)
    receipt = selectors.receipt(index=33)
    assert receipt["tree_size"] == 77
    assert json.loads(receipt["entry"])["payment"] == "pay-000033"
    result = receipt_verify(receipt, trusted_keys=[log_signer.verifier])
    assert result.ok, result.reason
    assert result.entry is not None
    assert result.entry["amount"] == 750_000


def test_a_receipt_shows_no_personal_data_in_clear(logged):
    logged(3)
    entry = json.loads(selectors.receipt(index=1)["entry"])
    assert "3273010101900001" not in json.dumps(entry)
    assert len(entry["beneficiary"]) == 32
    assert set(entry) == {
        "amount", "beneficiary", "channel", "cycle", "kind", "payment", "programme", "region",
        "time", "v",
    }  # fmt: skip


def test_the_entry_json_is_canonical(logged):
    logged(1)
    body = selectors.receipt(index=0)["entry"]
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    assert '"time":"2026-11-28T08:00:00Z"' in body


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(entry=r["entry"].replace("750000", "7500000")),
        lambda r: r.update(index=r["index"] + 1),
        lambda r: r.update(proof=r["proof"][:-1]),
        lambda r: r.update(tree_size=r["tree_size"] - 1),
        lambda r: r.update(checkpoint=r["checkpoint"].replace("\n77\n", "\n78\n")),
        lambda r: r.update(format="something/else"),
        lambda r: r.pop("proof"),
    ],
    ids=["amount", "index", "proof", "size", "checkpoint", "format", "missing"],
)
def test_an_altered_receipt_is_refused(logged, log_signer, tamper):
    logged(77, batch=30)
    receipt = selectors.receipt(index=33)
    tamper(receipt)
    assert not receipt_verify(receipt, trusted_keys=[log_signer.verifier]).ok


def test_a_receipt_signed_by_another_key_is_refused(logged):
    logged(5)
    other = Signer.generate("test.tepat/ledger")
    result = receipt_verify(selectors.receipt(index=2), trusted_keys=[other.verifier])
    assert not result.ok
    assert "not trusted" in result.reason


def test_a_receipt_checks_against_a_newer_checkpoint_with_a_consistency_proof(logged, log_signer):
    logged(10)
    receipt = selectors.receipt(index=4)
    logged(5)
    newer = selectors.latest_checkpoint()
    assert newer is not None
    assert newer.size == 15
    proof = selectors.consistency_proof(first=10, second=15)
    ok = receipt_verify(
        receipt, trusted_keys=[log_signer.verifier], checkpoint_note=newer.note, consistency=proof
    )
    assert ok.ok, ok.reason
    bad = receipt_verify(receipt, trusted_keys=[log_signer.verifier], checkpoint_note=newer.note)
    assert not bad.ok


def test_the_verify_receipt_command_says_valid_or_not(logged, log_signer, tmp_path, capsys):
    logged(12)
    path = tmp_path / "receipt.json"
    cp = tmp_path / "checkpoint.txt"
    receipt = selectors.receipt(index=11)
    path.write_text(json.dumps(receipt))
    cp.write_text(receipt["checkpoint"])
    key = log_signer.verifier.vkey()
    call_command("ledger", "verify-receipt", str(path), "--checkpoint", str(cp), "--key", key)
    assert "Sah / VALID" in capsys.readouterr().out
    receipt["entry"] = receipt["entry"].replace("pay-000011", "pay-000099")
    path.write_text(json.dumps(receipt))
    with pytest.raises(CommandError, match="NOT VALID"):
        call_command("ledger", "verify-receipt", str(path), "--key", key)


def test_a_receipt_is_not_given_before_its_entry_is_checkpointed(logged):
    from tepat.core.errors import NotFound

    logged(2)
    with pytest.raises(NotFound):
        selectors.receipt(index=2)


def test_receipt_proofs_match_a_naive_tree(logged):
    logged(301, batch=77)
    from tepat.ledger.models import LogEntry

    leaves = [merkle.leaf_hash(b.encode()) for b in LogEntry.objects.values_list("body", flat=True)]
    tree = merkle.MemoryTree(leaves)
    for index in (0, 1, 150, 255, 256, 300):
        assert selectors.inclusion_proof(index=index, size=301) == merkle.inclusion_proof(
            index, 301, tree.node
        )
