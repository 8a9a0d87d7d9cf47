"""Issue 20, item 6: starting a cycle from a page, and the whole path (create, compute, submit,
approve, issue, pay, reconcile, close) on the cycle's page, each action shown only to the roles,
scopes and states that may take it; refusals in whole sentences in both languages, money in
Rupiah and states as labels."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tepat.core.errors import ValidationFailed
from tepat.core.models import AuditEvent
from tepat.payments import services as payments
from tepat.payments.models import Difference
from tepat.programs import services
from tepat.programs.models import Cycle, CycleState
from tests.conftest import succeeded
from tests.programs.conftest import PERIOD

pytestmark = pytest.mark.django_db


def _form(programme, **over):
    data = {
        "programme": programme.public_id, "code": "2026-T2", "instalment": "2",
        "period_start": "2026-04-01", "period_end": "2026-06-30",
        "control_count": "100", "control_amount": "5000000000", "region_code": "3273",
    }  # fmt: skip
    data.update(over)
    return data


def _buttons(html: str) -> set[str]:
    """The cycle actions the page offers: the last part of each form's action URL."""
    return set(re.findall(r'action="/(?:program|penyaluran)/tahap/[^/"]+/([^"/]+)/', html))


def _panel_buttons(html: str) -> set[str]:
    return set(re.findall(r'/rekonsiliasi/([a-z]+)/"', html)) | (
        {"issue"} if "/terbitkan/" in html else set()
    )


# --- starting a cycle ---------------------------------------------------------------------


def test_an_operator_starts_a_cycle_from_the_page(staff_client, bandung_operator, make_programme):
    prog = make_programme()
    c = staff_client(bandung_operator)
    listing = c.get("/program/").content.decode()
    assert 'href="/program/tahap/baru/"' in listing
    form = c.get(f"/program/tahap/baru/?program={prog.public_id}")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="control_amount"' in html
    assert 'type="date"' in html
    # The region picker offers the operator's own scope only.
    assert re.findall(r'<option value="(\d*)"', html) == ["3273"]
    r = c.post("/program/tahap/baru/", _form(prog))
    cycle = Cycle.objects.get(code="2026-T2")
    assert r.status_code == 302
    assert r["Location"] == f"/program/tahap/{cycle.public_id}/"
    assert (cycle.state, cycle.region_code, cycle.instalment) == (CycleState.DRAFT, "3273", 2)
    assert (cycle.control_count, cycle.control_amount) == (100, 5_000_000_000)
    assert cycle.created_by == bandung_operator
    assert AuditEvent.objects.filter(action="cycle.create", target_id=cycle.public_id).exists()
    page = c.get(r["Location"]).content.decode()
    assert "Kota Bandung" in c.get("/program/").content.decode()  # the region by name
    assert "Rp5.000.000.000" in page
    assert "5000000000" not in page
    assert _buttons(page) == {"compute"}


def test_refused_input_is_shown_next_to_its_field_with_a_summary(
    staff_client, bandung_operator, make_programme, make_cycle
):
    prog = make_programme()
    make_cycle(prog, code="2026-T1")
    c = staff_client(bandung_operator)
    # Outside the programme's dates, then a duplicate code: the service's rules.
    r = c.post("/program/tahap/baru/", _form(prog, period_start="2025-12-01"))
    assert r.status_code == 422
    html = r.content.decode()
    assert "data-tepat-error-summary" in html
    assert 'href="#id_period_start"' in html
    assert "di luar masa berlaku program / outside the programme&#x27;s dates" in html
    assert "period_start:" not in html  # no raw field prefix
    html = c.post("/program/tahap/baru/", _form(prog, code="2026-T1")).content.decode()
    assert 'href="#id_code"' in html
    assert "sudah ada / already exists" in html
    assert "code:" not in html
    # The form's own bounds: the end before the start, a negative total, a missing field.
    r = c.post("/program/tahap/baru/", _form(prog, period_end="2026-03-01", control_count="-1",
                                            code=""))  # fmt: skip
    html = r.content.decode()
    assert r.status_code == 422
    assert {"id_period_end", "id_control_count", "id_code"} <= set(
        re.findall(r'href="#(id_[a-z_]+)"', html)
    )
    assert Cycle.objects.count() == 1


def test_a_region_outside_the_makers_scopes_cannot_be_chosen(
    staff_client, bandung_operator, make_programme
):
    prog = make_programme()
    r = staff_client(bandung_operator).post("/program/tahap/baru/", _form(prog, region_code="3201"))
    assert r.status_code == 422
    assert 'href="#id_region_code"' in r.content.decode()
    assert not Cycle.objects.exists()


def test_an_admin_may_start_a_national_or_a_provincial_cycle(
    staff_client, admin_user, make_programme
):
    prog = make_programme()
    html = staff_client(admin_user).get("/program/tahap/baru/").content.decode()
    options = re.findall(r'<option value="(\d*)"', html)
    assert options[0] == ""
    assert "32" in options
    r = staff_client(admin_user).post("/program/tahap/baru/", _form(prog, region_code=""))
    assert r.status_code == 302
    assert Cycle.objects.get().region_code == ""


@pytest.mark.parametrize("who", ["auditor", "field_agent", "dpo", "unscoped_operator"])
def test_roles_that_may_not_prepare_cycles_get_no_link_and_a_403(
    request, staff_client, make_programme, who
):
    prog = make_programme()
    c = staff_client(request.getfixturevalue(who))
    if who != "dpo":  # the DPO is kept off programme pages altogether
        assert "/program/tahap/baru/" not in c.get("/program/").content.decode()
    refused = c.get("/program/tahap/baru/")
    assert refused.status_code == 403
    if who != "dpo":
        assert "may not prepare cycles" in refused.content.decode()
    assert c.post("/program/tahap/baru/", _form(prog, region_code="")).status_code == 403
    assert not Cycle.objects.exists()


# --- one page, the whole path -------------------------------------------------------------


def test_each_action_shows_only_for_the_roles_and_states_that_allow_it(
    login, bandung_operator, supervisor, second_supervisor, auditor, field_agent, make_programme,
    desil_of,
):  # fmt: skip
    cycle = services.cycle_create(
        acting_user=bandung_operator, programme=make_programme(), code="2026-T1", instalment=1,
        period_start=PERIOD[0], period_end=PERIOD[1], control_count=100, control_amount=10**9,
    )  # fmt: skip
    url = f"/program/tahap/{cycle.public_id}/"
    op, spv, spv2, aud, agent = (login(u) for u in (bandung_operator, supervisor,
                                                    second_supervisor, auditor, field_agent))  # fmt: skip

    def offered(client):
        return _buttons(client.get(url).content.decode())

    assert offered(op) == {"compute"}
    assert offered(spv) == {"compute", "cancel"}
    assert offered(aud) == offered(agent) == set()
    services.cycle_compute(acting_user=supervisor, cycle=cycle, desil=desil_of)
    assert offered(op) == {"compute", "submit"}
    services.cycle_submit(acting_user=bandung_operator, cycle=cycle)
    # Maker-checker: the supervisor who computed does not see approve; another one does.
    assert offered(spv) == {"return", "cancel"}
    assert offered(spv2) == {"approve", "return", "cancel"}
    assert offered(op) == offered(aud) == offered(agent) == set()
    page = op.get(url).content.decode()
    assert 'data-testid="cycle-waiting"' in page
    assert 'aria-current="step"' in page
    assert 'data-step="approve" data-status="current"' in page
    r = spv2.post(f"{url}approve/", follow=True)
    assert "Tahap disetujui." in r.content.decode()
    cycle.refresh_from_db()
    assert cycle.state == CycleState.APPROVED
    assert offered(spv2) == {"batalkan"}  # payments' cancel, which stops the money first
    assert offered(aud) == set()


def test_the_payments_panel_walks_issue_pay_reconcile_distribute_and_close(
    login, bandung_operator, supervisor, auditor, approved_cycle
):
    cycle = approved_cycle
    panel = f"/penyaluran/tahap/{cycle.public_id}/panel/"
    op, spv, aud = login(bandung_operator), login(supervisor), login(auditor)
    hx = {"HTTP_HX_REQUEST": "true"}
    page = op.get(f"/program/tahap/{cycle.public_id}/").content.decode()
    assert f'hx-get="{panel}"' in page
    assert 'data-step="issue" data-status="current"' in page
    assert _panel_buttons(op.get(panel, **hx).content.decode()) == {"issue"}
    assert _panel_buttons(aud.get(panel, **hx).content.decode()) == set()
    r = op.post(f"/penyaluran/tahap/{cycle.public_id}/terbitkan/", follow=True)
    assert "3 pembayaran diterbitkan." in r.content.decode()
    # Issued, not yet paid: the panel polls itself and offers nothing that would be refused.
    waiting = op.get(panel, **hx)
    assert waiting.status_code == 200
    assert 'hx-trigger="every 3s"' in waiting.content.decode()
    assert "Diterbitkan" in waiting.content.decode()
    assert ">issued<" not in waiting.content.decode()
    assert _panel_buttons(spv.get(panel, **hx).content.decode()) == {"reconcile"}
    # The provider pays (the worker's claim and record steps).
    claimed = payments.payments_claim(worker="w1", batch=100, lease_s=60)
    payments.payments_record(worker="w1", claimed=claimed, outcomes=succeeded(claimed))
    done = op.get(panel, **hx)
    assert done.status_code == 286  # htmx stops polling: nothing is on its way any more
    assert "Rp3.375.000" in done.content.decode()
    assert _panel_buttons(done.content.decode()) == {"reconcile"}
    assert _panel_buttons(spv.get(panel, **hx).content.decode()) == {"reconcile", "distribute"}
    assert (
        'data-step="reconcile" data-status="current"'
        in op.get(f"/program/tahap/{cycle.public_id}/").content.decode()
    )
    # No statement yet: distributing is refused, in whole sentences, on the cycle's page.
    act = f"/penyaluran/tahap/{cycle.public_id}/rekonsiliasi/"
    r = spv.post(f"{act}distribute/", {"next": "cycle"}, follow=True)
    assert r.redirect_chain[-1][0] == f"/program/tahap/{cycle.public_id}/"
    body = r.content.decode()
    assert "Belum rekonsiliasi" in body
    assert "not reconciled: 3 unexplained" in body
    for d in Difference.objects.all():
        payments.difference_explain(acting_user=bandung_operator, difference=d,
                                    explanation="rekening koran menyusul")  # fmt: skip
    r = spv.post(f"{act}distribute/", {"next": "cycle"}, follow=True)
    assert "Tahap ditandai tersalurkan." in r.content.decode()
    cycle.refresh_from_db()
    assert cycle.state == CycleState.DISTRIBUTED
    assert _panel_buttons(spv.get(panel, **hx).content.decode()) == {"reconcile", "close"}
    r = spv.post(f"{act}close/", {"next": "cycle"}, follow=True)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.ENDED
    page = r.content.decode()
    assert page.count('data-status="done"') == 8
    assert 'aria-current="step"' not in page
    assert _buttons(page) == set()
    # The history reads as words, not codes.
    history = page.split('data-testid="cycle-history"')[1]
    assert "Ditandai tersalurkan" in history
    assert "Selesai" in history
    assert not re.search(r"· (create|compute|submit|approve|distribute|end)\b", history)


def test_the_reconciliation_page_is_still_where_its_actions_return_by_default(
    login, bandung_operator, approved_cycle
):
    r = login(bandung_operator).post(
        f"/penyaluran/tahap/{approved_cycle.public_id}/rekonsiliasi/reconcile/"
    )
    assert r["Location"] == f"/penyaluran/tahap/{approved_cycle.public_id}/rekonsiliasi/"


# --- messages in whole sentences ----------------------------------------------------------


def test_refusals_have_no_raw_prefix_and_are_whole_in_both_languages(
    login, bandung_operator, auditor, make_programme, make_cycle, desil_of
):
    cycle = make_cycle(make_programme(), count=1)
    url = f"/program/tahap/{cycle.public_id}/"
    # Compute with desil (the page has no desil override): refused above the control totals.
    with pytest.raises(ValidationFailed) as exc:
        services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil=desil_of)
    assert "Rp3.375.000" in str(exc.value)
    assert "Rp3375000" not in str(exc.value)
    body = login(bandung_operator).post(f"{url}submit/", follow=True).content.decode()
    assert "hitung hak dulu / compute entitlements first" in body
    assert "entitlements:" not in body
    services.cycle_compute(acting_user=bandung_operator, cycle=cycle, desil={})
    services.cycle_submit(acting_user=bandung_operator, cycle=cycle)
    body = login(auditor).post(f"{url}approve/", follow=True).content.decode()
    assert "Peran Anda tidak boleh menyetujui tahap / your role may not approve cycles" in body
    assert "may not menyetujui" not in body
    body = login(bandung_operator).post(f"{url}compute/", follow=True).content.decode()
    assert "Tahap berstatus Menunggu persetujuan tidak dapat menjadi" in body
    assert "a cycle that is Awaiting approval cannot become recomputed (drafts only)" in body
    assert "to_approve" not in body.split("<main")[1]


def test_the_control_totals_refusal_reads_as_a_sentence_on_the_page(
    login, bandung_operator, make_programme, households
):
    from tepat.programs.models import Programme

    prog = make_programme(rule="regency == '3273'")
    assert Programme.objects.count() == 1
    cycle = services.cycle_create(
        acting_user=bandung_operator, programme=prog, code="T1", instalment=1,
        period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
        control_count=2, control_amount=10**9,
    )  # fmt: skip
    body = (
        login(bandung_operator)
        .post(f"/program/tahap/{cycle.public_id}/compute/", follow=True)
        .content.decode()
    )
    assert "Daftar ditolak seluruhnya: 3 penerima, Rp3.375.000 melebihi total kontrol 2" in body
    assert "control_totals:" not in body
    cycle.refresh_from_db()
    assert cycle.computed_at is None


def test_payment_pages_show_their_controls_only_to_those_who_may_use_them(
    login, bandung_operator, supervisor, auditor, admin_user, approved_cycle
):
    from tepat.payments.models import Payment, PaymentState

    payments.payments_issue(acting_user=bandung_operator, cycle=approved_cycle)
    p = Payment.objects.order_by("id").first()
    Payment.objects.filter(pk=p.pk).update(state=PaymentState.DEAD, last_error="HTTP 503")
    Difference.objects.create(cycle=approved_cycle, kind=Difference.Kind.NOT_PAID,
                              reference_id=p.payment_key, ours_amount=p.amount)  # fmt: skip
    rec = f"/penyaluran/tahap/{approved_cycle.public_id}/rekonsiliasi/"

    def controls(client) -> set[str]:
        html = client.get(rec).content.decode()
        return set(re.findall(r'/rekonsiliasi/([a-z]+)/"', html))

    assert controls(login(auditor)) == set()
    assert controls(login(bandung_operator)) == {"reconcile", "explain"}
    assert controls(login(supervisor)) == {"reconcile", "explain"}  # payments still on their way
    assert controls(login(admin_user)) == {"import", "reconcile", "explain"}
    page = login(bandung_operator).get(rec).content.decode()
    assert "Rp1.125.000" in page
    assert "Milik kita tapi tidak dibayar" in page
    dead = login(bandung_operator).get("/penyaluran/gagal/").content.decode()
    assert "/selesaikan/" in dead
    assert "Kirim ulang" in dead
    assert ">retry<" not in dead
    assert "Rp1.125.000" in dead
    assert "/selesaikan/" not in login(auditor).get("/penyaluran/gagal/").content.decode()
