"""The public JSON API: checkpoint, proofs, receipts and the witness endpoint; no login needed."""

from __future__ import annotations

import base64

import pytest

from tepat.ledger import merkle, note, selectors
from tepat.ledger.receipts import receipt_verify

pytestmark = pytest.mark.urls("ledger_test_urls")


def _b(items):
    return [base64.b64decode(x) for x in items]


def test_the_checkpoint_and_proofs_are_public_json(client, logged, log_signer):
    logged(40, batch=25)
    cp = client.get("/api/ledger/checkpoint").json()
    assert cp["size"] == 40
    assert note.open_checkpoint(cp["note"], [log_signer.verifier]).size == 40
    inc = client.get("/api/ledger/proofs/inclusion", {"index": 3, "tree_size": 40}).json()
    merkle.verify_inclusion(3, 40, base64.b64decode(inc["leaf_hash"]), _b(inc["proof"]),
                            base64.b64decode(cp["root"]))  # fmt: skip
    con = client.get("/api/ledger/proofs/consistency", {"first": 25, "second": 40}).json()
    old = selectors.root_at(25)
    merkle.verify_consistency(25, 40, old, base64.b64decode(cp["root"]), _b(con["proof"]))


def test_a_receipt_downloaded_from_the_api_verifies(client, logged, log_signer):
    logged(9)
    receipt = client.get("/api/ledger/receipts/8").json()
    assert receipt_verify(receipt, trusted_keys=[log_signer.verifier]).ok


def test_bad_proof_requests_get_the_one_error_shape(client, logged):
    logged(5)
    r = client.get("/api/ledger/proofs/inclusion", {"index": 9, "tree_size": 5})
    assert r.status_code == 404  # no such proof; the schema cannot say "below tree_size"
    assert r.json()["code"] == "bad_index"
    r = client.get("/api/ledger/proofs/consistency", {"first": 3, "second": 99})
    assert r.status_code == 404
    assert r.json()["code"] == "bad_size"
    r = client.get("/api/ledger/proofs/inclusion", {"index": 0, "tree_size": 0})
    assert r.status_code == 422  # tree_size >= 1 is in the schema (issue 20)
    assert r.json()["field"] == "tree_size"
    assert client.get("/api/ledger/receipts/77").status_code == 404


def test_the_witness_endpoint_accepts_a_registered_cosignature(
    client, logged, log_signer, witness_signer
):
    logged(4)
    cp = selectors.latest_checkpoint()
    assert cp is not None
    sig = note.sign_note(note.parse_note(cp.note).text, witness_signer)
    r = client.post(
        "/api/ledger/witness",
        {"note": note.add_signatures(cp.note, [sig])},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert client.get("/ledger/checkpoint").content.decode().count("— ") == 2


def test_the_receipt_page_renders_with_the_published_key(client, logged, log_signer):
    logged(1)
    page = client.get("/ledger/verify/")
    assert page.status_code == 200
    html = page.content.decode()
    assert log_signer.verifier.vkey() in html
    assert "ledger/verify-receipt.js" in html
    assert 'id="ledger-receipt-form"' in html


def test_receipts_are_found_by_the_payment_reference(client, logged, log_signer):
    logged(6)
    found = client.get("/api/ledger/receipts", {"ref": "pay-000004"}).json()
    assert [r["index"] for r in found] == [4]
    assert client.get("/api/ledger/receipts", {"ref": "nope"}).status_code == 404
