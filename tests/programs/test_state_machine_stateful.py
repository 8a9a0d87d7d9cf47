"""A hypothesis state machine: random sequences of cycle actions by random staff never break the
transition table or maker-checker."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tepat.accounts.models import RegionScope, Role, User
from tepat.core.errors import TepatError
from tepat.payments import services as payments
from tepat.programs import services
from tepat.programs.models import Cycle, CycleState

S = CycleState


@pytest.mark.django_db
def test_random_cycle_actions_respect_the_state_machine_and_maker_checker():
    users = {
        "op": User.objects.create_user(username="sm_op", password="x", role=Role.OPERATOR),
        "spv1": User.objects.create_user(username="sm_spv1", password="x", role=Role.SUPERVISOR),
        "spv2": User.objects.create_user(username="sm_spv2", password="x", role=Role.SUPERVISOR),
    }
    for u in users.values():  # one scope each: their cycles are Jawa Barat's
        RegionScope.objects.create(user=u, region_code="32")
    prog = services.programme_create(
        acting_user=users["spv1"], code="SM-1", name="sm", kind="sembako",
        eligibility_rule="desil <= 4", effective_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    counter = iter(range(10_000))

    class CycleMachine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.cycle = services.cycle_create(
                acting_user=users["op"], programme=prog, code=f"C{next(counter)}", instalment=1,
                period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
                control_count=10, control_amount=10**9,
            )  # fmt: skip
            self.model_state = S.DRAFT
            # The programme's author and the cycle's creator are makers from the start.
            self.makers: set[int] = {users["spv1"].pk, users["op"].pk}

        def _try(self, fn, user: User, expect_ok: bool, new_state: str | None = None, **kw) -> None:
            try:
                fn(acting_user=user, cycle=self.cycle, **kw)
            except TepatError:
                assert not expect_ok
            else:
                assert expect_ok, (fn.__name__, self.model_state)
                if new_state:
                    self.model_state = new_state

        @rule(who=st.sampled_from(["op", "spv1", "spv2"]))
        def compute(self, who: str) -> None:
            ok = self.model_state == S.DRAFT
            self._try(services.cycle_compute, users[who], ok, desil={})
            if ok:  # every computer stays a maker: a recompute does not launder an earlier one
                self.makers.add(users[who].pk)

        @rule(who=st.sampled_from(["op", "spv1", "spv2"]))
        def submit(self, who: str) -> None:
            c = Cycle.objects.get(pk=self.cycle.pk)
            ok = self.model_state == S.DRAFT and c.computed_at is not None
            self._try(services.cycle_submit, users[who], ok, S.TO_APPROVE)
            if ok:
                self.makers.add(users[who].pk)

        @rule(who=st.sampled_from(["op", "spv1", "spv2"]))
        def approve(self, who: str) -> None:
            u = users[who]
            ok = (
                self.model_state == S.TO_APPROVE
                and u.role == Role.SUPERVISOR
                and u.pk not in self.makers
            )
            self._try(services.cycle_approve, u, ok, S.APPROVED)

        @rule(who=st.sampled_from(["spv1", "spv2"]))
        def send_back(self, who: str) -> None:
            self._try(
                services.cycle_return,
                users[who],
                self.model_state == S.TO_APPROVE,
                S.DRAFT,
                reason="cek",
            )

        @rule(who=st.sampled_from(["op", "spv1"]))
        def cancel(self, who: str) -> None:
            # Programs cancels only before approval; an approved cycle is cancelled by payments.
            ok = users[who].role == Role.SUPERVISOR and self.model_state in (
                S.DRAFT,
                S.TO_APPROVE,
            )
            self._try(services.cycle_cancel, users[who], ok, S.CANCELLED, reason="batal")

        @rule(who=st.sampled_from(["op", "spv1"]))
        def cancel_through_payments(self, who: str) -> None:
            ok = users[who].role == Role.SUPERVISOR and self.model_state in (
                S.DRAFT,
                S.TO_APPROVE,
                S.APPROVED,
            )
            self._try(payments.cycle_cancel, users[who], ok, S.CANCELLED, reason="batal")

        @invariant()
        def matches_the_model(self) -> None:
            if hasattr(self, "cycle"):
                assert Cycle.objects.get(pk=self.cycle.pk).state == self.model_state

    CycleMachine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    CycleMachine.TestCase().runTest()
