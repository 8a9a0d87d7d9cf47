"""Attacks tried: an operator of Kabupaten Bogor reaching Kota Bandung's money.

`op_bogor` (scope 3201) walks every money route, pages and API, found through the URL resolver
(programmes, cycles, entitlements, payments, dead letters, differences, statements, vouchers,
handovers), against a Kota Bandung cycle with issued payments, a dead letter, a reconciliation
difference, an e-Warung voucher and a flagged handover: every read answers 404 (or lists nothing
of Bandung's), every action 404 or 403, and nothing changes. A new route under these prefixes
fails the walk until it is given a case. The same requests by `op_bandung` succeed. Below the
routes, the services themselves refuse (no entry point can bypass the scope), a cycle's region
bounds its entitlements, national cycles and statements need a national role, and differences
are reached by a random public id, never a sequential one.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tepat.accounts.models import User
from tepat.core.errors import NotFound, PermissionDenied
from tepat.payments import services as pay
from tepat.payments.models import Difference, Payment, PaymentState
from tepat.programs import services as programs
from tepat.programs.models import Cycle, CycleState, Entitlement
from tepat.verification.models import Handover, HandoverStatus, Voucher
from tests.programs.conftest import PERIOD
from tests.verification.conftest import *  # noqa: F403 - the programmes' and vouchers' cast

pytestmark = pytest.mark.django_db

# The prefixes of money routes: a route under one of these is a money route unless exempted.
MONEY_PREFIXES = (
    "api/programs", "api/payments", "api/verification", "program/", "penyaluran/",
    "lapangan/", "verifikasi/",
)  # fmt: skip


def money_routes() -> list[str]:
    """`route name` of every URL pattern under the money prefixes, from the live resolver."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.name or ""

    return sorted(
        {f"{route} {name}" for route, name in walk(get_resolver().url_patterns, "")
         if route.startswith(MONEY_PREFIXES)}
    )  # fmt: skip


@dataclass
class World:
    cycle: Cycle
    programme_id: str
    payment: Payment  # a dead letter
    difference: Difference
    voucher: Voucher
    flagged: Handover
    entitlement: Entitlement

    def ids(self) -> dict[str, str]:
        return {
            "cycle_id": self.cycle.public_id, "programme_id": self.programme_id,
            "payment_id": self.payment.public_id, "difference_id": self.difference.public_id,
            "public_id": self.voucher.public_id, "voucher_id": self.voucher.public_id,
            "client_id": str(self.flagged.client_id), "entitlement_id": self.entitlement.public_id,
        }  # fmt: skip


@dataclass
class Case:
    """One request: `refused` expects 403/404 (401 for provider-only routes), `hidden` expects
    200 with none of the Bandung objects' ids in the answer, `exempt` says why the route is no
    money route (it still had to be named here)."""

    method: str = "get"
    path: str = ""  # with {cycle_id}-style placeholders
    kind: str = "refused"
    body: dict[str, Any] = field(default_factory=dict)
    json_body: bool = True
    why: str = ""


def refused(
    method: str, path: str, body: dict[str, Any] | None = None, *, form: bool = False
) -> Case:
    return Case(method, path, "refused", body or {}, not form)


def hidden(path: str) -> Case:
    return Case("get", path, "hidden")


def exempt(why: str) -> Case:
    return Case(kind="exempt", why=why)


REASON = {"reason": "uji cakupan wilayah"}
CYCLE_IN = {"code": "T9", "region_code": "3273", "period_start": "2026-01-01",
            "period_end": "2026-03-31", "control_count": 1, "control_amount": 1}  # fmt: skip

CASES: dict[str, Case] = {
    # --- programmes and cycles (API) ---
    "api/programs programme_list": exempt(
        "programmes are national rules and amounts, no money of a region"
    ),
    "api/programs programme_create": refused(
        "post",
        "/api/programs",
        {
            "code": "X-1",
            "name": "x",
            "kind": "blt",
            "eligibility_rule": "desil <= 1",
            "effective_from": "2026-01-01",
        },
    ),
    "api/programs/<programme_id> programme_update": refused(
        "patch", "/api/programs/{programme_id}", {"eligibility_rule": "desil <= 10"}
    ),
    "api/programs/<programme_id>/cycles cycle_list": hidden("/api/programs/{programme_id}/cycles"),
    "api/programs/<programme_id>/cycles cycle_create": refused(
        "post", "/api/programs/{programme_id}/cycles", CYCLE_IN
    ),
    "api/programs/cycles/<cycle_id> cycle_detail": refused(
        "get", "/api/programs/cycles/{cycle_id}"
    ),
    "api/programs/cycles/<cycle_id>/events cycle_events": refused(
        "get", "/api/programs/cycles/{cycle_id}/events"
    ),
    "api/programs/cycles/<cycle_id>/compute cycle_compute": refused(
        "post", "/api/programs/cycles/{cycle_id}/compute"
    ),
    "api/programs/cycles/<cycle_id>/submit cycle_submit": refused(
        "post", "/api/programs/cycles/{cycle_id}/submit"
    ),
    "api/programs/cycles/<cycle_id>/approve cycle_approve": refused(
        "post", "/api/programs/cycles/{cycle_id}/approve"
    ),
    "api/programs/cycles/<cycle_id>/return cycle_return": refused(
        "post", "/api/programs/cycles/{cycle_id}/return", REASON
    ),
    "api/programs/cycles/<cycle_id>/cancel cycle_cancel": refused(
        "post", "/api/programs/cycles/{cycle_id}/cancel", REASON
    ),
    # --- payments (API) ---
    "api/payments/cycles/<cycle_id>/issue issue": refused(
        "post", "/api/payments/cycles/{cycle_id}/issue"
    ),
    "api/payments/cycles/<cycle_id>/progress progress": refused(
        "get", "/api/payments/cycles/{cycle_id}/progress"
    ),
    "api/payments/dead-letters dead_letters": hidden("/api/payments/dead-letters"),
    "api/payments/<payment_id>/resolve resolve": refused(
        "post", "/api/payments/{payment_id}/resolve", {"action": "write_off", **REASON}
    ),
    "api/payments/statements statement_import": refused(
        "post",
        "/api/payments/statements",
        {
            "provider": "BRI",
            "file_name": "s.csv",
            "content": "reference_id,amount,status,reason,executed_at\n",
        },
    ),
    "api/payments/cycles/<cycle_id>/reconcile reconcile": refused(
        "post", "/api/payments/cycles/{cycle_id}/reconcile"
    ),
    "api/payments/cycles/<cycle_id>/differences differences": refused(
        "get", "/api/payments/cycles/{cycle_id}/differences"
    ),
    "api/payments/differences/<difference_id>/explain explain": refused(
        "post", "/api/payments/differences/{difference_id}/explain", {"explanation": "ditutup"}
    ),
    "api/payments/cycles/<cycle_id>/distribute distribute": refused(
        "post", "/api/payments/cycles/{cycle_id}/distribute"
    ),
    "api/payments/cycles/<cycle_id>/close close": refused(
        "post", "/api/payments/cycles/{cycle_id}/close"
    ),
    "api/payments/cycles/<cycle_id>/cancel cancel": refused(
        "post", "/api/payments/cycles/{cycle_id}/cancel", REASON
    ),
    "api/payments/callbacks/on-disburse on_disburse": refused(
        "post",
        "/api/payments/callbacks/on-disburse",
        {"message": {"disbursement_status": [{"reference_id": "x", "status": "succ"}]}},
    ),
    # --- verification (API) ---
    "api/verification/key key": exempt("the public key that devices verify vouchers with"),
    # Day's lists go only to field agents of the place (issue 17): anyone else gets 403.
    "api/verification/day day": refused("get", "/api/verification/day"),
    "api/verification/revoked revoked": hidden("/api/verification/revoked"),
    "api/verification/sync sync": exempt(
        "takes signed voucher tokens, not ids: see test_a_bogor_sync_cannot_redeem_a_bandung_voucher"
    ),
    "api/verification/otp/send otp_send": refused(
        "post", "/api/verification/otp/send", {"voucher_id": "{voucher_id}"}
    ),
    "api/verification/otp/check otp_check": refused(
        "post", "/api/verification/otp/check", {"voucher_id": "{voucher_id}", "code": "123456"}
    ),
    "api/verification/ewarung/record ewarung_record": exempt(
        "the signed-in e-Warung's own redemptions only"
    ),
    "api/verification/face/enrol face_enrol": exempt(
        "a person's face (registry scope), no money object"
    ),
    "api/verification/face/verify face_verify": exempt(
        "needs the optional face extra and a photo (501 without it); the voucher's region is checked in face_verify"
    ),
    "api/verification/policies policies": exempt(
        "methods per programme and channel: configuration, no money object"
    ),
    "api/verification/policies/<programme>/<channel> policy_set": exempt(
        "configuration (admins and supervisors), no money object"
    ),
    "api/verification/proxies proxies": exempt(
        "proxy collectors of persons (registry scope), no money object"
    ),
    "api/verification/proxies proxy_register": exempt(
        "proxy collectors of persons (registry scope), no money object"
    ),
    "api/verification/proxies/<proxy_id>/revoke proxy_revoke": exempt(
        "proxy collectors of persons (registry scope), no money object"
    ),
    "api/verification/flagged flagged": hidden("/api/verification/flagged?include_resolved=true"),
    "api/verification/flagged/<client_id>/resolve flagged_resolve": refused(
        "post",
        "/api/verification/flagged/{client_id}/resolve",
        {"decision": "no_loss", "note": "x"},
    ),
    # --- pages ---
    "program/ list": hidden("/program/"),
    # The start-a-cycle form offers only the user's own regions (a region outside them is
    # refused on the form: tests/programs/test_cycle_page.py).
    "program/tahap/baru/ cycle_new": hidden("/program/tahap/baru/"),
    "program/tahap/<str:cycle_id>/ cycle": refused("get", "/program/tahap/{cycle_id}/"),
    "program/tahap/<str:cycle_id>/<str:action>/ cycle_action": refused(
        "post", "/program/tahap/{cycle_id}/cancel/", REASON, form=True
    ),
    "penyaluran/gagal/ dead_letters": hidden("/penyaluran/gagal/"),
    "penyaluran/bayar/<str:payment_id>/selesaikan/ resolve": refused(
        "post",
        "/penyaluran/bayar/{payment_id}/selesaikan/",
        {"action": "write_off", **REASON},
        form=True,
    ),
    "penyaluran/tahap/<str:cycle_id>/kemajuan/ progress": refused(
        "get", "/penyaluran/tahap/{cycle_id}/kemajuan/"
    ),
    "penyaluran/tahap/<str:cycle_id>/panel/ panel": refused(
        "get", "/penyaluran/tahap/{cycle_id}/panel/"
    ),
    "penyaluran/tahap/<str:cycle_id>/terbitkan/ issue": refused(
        "post", "/penyaluran/tahap/{cycle_id}/terbitkan/", form=True
    ),
    "penyaluran/tahap/<str:cycle_id>/batalkan/ cancel": refused(
        "post", "/penyaluran/tahap/{cycle_id}/batalkan/", REASON, form=True
    ),
    "penyaluran/tahap/<str:cycle_id>/rekonsiliasi/ reconciliation": refused(
        "get", "/penyaluran/tahap/{cycle_id}/rekonsiliasi/"
    ),
    "penyaluran/tahap/<str:cycle_id>/rekonsiliasi/<str:action>/ reconciliation_action": refused(
        "post",
        "/penyaluran/tahap/{cycle_id}/rekonsiliasi/explain/",
        {"difference": "{difference_id}", "explanation": "ditutup"},
        form=True,
    ),
    "lapangan/ field": exempt("the field app's shell: no data in it"),
    "lapangan/manifest.webmanifest manifest": exempt("the field app's manifest"),
    "lapangan/sw.js sw": exempt("the field app's service worker"),
    "lapangan/voucher/<str:public_id>/ voucher_print": refused(
        "get", "/lapangan/voucher/{public_id}/"
    ),
    "verifikasi/penukaran-ganda/ flagged": hidden("/verifikasi/penukaran-ganda/?semua=1"),
    "verifikasi/penukaran-ganda/<str:client_id>/selesaikan/ flagged_resolve": refused(
        "post",
        "/verifikasi/penukaran-ganda/{client_id}/selesaikan/",
        {"decision": "no_loss", "note": "x"},
        form=True,
    ),
    "verifikasi/penerima/ persons": exempt(
        "proxy collectors of persons (registry scope), no money object"
    ),
    "verifikasi/penerima/<str:person_id>/ person": exempt(
        "a person's verification set-up (registry scope)"
    ),
    "verifikasi/penerima/<str:person_id>/kuasa/ proxy_register": exempt(
        "proxy collectors (registry scope)"
    ),
    "verifikasi/penerima/<str:person_id>/wajah/ face_enrol": exempt(
        "a person's face (registry scope)"
    ),
    "verifikasi/kuasa/<str:proxy_id>/cabut/ proxy_revoke": exempt(
        "proxy collectors (registry scope)"
    ),
    "verifikasi/kebijakan/ policies": exempt("configuration, no money object"),
    "verifikasi/kebijakan/simpan/ policy_set": exempt(
        "configuration (admins and supervisors), no money object"
    ),
}


@pytest.fixture
def bandung(voucher_cycle: Cycle, field_agent: User) -> World:
    """Kota Bandung's money: an approved e-Warung cycle with issued payments and vouchers, one
    payment dead-lettered, a reconciliation difference and a flagged double redemption."""
    payment = Payment.objects.filter(cycle=voucher_cycle).order_by("id").first()
    assert payment is not None
    Payment.objects.filter(pk=payment.pk).update(state=PaymentState.DEAD, last_error="HTTP 503")
    difference = Difference.objects.create(
        cycle=voucher_cycle, kind=Difference.Kind.NOT_PAID, reference_id=payment.payment_key,
        ours_amount=payment.amount,
    )  # fmt: skip
    voucher = Voucher.objects.get(payment=payment)
    flagged = Handover.objects.create(
        client_id=uuid.uuid4(), voucher=voucher, agent=field_agent, device_id="hp-1",
        method="card", device_time=dt.datetime.now(dt.UTC), status=HandoverStatus.DUPLICATE,
        flagged=True, reason="double",
    )  # fmt: skip
    return World(voucher_cycle, voucher_cycle.programme.public_id, payment, difference, voucher,
                 flagged, voucher_cycle.entitlements.order_by("id").first())  # fmt: skip


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def send(client: Any, case: Case, ids: dict[str, str]) -> Any:
    path = _fill(case.path, ids)
    body = _fill(case.body, ids)
    call: Callable[..., Any] = getattr(client, case.method)
    if case.method == "get":
        return call(path)
    if case.json_body:
        return call(path, json.dumps(body), content_type="application/json")
    return call(path, body)


def snapshot() -> tuple[Any, ...]:
    """What an action on Bandung's money could change."""
    return (
        sorted(Cycle.objects.values_list("public_id", "state")),
        Cycle.objects.count(),
        sorted(Payment.objects.values_list("public_id", "state", "resolution")),
        sorted(Difference.objects.values_list("public_id", "explanation")),
        sorted(Handover.objects.values_list("client_id", "decision")),
        sorted(Voucher.objects.values_list("public_id", "revoked_at")),
        sorted(Entitlement.objects.values_list("public_id", "state", "amount")),
    )


def test_the_walk_covers_every_money_route_the_resolver_knows():
    routes = money_routes()
    assert len(routes) > 40, routes  # programmes, cycles, payments, vouchers: pages and API
    assert not [r for r in routes if r not in CASES], "a money route without a case"
    assert not [c for c in CASES if c not in routes], "a case for a route that is gone"


@pytest.mark.parametrize("route", sorted(k for k, c in CASES.items() if c.kind != "exempt"))
def test_an_operator_of_bogor_reaches_none_of_bandungs_money_by_any_route(
    route, bandung, bogor_operator, staff_client
):
    case = CASES[route]
    ids = bandung.ids()
    before = snapshot()
    r = send(staff_client(bogor_operator), case, ids)
    if case.kind == "hidden":
        assert r.status_code == 200, (route, r.status_code)
        text = r.content.decode()
        for name, value in ids.items():
            if name != "programme_id":
                assert value not in text, (route, name)
    else:
        assert r.status_code in (401, 403, 404), (route, r.status_code, r.content[:300])
        if r.status_code == 401:
            assert route.startswith("api/payments/callbacks/"), "only providers' routes say 401"
    assert snapshot() == before, f"{route} changed Bandung's money"


def test_the_operator_of_bandung_reads_and_acts_through_the_same_routes(
    bandung, bandung_operator, staff_client
):
    c = staff_client(bandung_operator)
    ids = bandung.ids()
    assert send(c, CASES["api/programs/cycles/<cycle_id> cycle_detail"], ids).status_code == 200
    assert send(c, CASES["program/tahap/<str:cycle_id>/ cycle"], ids).status_code == 200
    listed = send(c, CASES["api/payments/dead-letters dead_letters"], ids).json()
    assert [p["public_id"] for p in listed] == [bandung.payment.public_id]
    r = send(c, CASES["api/payments/differences/<difference_id>/explain explain"], ids)
    assert r.status_code == 200, r.content
    assert r.json()["id"] == bandung.difference.public_id
    bandung.difference.refresh_from_db()
    assert bandung.difference.explanation == "ditutup"


def test_a_bogor_sync_cannot_redeem_a_bandung_voucher(bandung, bogor_operator, staff_client):
    item = {"client_id": str(uuid.uuid4()), "token": bandung.voucher.token, "method": "card",
            "device_time": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    r = staff_client(bogor_operator).post(
        "/api/verification/sync", {"device_id": "hp-bogor", "handovers": [item]},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code in (200, 403, 404)
    assert not Handover.objects.filter(client_id=item["client_id"], status="accepted").exists()


# --- the services themselves ---------------------------------------------------------------


def test_an_operator_of_bogor_cannot_issue_bandung_payments_even_through_the_service(
    approved_cycle, bogor_operator
):
    with pytest.raises(NotFound):
        pay.payments_issue(acting_user=bogor_operator, cycle=approved_cycle)
    assert not Payment.objects.exists()


def test_an_operator_of_bogor_cannot_create_compute_or_reconcile_a_bandung_cycle(
    make_programme, approved_cycle, bogor_operator, computed_cycle
):
    with pytest.raises(PermissionDenied):
        programs.cycle_create(
            acting_user=bogor_operator, programme=approved_cycle.programme, code="T2",
            instalment=2, period_start=PERIOD[0], period_end=PERIOD[1], control_count=9,
            control_amount=9, region_code="3273",
        )  # fmt: skip
    with pytest.raises(NotFound):
        programs.cycle_compute(acting_user=bogor_operator, cycle=computed_cycle, desil={})
    with pytest.raises(NotFound):
        pay.cycle_reconcile(acting_user=bogor_operator, cycle=approved_cycle)


def test_a_cycle_made_by_a_scoped_operator_gets_their_region_and_pays_only_inside_it(
    make_programme, make_cycle, bandung_operator, desil_of
):
    cycle = make_cycle(make_programme(rule="desil <= 9"))  # the rule admits Bogor's household too
    assert cycle.region_code == "3273"
    cycle = programs.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)
    villages = set(cycle.entitlements.values_list("village_code", flat=True))
    assert villages
    assert all(v.startswith("3273") for v in villages)


def test_a_national_cycle_needs_a_national_role_to_act_on(
    make_programme, admin_user, supervisor, bogor_operator, households, staff_client
):
    prog = make_programme()
    with pytest.raises(PermissionDenied):
        programs.cycle_create(
            acting_user=supervisor, programme=prog, code="N0", instalment=1,
            period_start=PERIOD[0], period_end=PERIOD[1], control_count=9, control_amount=10**9,
            region_code="",
        )  # fmt: skip
    national = programs.cycle_create(
        acting_user=admin_user, programme=prog, code="N1", instalment=1,
        period_start=PERIOD[0], period_end=PERIOD[1], control_count=9, control_amount=10**9,
    )  # fmt: skip
    assert national.region_code == ""
    with pytest.raises(PermissionDenied):
        programs.cycle_compute(acting_user=bogor_operator, cycle=national, desil={})
    # A Bogor operator may open it (the part inside Bogor) but not act on it as a whole.
    c = staff_client(bogor_operator)
    assert c.get(f"/api/programs/cycles/{national.public_id}").status_code == 200
    r = c.post(f"/api/programs/cycles/{national.public_id}/compute")
    assert r.status_code == 403
    national.refresh_from_db()
    assert national.state == CycleState.DRAFT
    assert national.computed_at is None


def test_a_statement_covering_every_region_is_imported_only_by_a_national_role(
    supervisor, bandung_operator, regions
):
    for user in (supervisor, bandung_operator):
        with pytest.raises(PermissionDenied):
            pay.statement_import(acting_user=user, provider="BRI", file_name="s.csv", data=b"x",
                                 adapter=None)  # type: ignore[arg-type]  # fmt: skip


def test_a_difference_is_never_reached_by_its_sequential_id(
    bandung, bandung_operator, staff_client
):
    c = staff_client(bandung_operator)
    listed = c.get(f"/api/payments/cycles/{bandung.cycle.public_id}/differences").json()
    assert [d["id"] for d in listed] == [bandung.difference.public_id]
    assert len(bandung.difference.public_id) == 16
    r = c.post(f"/api/payments/differences/{bandung.difference.pk}/explain",
               {"explanation": "tebak"}, content_type="application/json")  # fmt: skip
    assert r.status_code == 404
