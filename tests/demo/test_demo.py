from __future__ import annotations

import json

import pyotp
import pytest
from django.core.management import call_command

from tepat.accounts.models import User
from tepat.registry.models import Household, Person


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_demo_builds_a_synthetic_regency_and_staff_and_is_idempotent(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("demo", "--persons", "800", "--seed", "3")
    out = capsys.readouterr().out
    assert Person.objects.count() == 800
    assert (
        Household.objects.filter(village__code__startswith="3273").count()
        == Household.objects.count()
    )
    accounts = json.loads((tmp_path / "demo" / "accounts.json").read_text())
    assert (tmp_path / "demo" / "accounts.json").stat().st_mode & 0o077 == 0
    assert accounts["operator"]["password"] in out
    operator = User.objects.get(username="operator")
    assert operator.check_password(accounts["operator"]["password"])
    assert operator.region_codes == ["3273"]
    from tepat.integration.models import ImportRun
    from tepat.programs.models import Programme

    assert ImportRun.objects.count() == 5  # every synthetic agency source went through import
    assert Programme.objects.count() == 3  # PKH, Sembako, BLT of the year
    assert "PMT dilewati" in out  # 800 persons give too small a survey: said, not crashed
    call_command("demo", "--persons", "800", "--seed", "3")
    assert Person.objects.count() == 800
    call_command("demo", "--code", "operator")
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert pyotp.TOTP(accounts["operator"]["totp_secret"]).verify(code, valid_window=1)
