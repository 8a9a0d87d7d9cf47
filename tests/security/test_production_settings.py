"""Production defaults (issue 16, item 14).

Attacks tried:
- a deployment forgets its keys, and the app silently generates them under var/keys beside the
  database (one backup then holds both the ciphertexts and the key);
- a deployment copies `changeme`, an example value, Django's insecure key or a short key;
- the session cookie travels over plain HTTP, or a client claims HTTPS through a forwarded header
  nobody vouched for;
- a page runs a script injected into it (no Content-Security-Policy), or is framed;
- other users of the machine read the SQLite database, the keys or an export under var/.

Start-up is tested in subprocesses that import the settings under a chosen environment (the
test process itself is a development installation: pytest sets PYTEST_VERSION).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tepat.config.keygen import generate

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
TEMPLATES = ROOT / "src" / "tepat"


def _documented_production_env() -> dict[str, str]:
    """The environment block under "Production settings" in docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index("<!-- production-env")
    block = text[text.index("```sh", start) + 5 : text.index("```", text.index("```sh", start) + 5)]
    env = {}
    for line in block.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def _production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The documented environment with its secret files made real under tmp_path."""
    env = _documented_production_env()
    keys = generate(tmp_path / "secrets", origin="tepat.go.id/ledger")
    for name in list(env):
        if name.endswith("_FILE"):
            env[name] = str(keys[name.removesuffix("_FILE")])
    env["TEPAT_VAR_DIR"] = str(tmp_path / "var")
    env.update(overrides)
    return env


_PASSED_ON = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH"}


def _run(env: dict[str, str], code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Python in a clean environment: no PYTEST_VERSION, no TEPAT_* from this process."""
    base = {k: v for k, v in os.environ.items() if k in _PASSED_ON}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**base, "DJANGO_SETTINGS_MODULE": "tepat.config.settings", **env},
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        timeout=120,
    )


IMPORT_SETTINGS = "import tepat.config.settings"
SETUP = "import django; django.setup()\nfrom django.conf import settings\n"


# --- keys ----------------------------------------------------------------------------------


def test_without_keys_the_app_refuses_to_start_and_generates_none(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    result = _run({"TEPAT_VAR_DIR": str(var)}, IMPORT_SETTINGS)
    assert result.returncode != 0
    assert "TEPAT_SECRET_KEY is not set" in result.stderr
    assert not (var / "keys").exists()


@pytest.mark.parametrize("missing", ["TEPAT_VOUCHER_SIGNING_KEY", "TEPAT_LEDGER_SIGNING_KEY"])
def test_keys_read_later_are_required_at_start_up_too(tmp_path, missing):
    env = _production_env(tmp_path)
    del env[f"{missing}_FILE"]
    result = _run(env, IMPORT_SETTINGS)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TEPAT_SECRET_KEY", "changeme"),
        ("TEPAT_SECRET_KEY", "django-insecure-" + "k3y" * 20),
        ("TEPAT_SECRET_KEY", "VP6mrwJqOxTrDeoaxuaryVf5NuvVYVVq"),  # 32 characters: shorter than 50
        ("TEPAT_SECRET_KEY", "please-change-me-before-going-live-0123456789abcdef"),
        ("TEPAT_FIELD_KEY", "k2:BASE64"),  # the example in docs/operations.md
        ("TEPAT_FIELD_KEY", "k1:Q4f4LBm3KfjVe7x9bfQz2Q"),  # 16 bytes (fixed: xdist collects twice)
        ("TEPAT_BLIND_INDEX_KEY", "a1b2c3d4" * 8),  # a repeated pattern
        ("TEPAT_BLIND_INDEX_KEY", "secret"),
        ("TEPAT_VOUCHER_SIGNING_KEY", "example-voucher-key"),
    ],
)
def test_a_weak_key_stops_start_up_with_a_message_naming_it(tmp_path, name, value):
    env = _production_env(tmp_path)
    env.pop(f"{name}_FILE", None)
    env[name] = value
    result = _run(env, IMPORT_SETTINGS)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("tepat.core.env.SettingError: " + name), last_line
    assert value not in last_line  # the message names the variable, never echoes the key


def test_strong_keys_from_files_start_the_app_and_nothing_is_written_under_var_keys(tmp_path):
    result = _run(_production_env(tmp_path), SETUP + "print(settings.DEBUG)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert not (tmp_path / "var" / "keys").exists()


def test_a_development_installation_generates_its_keys_privately(tmp_path):
    var = tmp_path / "var"
    result = _run({"TEPAT_VAR_DIR": str(var), "TEPAT_DEV": "true"}, IMPORT_SETTINGS)
    assert result.returncode == 0, result.stderr
    keys = var / "keys"
    assert keys.stat().st_mode & 0o777 == 0o700
    for name in ("secret_key", "field_key", "blind_key"):
        assert (keys / name).stat().st_mode & 0o777 == 0o600
    assert len((keys / "secret_key").read_text()) >= 50


def test_the_ledger_does_not_generate_a_signing_key_outside_development(tmp_path):
    env = _production_env(tmp_path)
    del env["TEPAT_LEDGER_SIGNING_KEY_FILE"]
    env["TEPAT_DEV"] = "true"  # start-up passes; then production is declared in-process
    code = SETUP + (
        "from django.test import override_settings\n"
        "from tepat.ledger.keys import log_signers\n"
        "with override_settings(TEPAT_ALLOW_GENERATED_KEYS=False):\n"
        "    try:\n"
        "        log_signers()\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    )
    result = _run(env, code)
    assert "SettingError TEPAT_LEDGER_SIGNING_KEY is not set" in result.stdout, result.stderr
    assert not (tmp_path / "var" / "keys" / "ledger_signing_key").exists()


# --- HTTPS and headers -----------------------------------------------------------------------


def test_check_deploy_is_clean_under_the_documented_production_settings(tmp_path):
    env = _production_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tepat.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env={**{k: v for k, v in os.environ.items() if k in _PASSED_ON}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


_REQUEST = SETUP + (
    "import json, sys\n"
    "from django.test import Client\n"
    "extra = json.loads(sys.argv[1])\n"
    "r = Client().get('/accounts/masuk/', HTTP_HOST='bansos.example.go.id', **extra)\n"
    "print(json.dumps({'status': r.status_code, 'headers': dict(r.headers),\n"
    "    'cookies': {k: dict(v) for k, v in r.cookies.items()}}))\n"
)


def _get(tmp_path: Path, extra: dict[str, str], **overrides: str) -> dict:
    result = _run(_production_env(tmp_path, **overrides), _REQUEST, json.dumps(extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plain_http_is_redirected_to_https(tmp_path):
    response = _get(tmp_path, {})
    assert response["status"] == 301
    assert response["headers"]["Location"] == "https://bansos.example.go.id/accounts/masuk/"


def test_https_through_the_trusted_proxy_header_gets_secure_cookies_hsts_and_csp(tmp_path):
    response = _get(tmp_path, {"HTTP_X_FORWARDED_PROTO": "https"})
    assert response["status"] == 200
    headers = response["headers"]
    assert headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert headers["X-Frame-Options"] == "DENY"
    csrf = response["cookies"]["csrftoken"]
    assert csrf["secure"] is True


def test_a_forwarded_https_header_is_not_believed_unless_named(tmp_path):
    response = _get(tmp_path, {"HTTP_X_FORWARDED_PROTO": "https"}, TEPAT_TRUSTED_PROXY_HEADER="")
    assert response["status"] == 301


# --- the Content-Security-Policy does not break the pages -------------------------------------


def test_every_page_carries_the_policy(client, db):
    response = client.get("/accounts/masuk/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_no_template_has_an_inline_script_or_style_without_the_nonce():
    offenders = []
    for path in TEMPLATES.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            if "csp_nonce" not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        for handler in re.findall(r"<[^>]*\son[a-z]+=\"[^\"]*\"", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline handler {handler[:60]}")
    assert offenders == []


def test_an_inline_script_runs_with_the_nonce_of_its_response(client, db):
    response = client.get(reverse("grievances:report_new"))
    assert response.status_code == 200
    nonce = re.search(r'<script nonce="([^"]+)">', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


# --- files under var/ -------------------------------------------------------------------------


def test_the_database_keys_and_exports_under_var_are_private(tmp_path):
    env = _production_env(tmp_path)
    del env["TEPAT_DATABASE_URL"], env["TEPAT_REDIS_URL"]  # the embedded SQLite under var/
    code = SETUP + (
        "from django.db import connection\n"
        "connection.ensure_connection()\n"
        "with connection.cursor() as c: c.execute('create table t (x int)')\n"
        "export = settings.VAR_DIR / 'exports' / 'households.csv'\n"
        "export.parent.mkdir(parents=True)\n"
        "export.write_text('nik\\n')\n"
    )
    result = _run(env, code)
    assert result.returncode == 0, result.stderr
    var = tmp_path / "var"
    assert var.stat().st_mode & 0o777 == 0o700
    assert (var / "tepat.sqlite3").stat().st_mode & 0o777 == 0o600
    assert (var / "exports").stat().st_mode & 0o777 == 0o700
    assert (var / "exports" / "households.csv").stat().st_mode & 0o777 == 0o600


def test_keygen_into_a_folder_it_cannot_create_says_so_without_a_traceback(tmp_path, capsys):
    from tepat.config.keygen import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["--dir", str(blocker / "keys")])
    assert exit_info.value.code == 2
    assert "cannot write the key files under" in capsys.readouterr().err
