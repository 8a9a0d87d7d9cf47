from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tepat.programs.models import Programme

pytestmark = pytest.mark.django_db


def test_the_seed_command_creates_the_three_standard_programmes_once(admin_user):
    call_command("programmes-seed", "--year", "2026", "--user", "admin_pusat", stdout=io.StringIO())
    err = io.StringIO()
    call_command(
        "programmes-seed",
        "--year",
        "2026",
        "--user",
        "admin_pusat",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert sorted(Programme.objects.values_list("code", flat=True)) == [
        "BLT-2026",
        "PKH-2026",
        "SEMBAKO-2026",
    ]
    assert "already exists" in err.getvalue()
    assert Programme.objects.get(code="PKH-2026").params["annual"]["sma"] == 2_000_000
