from __future__ import annotations

import pytest

from tepat.core.errors import TepatError, ValidationFailed
from tepat.ledger.models import PendingEntry
from tepat.payments import services, signatures, worker
from tepat.payments.models import Difference, Payment
from tepat.payments.providers import G2PConnectAdapter
from tepat.programs.models import CycleState
from tests.conftest import pay
from tests.payments.conftest import provider_private_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_cycle(approved_cycle, bandung_operator, provider_sim):
    sim = provider_sim()
    pay(operator=bandung_operator, cycle=approved_cycle,
        adapter=G2PConnectAdapter(sim.url, timeout_s=5), worker_config=worker.WorkerConfig())  # fmt: skip
    return approved_cycle, sim


def _import(user, text: str, name: str = "s.json"):
    signed = signatures.envelope_seal(
        provider_private_key("BRI"), provider="BRI", content=text.encode()
    )
    return services.statement_import(acting_user=user, provider="BRI", file_name=name, data=signed,
                                     adapter=G2PConnectAdapter("http://unused"))  # fmt: skip


def _simulator_statement(sim) -> str:
    files = sorted(sim.dir.glob("statement-*.csv"))
    assert files, "the simulator wrote no statement file"
    return "".join(
        f.read_text() if i == 0 else f.read_text().split("\n", 1)[1] for i, f in enumerate(files)
    )


def test_the_simulators_statement_reconciles_cleanly_and_the_cycle_can_be_distributed(
    paid_cycle, bandung_operator, supervisor, admin_user
):
    cycle, sim = paid_cycle
    _import(admin_user, _simulator_statement(sim))
    rec = services.cycle_reconcile(acting_user=bandung_operator, cycle=cycle)
    assert (rec.matched, rec.unexplained, rec.open_payments) == (3, 0, 0)
    assert rec.clean
    assert set(Payment.objects.values_list("reconciled", flat=True)) == {True}
    services.cycle_distribute(acting_user=supervisor, cycle=cycle)
    services.cycle_close(acting_user=supervisor, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.ENDED
    closed = PendingEntry.objects.get(kind="cycle.closed")
    assert '"paid":3' in closed.body
    assert '"paid_amount":3375000' in closed.body


def test_the_report_names_paid_but_not_ours_ours_not_paid_and_amount_differences(
    paid_cycle, bandung_operator, admin_user
):
    cycle, _ = paid_cycle
    keys = list(Payment.objects.order_by("id").values_list("payment_key", flat=True))
    stranger = f"{services.key_prefix(cycle)}ffffffffffffffffffffffff"
    text = (
        "reference_id,amount,status,reason,executed_at\n"
        f"{keys[0]},1125000,succ,,2026-11-28T01:00:00Z\n"
        f"{keys[1]},1000000,succ,,2026-11-28T01:00:00Z\n"
        f"{stranger},500000,succ,,2026-11-28T01:00:00Z\n"
    )
    _import(admin_user, text)
    rec = services.cycle_reconcile(acting_user=bandung_operator, cycle=cycle)
    assert (rec.matched, rec.ours_not_paid, rec.amount_differs, rec.paid_not_ours) == (1, 1, 1, 1)
    kinds = dict(Difference.objects.values_list("reference_id", "kind"))
    assert kinds == {keys[2]: "ours_not_paid", keys[1]: "amount_differs", stranger: "paid_not_ours"}


def test_a_cycle_with_unexplained_differences_cannot_be_distributed_until_each_is_explained(
    paid_cycle, bandung_operator, supervisor, admin_user
):
    cycle, _ = paid_cycle
    _import(admin_user, "reference_id,amount,status,reason,executed_at\n")
    with pytest.raises(TepatError) as exc:
        services.cycle_distribute(acting_user=supervisor, cycle=cycle)
    assert exc.value.code == "not_reconciled"
    for d in Difference.objects.all():  # by another officer than the statement's importer
        services.difference_explain(
            acting_user=supervisor, difference=d, explanation="rekening koran hari berikutnya"
        )
    services.cycle_distribute(acting_user=supervisor, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.state == CycleState.DISTRIBUTED


def test_importing_the_same_statement_twice_adds_nothing(paid_cycle, admin_user):
    _cycle, sim = paid_cycle
    text = _simulator_statement(sim)
    a = _import(admin_user, text)
    b = _import(admin_user, text)
    assert a.pk == b.pk
    assert a.lines == 3


def test_an_unreadable_statement_is_refused_with_a_reason(admin_user, regions):
    with pytest.raises(ValidationFailed) as exc:
        _import(admin_user, "no,header\n1,2\n")
    assert exc.value.problems[0].code == "bad_statement"
