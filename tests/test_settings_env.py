"""Settings documented as environment variables really come from the environment."""

from __future__ import annotations

import os
import subprocess
import sys


def _read(names: list[str], env: dict[str, str]) -> list[str]:
    code = (
        "import django, os\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'tepat.config.settings'\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        f"print([repr(getattr(settings, n, 'unset')) for n in {names!r}])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return list(eval(out.stdout.strip()))  # noqa: S307 - our own repr of a list of reprs


def test_read_where_used_settings_follow_the_environment_only_when_set(tmp_path):
    names = ["TEPAT_FACE_THRESHOLD", "TEPAT_IMPORT_STALE_SECONDS", "TEPAT_SMS_GATEWAY_TOKEN"]
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    env = {
        "TEPAT_VAR_DIR": str(tmp_path / "var"),
        "TEPAT_FACE_THRESHOLD": "0.42",
        "TEPAT_IMPORT_STALE_SECONDS": "90",
        "TEPAT_SMS_GATEWAY_TOKEN_FILE": str(token),
    }
    assert _read(names, env) == ["0.42", "90", "'s3cret'"]
    # Not named: the setting stays unset and the code's own default applies.
    assert _read(names, {"TEPAT_VAR_DIR": str(tmp_path / "var")}) == ["'unset'"] * 3


def test_the_suppression_threshold_comes_from_the_environment_through_the_settings(tmp_path):
    env = {"TEPAT_VAR_DIR": str(tmp_path / "var"), "TEPAT_SUPPRESSION_THRESHOLD": "5"}
    assert _read(["TEPAT_SUPPRESSION_THRESHOLD"], env) == ["5"]
    # Not named: unset, and tepat.core.disclosure's default (10) applies.
    assert _read(["TEPAT_SUPPRESSION_THRESHOLD"], {"TEPAT_VAR_DIR": str(tmp_path / "var")}) == [
        "'unset'"
    ]
