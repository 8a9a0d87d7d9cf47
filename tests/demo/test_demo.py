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
    call_command("demo", "--persons", "800", "--seed", "3", "--addr", "0.0.0.0:8124",
                 "--boundaries", str(tmp_path / "no-geo"))  # fmt: skip
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
    assert "tanpa desil" in out  # hence no PKH list and no paid cycle: said too
    # The simulator's public keys exist all the same: `make demo` hands them to the server.
    assert (tmp_path / "demo" / "provider-sim" / "keys.public.json").is_file()
    # Boundaries absent from the folder given: said (the public map falls back to a tile grid).
    assert "batas province tidak ada" in out
    assert "batas regency tidak ada" in out
    # The address printed is the one served (runserver's 0.0.0.0 is reached at the loopback).
    assert "http://127.0.0.1:8124/accounts/masuk/" in out
    assert ":8000" not in out
    call_command("demo", "--persons", "800", "--seed", "3", "--boundaries", str(tmp_path))
    assert Person.objects.count() == 800
    call_command("demo", "--code", "operator")
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert pyotp.TOTP(accounts["operator"]["totp_secret"]).verify(code, valid_window=1)
