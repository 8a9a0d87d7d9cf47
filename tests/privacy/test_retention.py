"""The retention schedule applied: for every purge rule, rows older than its period are deleted
or anonymised, younger ones and rows outside the rule stay, the report counts are right, a dry
run changes nothing, and nothing the ledger or the financial record needs is ever touched."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tepat.accounts.models import Role, User
from tepat.core.declarations import Action
from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tepat.privacy.declarations import collect
from tepat.privacy.retention import AUDIT_ACTION, retention_purge
from tests.conftest import BANDUNG_VILLAGE, make_household, make_members, make_staff, signed_in
from tests.grievances.conftest import image_bytes

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@dataclass
class World:
    """What was made: per rule, the pks that must go (or be anonymised) and those that stay."""

    expired: dict[str, list[int]] = field(default_factory=dict)
    fresh: dict[str, list[int]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    payment_ids: list[int] = field(default_factory=list)

    def add(self, rule: str, pk: int, *, due: bool) -> None:
        (self.expired if due else self.fresh).setdefault(rule, []).append(pk)


def _set(model: Any, pk: int, **values: Any) -> None:
    """Backdate a row (auto_now_add fields cannot be given at creation)."""
    model.objects.filter(pk=pk).update(**values)


def _audit(action: str, at: dt.datetime) -> int:
    """An audit row with an old timestamp: the table refuses UPDATE, so it is inserted so."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_auditevent (at, actor_label, action, target_type, target_id, "
            "region_code, detail) VALUES (%s, %s, %s, '', '', '', %s)",
            [connection.ops.adapt_datetimefield_value(at), "tester", action, "{}"],
        )
    return int(AuditEvent.objects.order_by("-id").values_list("pk", flat=True)[0])


def _payments(admin: User, household: Any, n: int) -> list[Any]:
    from tepat.payments.models import Payment
    from tepat.programs.models import Cycle, Entitlement, Programme

    programme = Programme.objects.create(code="PKH-2020", name="PKH", kind="pkh",
                                         eligibility_rule="desil <= 4",
                                         effective_from=dt.date(2020, 1, 1))  # fmt: skip
    head = household.members.get(relationship="head")
    out = []
    for i in range(n):
        cycle = Cycle.objects.create(programme=programme, code=f"2020-T{i + 1}", instalment=i + 1,
                                     period_start=dt.date(2020, 1, 1),
                                     period_end=dt.date(2020, 3, 31), control_count=10,
                                     control_amount=10_000_000, state="distributed")  # fmt: skip
        ent = Entitlement.objects.create(cycle=cycle, household=household,
                                         household_ref=household.public_id,
                                         beneficiary_ref=head.public_id,
                                         village_code=BANDUNG_VILLAGE, amount=750_000,
                                         state="paid")  # fmt: skip
        pay = Payment.objects.create(payment_key=f"PKH-2020.{i}.k", cycle=cycle, entitlement=ent,
                                     beneficiary_ref=head.public_id, village_code=BANDUNG_VILLAGE,
                                     amount=750_000, channel="cash_pos", provider="POS",
                                     payee_fa_enc="x", payee_fa_masked="tunai PT Pos",
                                     payee_name="Asep Sunandar", state="paid",
                                     next_attempt_at=ago(4000))  # fmt: skip
        _set(Payment, pay.pk, created_at=ago(4000))  # ten years old: kept all the same
        out.append(pay)
    return out


@pytest.fixture
def world(regions: None, settings: Any, tmp_path: Path) -> World:
    from django.contrib.admin.models import LogEntry
    from django.contrib.sessions.models import Session

    from tepat.grievances.models import CommunityReport, Complaint, ComplaintEvent
    from tepat.grievances.services import complaint_submit, evidence_dir, report_submit
    from tepat.integration.models import (
        ImportRun,
        ImportUpload,
        QuarantinedRow,
        Source,
        StagedRecord,
    )
    from tepat.payments.models import SmsMessage
    from tepat.portal.citizen import otp_request
    from tepat.portal.models import CitizenOtp
    from tepat.privacy.models import DataSubjectRequest, RequestEvent
    from tepat.registry.services import household_register
    from tepat.verification.models import FaceCheck, OtpChallenge, ProxyCollector, Voucher

    settings.MEDIA_ROOT = str(tmp_path / "media")
    w = World()
    admin = User.objects.create_user(username="admin_r", password="kata-sandi-panjang-1",
                                     role=Role.ADMIN)  # fmt: skip
    household = household_register(acting_user=admin, source="test",
                                   household=make_household(), members=make_members())  # fmt: skip
    head = household.members.get(relationship="head")

    # sessions: expired ones go at once
    Session.objects.create(session_key="a" * 32, session_data="x", expire_date=ago(1))
    Session.objects.create(session_key="b" * 32, session_data="x", expire_date=ago(-1))
    w.expired["accounts.sessions"] = [1]  # counted, not by pk (the key is the pk)
    w.fresh["accounts.sessions"] = [1]

    # Django's admin history: one year
    for days_ago, due in ((400, True), (300, False)):
        e = LogEntry.objects.create(user=admin, object_repr="Person x", action_flag=2,
                                    change_message="[]", action_time=ago(days_ago))  # fmt: skip
        w.add("accounts.admin_log", e.pk, due=due)

    # integration: superseded staged rows one year; quarantine 90 days resolved, a year open
    source = Source.objects.create(key="dukcapil", name="Dukcapil", config={})
    runs = {}
    for days_ago in (400, 100, 30):
        run = ImportRun.objects.create(source=source, file_name=f"f{days_ago}.csv",
                                       content_hash=f"{days_ago:064d}", delivered_on=NOW.date())  # fmt: skip
        _set(ImportRun, run.pk, started_at=ago(days_ago))
        runs[days_ago] = run
    for days_ago, current, due in ((400, False, True), (400, True, False), (30, False, False)):
        r = StagedRecord.objects.create(source=source, run=runs[days_ago], record_id=f"r{days_ago}{current}",
                                        row_number=2, current=current, full_name="Asep")  # fmt: skip
        if not current:
            w.add("integration.staged_superseded", r.pk, due=due)
    for days_ago, status, rule, due in (
        (400, "resubmitted", "integration.quarantine_resolved", True),
        (100, "discarded", "integration.quarantine_resolved", True),
        (30, "resubmitted", "integration.quarantine_resolved", False),
        (400, "open", "integration.quarantine_open", True),
        (100, "open", "integration.quarantine_open", False),
    ):
        q = QuarantinedRow.objects.create(run=runs[days_ago], row_number=3, field="nik",
                                          code="length", reason="x", raw_enc="enc", status=status)  # fmt: skip
        w.add(rule, q.pk, due=due)
    # an uploaded file left waiting for a worker: a day at most
    for days_ago, due in ((400, True), (100, False)):
        u = ImportUpload.objects.create(run=runs[days_ago], content_enc="enc")
        _set(ImportUpload, u.pk, created_at=ago(2 if due else 0))
        w.add("integration.uploads_waiting", u.pk, due=due)

    # payments: the SMS outbox, 90 days once sent or failed
    pay, *voucher_pays = _payments(admin, household, 4)
    w.payment_ids = [pay.pk] + [p.pk for p in voucher_pays]
    for i, (days_ago, state, due) in enumerate(
        ((100, "sent", True), (100, "failed", True), (100, "pending", None), (30, "sent", False))
    ):
        m = SmsMessage.objects.create(event_key=f"k{i}", payment=pay, template="paid",
                                      body="Bansos Rp750.000 telah disalurkan.", state=state)  # fmt: skip
        _set(SmsMessage, m.pk, created_at=ago(days_ago))
        if due is not None:
            w.add("payments.sms_outbox", m.pk, due=due)

    # verification: codes 90 days and face checks a year after the voucher ended
    for p, ended, otp_due, face_due in zip(
        voucher_pays, (400, 100, 30), (True, True, False), (True, False, False), strict=True
    ):
        v = Voucher.objects.create(payment=p, village_code=BANDUNG_VILLAGE, token="t", key_id="k",
                                   valid_from=ago(ended + 14), valid_until=ago(ended))  # fmt: skip
        o = OtpChallenge.objects.create(voucher=v, code_hash="h", expires_at=ago(ended))
        w.add("verification.otp", o.pk, due=otp_due)
        f = FaceCheck.objects.create(voucher=v, agent=admin, ok=True, distance=0.3)
        w.add("verification.face_check", f.pk, due=face_due)
    for days_ago, due in ((400, True), (30, False), (None, None)):
        px = ProxyCollector.objects.create(person_ref=head.public_id, village_code=BANDUNG_VILLAGE,
                                           name="Ujang", id_number_enc="enc", reason="elderly",
                                           revoked_at=ago(days_ago) if days_ago else None)  # fmt: skip
        if due is not None:
            w.add("verification.proxy_revoked", px.pk, due=due)

    # portal: sign-in codes 30 days (requested through the real service)
    for days_ago, due in ((31, True), (29, False)):
        otp_request(nik=make_members()[0]["nik"])
        otp = CitizenOtp.objects.order_by("-id").first()
        assert otp is not None
        _set(CitizenOtp, otp.pk, created_at=ago(days_ago))
        w.add("portal.sign_in_codes", otp.pk, due=due)

    # grievances: complaints anonymised two years after the decision
    for i, (decided, status, due) in enumerate(
        ((800, "upheld", True), (700, "rejected", False), (None, "in_review", None))
    ):
        c, _ = complaint_submit(submission_key=f"keycomplaint{i:04d}", category="amount",
                                village_code=BANDUNG_VILLAGE,
                                description="Bantuan kurang dari seharusnya, mohon diperiksa.",
                                contact_phone="081234567890", filed_by_ref=head.public_id)  # fmt: skip
        _set(Complaint, c.pk, status=status, decided_at=ago(decided) if decided else None,
             decision_note="Dibayar kekurangannya.")  # fmt: skip
        ComplaintEvent.objects.filter(complaint=c).update(note="Petugas menelepon Bu Siti.")
        if due is not None:
            w.add("grievances.complaint", c.pk, due=due)
            for e in ComplaintEvent.objects.filter(complaint=c):
                w.add("grievances.complaint_history", e.pk, due=due)

    # grievances: report photos a year after the decision, the report itself two years
    for i, (decided, photo_due, report_due) in enumerate(
        ((800, True, True), (400, True, False), (30, False, False))
    ):
        r, _ = report_submit(submission_key=f"keyreport{i:04d}", kind="sanggah",
                             village_code=BANDUNG_VILLAGE, subject_name="Pak Budi",
                             reason="Punya toko besar di pasar.", latitude="-6.8",
                             longitude="107.5", photo=image_bytes("JPEG", size=(20 + i, 16)))  # fmt: skip
        _set(CommunityReport, r.pk, status="rejected", decided_at=ago(decided))
        w.files[str(r.pk)] = evidence_dir() / r.photo_path
        w.add("grievances.report_photo", r.pk, due=photo_due)
        w.add("grievances.report", r.pk, due=report_due)

    # data subjects' requests: anonymised three years after the answer
    for answered, status, due in (
        (1200, "answered", True),
        (1000, "upheld", False),
        (None, "received", None),
    ):
        req = DataSubjectRequest.objects.create(
            kind="access", subject=head, household_public_id=household.public_id,
            region_code=BANDUNG_VILLAGE, channel="portal", received_at=ago(answered or 1),
            due_at=ago((answered or 1) - 3), status=status, details="Saya minta salinan data.",
            requested_changes={"person.full_name": "Asep S."},
            outcome_recorded_at=ago(answered) if answered else None, outcome_text="Dikirim.",
        )  # fmt: skip
        ev = RequestEvent.objects.create(request=req, at=ago(answered or 1), action="received",
                                         note="Datang ke kantor.")  # fmt: skip
        if due is not None:
            w.add("privacy.requests_closed", req.pk, due=due)
            w.add("privacy.request_history", ev.pk, due=due)

    # the audit trail: counted when past its period, never deleted
    w.add("core.audit_sign_in", _audit("login.failed", ago(400)), due=True)
    w.add("core.audit_sign_in", _audit("citizen.sign_in", ago(300)), due=False)
    w.add("core.audit", _audit("person.view_full", ago(1900)), due=True)
    w.add("core.audit", _audit("person.view_full", ago(1700)), due=False)
    return w


def _model(rule_key: str) -> Any:
    from django.apps import apps

    rule = next(r for r in collect().retention if r.key == rule_key)
    return rule, apps.get_model(rule.model)


def _purge_rules() -> list[str]:
    return [r.key for r in collect().retention if r.action in (Action.DELETE, Action.ANONYMISE)]


def test_every_purge_rule_is_exercised_by_the_world() -> None:
    made = {"accounts.sessions", "accounts.admin_log", "integration.staged_superseded",
            "integration.quarantine_resolved", "integration.quarantine_open",
            "integration.uploads_waiting", "payments.sms_outbox", "verification.otp", "verification.face_check",
            "verification.proxy_revoked", "portal.sign_in_codes", "grievances.complaint",
            "grievances.complaint_history", "grievances.report_photo", "grievances.report",
            "privacy.requests_closed", "privacy.request_history"}  # fmt: skip
    assert set(_purge_rules()) == made, "a new purge rule needs rows in the world fixture"


def test_the_purge_removes_what_expired_keeps_what_did_not_and_counts_it_right(
    world: World,
) -> None:
    report = retention_purge(now=NOW)
    assert report.ok, [r.error for r in report.results if r.error]
    results = {r.key: r for r in report.results}
    for key in _purge_rules():
        rule, model = _model(key)
        r = results[key]
        assert r.due == len(world.expired[key]), key
        assert r.processed == r.due, key
        assert r.due_after == 0, key
        if key == "accounts.sessions":
            assert list(model.objects.values_list("session_key", flat=True)) == ["b" * 32]
            continue
        rows = model._base_manager.filter(pk__in=world.expired[key] + world.fresh[key])
        if rule.action == Action.DELETE:
            assert not rows.filter(pk__in=world.expired[key]).exists(), key
            assert r.after == r.before - r.due, key
        else:
            for row in rows.filter(pk__in=world.expired[key]):
                for name, value in rule.anonymise.items():
                    assert getattr(row, name) == value, (key, name)
            assert r.after == r.before, key
        assert rows.filter(pk__in=world.fresh[key]).count() == len(world.fresh[key]), key
        for row in rows.filter(pk__in=world.fresh[key]):
            assert (
                any(getattr(row, n) != v for n, v in rule.anonymise.items()) or not rule.anonymise
            )
        cutoff = dt.datetime.fromisoformat(r.cutoff)
        assert r.oldest_kept is None or dt.datetime.fromisoformat(r.oldest_kept) >= cutoff, key


def test_photos_go_with_their_rule_and_only_the_files_no_report_needs(world: World) -> None:
    from tepat.grievances.models import CommunityReport

    report = retention_purge(now=NOW)
    results = {r.key: r for r in report.results}
    assert results["grievances.report_photo"].files_deleted == 2
    assert results["grievances.report"].files_deleted == 0  # its photo went a year earlier
    old, mid, fresh = sorted(world.files, key=int)
    assert not world.files[old].exists()
    assert not world.files[mid].exists()
    assert world.files[fresh].exists()
    assert CommunityReport.objects.get(pk=int(mid)).reason == "Punya toko besar di pasar."
    assert CommunityReport.objects.get(pk=int(old)).subject_name == ""


def test_a_photo_shared_with_a_report_still_kept_is_not_deleted(
    regions: None,
    settings: Any,
    tmp_path: Path,
) -> None:
    from tepat.grievances.models import CommunityReport
    from tepat.grievances.services import evidence_dir, report_submit

    settings.MEDIA_ROOT = str(tmp_path / "media")
    photo = image_bytes("JPEG")
    made = []
    for i, decided in enumerate((800, 30)):
        r, _ = report_submit(submission_key=f"keyshared{i:04d}", kind="usul",
                             village_code=BANDUNG_VILLAGE, subject_name="Bu Ani",
                             reason="Rumah rusak berat.", latitude="-6.8", longitude="107.5",
                             photo=photo)  # fmt: skip
        CommunityReport.objects.filter(pk=r.pk).update(status="upheld", decided_at=ago(decided))
        made.append(r)
    assert made[0].photo_path == made[1].photo_path  # content-addressed: one file
    report = retention_purge(now=NOW, only=["grievances.report_photo"])
    assert report.results[0].processed == 1
    assert (evidence_dir() / made[1].photo_path).exists()


def test_a_dry_run_changes_nothing_and_reports_what_is_due(world: World) -> None:
    from django.apps import apps

    def snapshot() -> dict[str, Any]:
        out = {}
        for m in apps.get_models():
            if m._meta.managed and not m._meta.proxy:
                out[m._meta.label] = sorted(map(str, m._base_manager.values_list()))
        return out

    before = snapshot()
    report = retention_purge(now=NOW, dry_run=True)
    assert snapshot() == before
    assert all(p.exists() for p in world.files.values())
    results = {r.key: r for r in report.results}
    for key in _purge_rules():
        assert results[key].due == len(world.expired[key]), key
        assert results[key].processed == 0
        assert results[key].due_after == results[key].due


def test_a_purge_run_twice_does_nothing_the_second_time(world: World) -> None:
    retention_purge(now=NOW)
    again = retention_purge(now=NOW)
    assert again.processed == 0
    assert all(r.due == 0 for r in again.results if r.action != "manual")


def test_small_batches_give_the_same_result(world: World) -> None:
    report = retention_purge(now=NOW, batch=1)
    assert report.ok
    for r in report.results:
        if r.action != "manual":
            assert r.processed == r.due, r.key
            assert r.due_after == 0, r.key


def test_the_audit_trail_is_counted_when_due_and_never_deleted(world: World) -> None:
    count = AuditEvent.objects.count()
    report = retention_purge(now=NOW)
    results = {r.key: r for r in report.results}
    assert results["core.audit_sign_in"].due == 1
    assert results["core.audit"].due == 1
    assert all(results[k].processed == 0 for k in ("core.audit_sign_in", "core.audit"))
    ids = world.expired["core.audit_sign_in"] + world.expired["core.audit"]
    assert AuditEvent.objects.filter(pk__in=ids).count() == 2
    assert AuditEvent.objects.count() == count + 1  # plus the purge's own event


def test_the_purge_is_audited_once_with_counts_and_nothing_else(world: World) -> None:
    report = retention_purge(now=NOW)
    event = AuditEvent.objects.get(action=AUDIT_ACTION)
    assert event.actor_label == "system:privacy-purge"
    assert event.detail["ok"] is True
    assert event.detail["rules"]["portal.sign_in_codes"] == {"due": 1, "processed": 1, "files": 0}
    flat = json.dumps(event.detail)
    assert set(event.detail) == {"ok", "rules"}
    for leaked in ("Asep", "081234567890", "Pak Budi", "toko"):
        assert leaked not in flat
    assert report.processed == sum(v["processed"] for v in event.detail["rules"].values())
    retention_purge(now=NOW, dry_run=True)
    assert AuditEvent.objects.filter(action=AUDIT_ACTION).count() == 1


def test_payments_ledger_entries_and_the_registry_are_never_purged(world: World) -> None:
    from tepat.ledger.models import LogEntry
    from tepat.payments.models import Payment
    from tepat.programs.models import Entitlement
    from tepat.registry.models import ChangeRecord, Person

    LogEntry.objects.create(index=0, kind="payment.sent", ref="x", body="{}",
                            sequenced_at=ago(4000))  # fmt: skip
    counts = (Payment.objects.count(), Entitlement.objects.count(), Person.objects.count(),
              ChangeRecord.objects.count())  # fmt: skip
    retention_purge(now=NOW + dt.timedelta(days=365 * 50))  # everything is "old" now
    assert Payment.objects.filter(pk__in=world.payment_ids).count() == len(world.payment_ids) == 4
    assert (Payment.objects.count(), Entitlement.objects.count(), Person.objects.count(),
            ChangeRecord.objects.count()) == counts  # fmt: skip
    assert LogEntry.objects.filter(index=0).exists()


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(TepatError, match="no purge rule named nope"):
        retention_purge(only=["nope"])


def test_the_command_prints_the_table_and_writes_a_json_report(
    world: World, tmp_path: Path
) -> None:
    out = io.StringIO()
    path = tmp_path / "purge.json"
    call_command("privacy", "purge", "--dry-run", "--report", str(path), stdout=out)
    assert "dry run:" in out.getvalue()
    assert "portal.sign_in_codes" in out.getvalue()
    data = json.loads(path.read_text())
    assert data["dry_run"] is True
    by_key = {r["key"]: r for r in data["rules"]}
    assert by_key["portal.sign_in_codes"]["due"] == 1
    out = io.StringIO()
    call_command("privacy", "purge", "--no-progress", stdout=out)
    assert "row(s) processed of" in out.getvalue()
    assert "audit row(s) past their period" in out.getvalue()


def test_the_retention_page_shows_the_last_purge(world: World, client: Any) -> None:
    retention_purge(now=NOW)
    signed_in(client, make_staff("aud", "auditor"))
    html = client.get("/privasi/catatan/retensi/").content.decode()
    assert "system:privacy-purge" in html


def test_a_rule_the_database_refuses_is_reported_as_an_error_and_the_command_fails(
    world: World, monkeypatch: Any
) -> None:
    """A delete that a protecting foreign key refuses (here: households, which persons point at)
    is never skipped silently: the rule carries the error, the others still run."""
    from dataclasses import replace as dc_replace

    from tepat.core.declarations import Retention, days
    from tepat.privacy import retention

    real = retention.collect

    def with_bad_rule() -> Any:
        register = real()
        bad = Retention("x.households", "registry.Household", "h", "created_at", days(0),
                        Action.DELETE, "r")  # fmt: skip
        return dc_replace(register, retention=[*register.retention, bad])

    monkeypatch.setattr(retention, "collect", with_bad_rule)
    report = retention_purge(now=NOW + dt.timedelta(days=1))
    results = {r.key: r for r in report.results}
    assert "ProtectedError" in results["x.households"].error
    assert not report.ok
    assert results["portal.sign_in_codes"].processed == 1  # the others still ran
    assert AuditEvent.objects.get(action=AUDIT_ACTION).detail["ok"] is False
    with pytest.raises(CommandError, match="some rules failed"):
        call_command("privacy", "purge", "--no-progress", stdout=io.StringIO())
