"""The simulator keeps Stripe's idempotency semantics, over real HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from tepat.payments.providers import G2PConnectAdapter, IdempotencyConflict, Instruction


def _post(url: str, items: list[dict]) -> tuple[int, dict]:
    body = json.dumps(
        {
            "header": {"action": "disburse"},
            "message": {"transaction_id": "t", "disbursements": items},
        }
    )
    req = urllib.request.Request(  # noqa: S310 - loopback test URL
        url + "/disburse/sync/disburse",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


ITEM = {
    "reference_id": "K1",
    "payer_fa": "x@treasury",
    "payee_fa": "123456789@bri",
    "amount": "600000",
    "payee_name": "Ani",
}


def test_a_retry_with_the_same_key_replays_the_first_result_without_paying_again(provider_sim):
    sim = provider_sim()
    first = _post(sim.url, [ITEM])
    again = _post(sim.url, [ITEM])
    assert first[0] == again[0] == 200
    assert (
        first[1]["message"]["disbursements_status"] == again[1]["message"]["disbursements_status"]
    )
    assert [(r[0], r[5]) for r in sim.journal()] == [("K1", 1)]


def test_the_same_key_with_a_different_payload_is_refused_with_422(provider_sim):
    sim = provider_sim()
    _post(sim.url, [ITEM])
    status, body = _post(sim.url, [{**ITEM, "amount": "900000"}])
    assert status == 422
    assert body["message"]["reference_ids"] == ["K1"]
    assert len(sim.journal()) == 1
    with pytest.raises(IdempotencyConflict):
        G2PConnectAdapter(sim.url).submit(
            [Instruction("K1", "123456789@bri", "Ani", 900000, provider="BRI")]
        )


def test_a_concurrent_request_with_the_same_key_is_refused_with_409(provider_sim):
    sim = provider_sim(latency_ms=600)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(_post(sim.url, [ITEM])[0])) for _ in range(2)
    ]
    # The simulator holds the key for its 600 ms of "processing": the second request meets it.
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    assert _post(sim.url, [ITEM, ITEM])[0] == 409  # the same key twice in one batch, too
    assert len(sim.journal()) == 1


def test_permanent_failures_are_stable_for_a_key(provider_sim):
    sim = provider_sim(permanent_failure_rate=1.0)
    a = _post(sim.url, [ITEM])[1]["message"]["disbursements_status"][0]
    b = _post(sim.url, [ITEM])[1]["message"]["disbursements_status"][0]
    assert a["status"] == b["status"] == "rjct"
    assert a["status_reason_code"] in ("rjct.payee_fa.invalid", "rjct.payee_name.mismatch")


def test_a_name_mismatch_is_a_permanent_failure(provider_sim):
    sim = provider_sim()
    r = _post(sim.url, [{**ITEM, "payee_name": "MISMATCH Budi"}])[1]["message"][
        "disbursements_status"
    ][0]
    assert (r["status"], r["status_reason_code"]) == ("rjct", "rjct.payee_name.mismatch")


def test_the_daily_statement_file_lists_each_executed_payment_once(provider_sim):
    sim = provider_sim()
    _post(sim.url, [ITEM])
    _post(sim.url, [ITEM, {**ITEM, "reference_id": "K2"}])
    files = list(sim.dir.glob("statement-*.csv"))
    lines = files[0].read_text().strip().splitlines()
    assert lines[0].startswith("reference_id,amount")
    assert len(lines) == 3
