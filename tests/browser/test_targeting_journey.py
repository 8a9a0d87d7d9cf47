"""A targeting analyst's journey in a real browser: a spec with a typo is refused on the page with
the key named, a corrected spec calibrates, and the model card shows the comparison, the reason
for the choice and the download of the out-of-fold predictions; the deliberation page opens."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from django.core.cache import cache

from tepat.accounts import services
from tepat.regions.models import Region
from tests.targeting.conftest import SPEC, write_survey

PASSWORD = "bansos-tepat-2026"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
COMPARED = SPEC.replace('method = "ols"', 'methods = ["ols", "enet", "gbm"]\nselect = "auto"')


def make_supervisor() -> None:
    cache.clear()
    Region.objects.bulk_create(
        [
            Region(code="32", dotted_code="32", name="Jawa Barat", level="province"),
            Region(
                code="3273",
                dotted_code="32.73",
                name="Kota Bandung",
                level="regency",
                parent_id="32",
            ),
        ]
    )
    services.user_create(
        acting_user=None,
        username="supervisor.bandung",
        password=PASSWORD,
        role="supervisor",
        region_codes=["3273"],
        totp_secret=SECRET,
    )


def sign_in(page) -> None:
    page.goto("/accounts/masuk/")
    page.get_by_label("Nama pengguna").fill("supervisor.bandung")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/masuk/kode/"))
    page.get_by_label("Kode 6 digit").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(re.compile(r"/registry/$"))


def test_an_analyst_calibrates_from_the_page_and_reads_the_model_card(
    page, axe, tmp_path: Path, screenshots_dir: Path
) -> None:
    assert COMPARED != SPEC
    make_supervisor()
    survey = write_survey(tmp_path / "survey.csv", n=400)
    sign_in(page)

    page.goto("/targeting/")
    axe(page, label="targeting")
    page.get_by_text("Kalibrasi model baru dari survei").click()
    axe(page, label="targeting, calibration form open")
    page.set_input_files("#survey", str(survey))
    page.fill("#spec", COMPARED.replace("folds = 4", "fodls = 4"))
    page.get_by_role("button", name="Kalibrasi").click()
    alert = page.get_by_role("alert")
    # The typo is named, with the key it was probably meant to be; nothing is saved.
    assert "model.fodls" in alert.inner_text()
    assert "folds" in alert.inner_text()
    page.screenshot(path=str(screenshots_dir / "targeting_spec_error.png"), full_page=True)
    axe(page, label="targeting, spec refused")

    # The form stays open with the analyst's text, so the typo can be corrected in place.
    assert "fodls = 4" in page.input_value("#spec")
    page.set_input_files("#survey", str(survey))
    page.fill("#spec", COMPARED)
    page.fill("#name", "PMT uji peramban")
    page.get_by_role("button", name="Kalibrasi").click()
    page.wait_for_url(re.compile(r"/targeting/model/1/$"), timeout=60_000)
    page.screenshot(path=str(screenshots_dir / "targeting_model_card.png"), full_page=True)
    axe(page, label="model card")

    comparison = page.locator("#comparison").inner_text()
    for method in ("ols", "enet", "gbm"):
        assert method in comparison
    assert "Alasan pemilihan" in page.locator("#selection").inner_text()
    assert "Pembanding terbitan" not in page.content()  # the fixed, incomparable line is gone
    link = page.locator("#model-exports a").first
    assert link.get_attribute("href") == "/targeting/model/1/prediksi.csv"

    page.goto("/targeting/musyawarah/")
    assert page.get_by_role("heading", level=1).count() == 1
    axe(page, label="deliberation")
