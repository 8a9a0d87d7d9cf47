"""Separation of duties: a decision that changes or erases data is applied only when a second
member of staff approves it, never the one who opened or decided it, nor someone whose account
the maker created or who managed staff accounts lately (tepat.accounts.duties)."""

# ruff: noqa: F811 - fixtures imported from the cast are requested by name
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tepat.accounts.models import Role
from tepat.core.audit import audit_record
from tepat.core.errors import PermissionDenied
from tepat.privacy import services
from tepat.privacy.models import DataSubjectRequest
from tepat.registry.models import Person
from tests.conftest import make_staff
from tests.privacy.rights_cast import (  # noqa: F401 (fixtures)
    _clear_cache,
    act,
    open_at_office,
    request_id_from,
    subject,
)

pytestmark = pytest.mark.django_db


def _decided_erasure(subject, user, login) -> str:
    c = login(user)
    pid = request_id_from(open_at_office(c, subject["nik"], "deletion", details="Hapus data"))
    r = act(c, pid, "decide", outcome="upheld", outcome_text="Tidak ada masa retensi")
    assert r.status_code == 302, r.content.decode()[:600]
    assert DataSubjectRequest.objects.get(public_id=pid).status == "awaiting_approval"
    return pid


def test_the_maker_cannot_approve_their_own_erasure(subject, supervisor, login):
    pid = _decided_erasure(subject, supervisor, login)
    spv = login(supervisor)
    assert 'value="approve"' not in spv.get(f"/privasi/permintaan/{pid}/").content.decode()
    r = act(spv, pid, "approve")
    assert r.status_code == 403
    assert "tidak boleh menyetujuinya sendiri" in r.content.decode()
    assert Person.objects.get(pk=subject["head"].pk).erased_at is None
    assert DataSubjectRequest.objects.get(public_id=pid).status == "awaiting_approval"


def test_an_operator_may_decide_but_not_approve_an_erasure(
    subject, bandung_operator, second_bandung_operator, supervisor, login
):
    pid = _decided_erasure(subject, bandung_operator, login)
    r = act(login(second_bandung_operator), pid, "approve")
    assert r.status_code == 403
    assert "Peran Anda tidak boleh menyetujui" in r.content.decode()
    assert act(login(supervisor), pid, "approve").status_code == 302
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert dsr.status == "upheld"
    assert dsr.approved_by == supervisor
    assert dsr.decided_by == bandung_operator
    assert Person.objects.get(pk=subject["head"].pk).erased_at is not None


def test_whoever_opened_the_request_cannot_approve_it(subject, supervisor, bandung_operator, login):
    spv = login(supervisor)
    pid = request_id_from(open_at_office(spv, subject["nik"], "deletion", details="Hapus"))
    act(login(bandung_operator), pid, "decide", outcome="upheld", outcome_text="Tanpa retensi")
    assert act(spv, pid, "approve").status_code == 403


def test_a_return_and_a_new_decision_launder_nobody(
    subject, bandung_operator, supervisor, regions, login
):
    other_supervisor = make_staff("spv_bandung", Role.SUPERVISOR, ("3273",))
    op, spv, spv2 = login(bandung_operator), login(supervisor), login(other_supervisor)
    pid = request_id_from(open_at_office(op, subject["nik"], "deletion", details="Hapus"))
    act(spv, pid, "decide", outcome="upheld", outcome_text="Tanpa retensi")
    act(spv2, pid, "return", reason="Periksa dulu pembayaran")
    act(op, pid, "decide", outcome="upheld", outcome_text="Sudah diperiksa, tanpa retensi")
    dsr = DataSubjectRequest.objects.get(public_id=pid)
    assert services.request_makers(dsr) == {bandung_operator.pk, supervisor.pk}
    # The first maker is still a maker, though the last decision was someone else's.
    assert act(spv, pid, "approve").status_code == 403
    assert act(spv2, pid, "approve").status_code == 302


def test_an_approver_whose_account_the_maker_created_may_not_approve(subject, regions, login):
    admin = make_staff("admin_bandung", Role.ADMIN)
    crony = make_staff("spv_baru", Role.SUPERVISOR, ("3273",))
    audit_record(actor=admin, action="user.created", target_type="user", target_id=str(crony.pk))
    pid = _decided_erasure(subject, admin, login)
    with pytest.raises(PermissionDenied, match="dibuat atau diubah oleh pembuat"):
        services.request_approve(
            acting_user=crony, dsr=DataSubjectRequest.objects.get(public_id=pid)
        )


def test_an_approver_who_managed_staff_accounts_lately_may_not_approve(
    subject, bandung_operator, supervisor, login
):
    pid = _decided_erasure(subject, bandung_operator, login)
    audit_record(actor=supervisor, action="user.scope_set", target_type="user", target_id="999")
    with pytest.raises(PermissionDenied, match="mengelola akun staf"):
        services.request_approve(
            acting_user=supervisor, dsr=DataSubjectRequest.objects.get(public_id=pid)
        )


def test_the_database_refuses_a_checker_who_is_the_maker(subject, supervisor, login):
    pid = _decided_erasure(subject, supervisor, login)
    with pytest.raises(IntegrityError), transaction.atomic():
        DataSubjectRequest.objects.filter(public_id=pid).update(approved_by=supervisor)
