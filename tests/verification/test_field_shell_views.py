"""The field app's page, service worker and vendored QR decoder (issue 20, item 5), without a
browser: what the worker caches on install, the page's landmarks and sign-out, and the one
Content-Security-Policy exception (WebAssembly compilation) kept to the field page alone."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tepat.verification import views

pytestmark = pytest.mark.django_db

VENDOR = Path(views.__file__).resolve().parents[1] / "static" / "vendor" / "barcode-detector"


def _json_const(js: str, name: str) -> object:
    return json.loads(re.search(rf"const {name} = (.*);\n", js).group(1))


def test_the_worker_caches_the_app_shell_and_the_decoder_on_install(client):
    r = client.get("/lapangan/sw.js")
    js = r.content.decode()
    assert r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/lapangan/"
    assert r["Cache-Control"] == "no-cache"
    assert _json_const(js, "ASSETS") == ["/lapangan/", "/static/verification/field.js"]
    assert _json_const(js, "DECODER") == [
        "/static/vendor/barcode-detector/ponyfill.js",
        "/static/vendor/barcode-detector/zxing_reader.wasm",
    ]
    assert _json_const(js, "SHELL") == "/lapangan/"
    assert re.fullmatch(r"tepat-lapangan-[0-9a-f]{12}", str(_json_const(js, "CACHE")))
    assert 'addEventListener("install"' in js
    assert "precache(false)" in js
    # The shell cached at install must match a later navigation despite `Vary: Cookie`.
    assert "ignoreVary: true" in js


def test_the_cache_name_follows_the_cached_files(monkeypatch, tmp_path):
    views._assets_digest.cache_clear()
    before = views._assets_digest()
    changed = tmp_path / "field.js"
    changed.write_text("// a new release of the field app")
    real_find = views.finders.find
    monkeypatch.setattr(views.finders, "find",
                        lambda name, *a, **k: str(changed) if name == views.FIELD_JS
                        else real_find(name, *a, **k))  # fmt: skip
    views._assets_digest.cache_clear()
    try:
        assert views._assets_digest() != before
    finally:
        monkeypatch.undo()
        views._assets_digest.cache_clear()


def test_the_page_has_a_main_landmark_a_sign_out_and_the_scanner(field_agent, staff_client):
    c = staff_client(field_agent)
    r = c.get("/lapangan/")
    html = r.content.decode()
    main = html[html.index("<main>") : html.index("</main>")]
    assert "<h1>" in main
    assert 'id="scan-start"' in main
    assert 'id="scan-photo"' in main
    assert 'id="token"' in main  # pasting stays possible
    header = html[html.index("<header>") : html.index("</header>")]
    assert 'id="signout" method="post" action="/accounts/keluar/"' in header
    assert 'data-decoder="/static/vendor/barcode-detector/ponyfill.js"' in html
    assert 'data-decoder-wasm="/static/vendor/barcode-detector/zxing_reader.wasm"' in html


def test_webassembly_is_allowed_on_the_field_page_only(field_agent, staff_client):
    c = staff_client(field_agent)
    field = c.get("/lapangan/")["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", field).group(1)
    assert "'wasm-unsafe-eval'" in script_src
    assert "'unsafe-eval'" not in script_src.replace("'wasm-unsafe-eval'", "")
    elsewhere = c.get("/verifikasi/kebijakan/")
    assert "wasm-unsafe-eval" not in elsewhere.get("Content-Security-Policy", "")
    assert "wasm-unsafe-eval" not in c.get("/")["Content-Security-Policy"]


def test_the_vendored_decoder_is_the_one_its_script_expects():
    """refresh_static.py checks this when it vendors; a hand-replaced file fails here too."""
    wasm = (VENDOR / "zxing_reader.wasm").read_bytes()
    ponyfill = (VENDOR / "ponyfill.js").read_bytes()
    assert f"`{hashlib.sha256(wasm).hexdigest()}`".encode() in ponyfill
    assert b"BarcodeDetectionAPI" in ponyfill
    assert b"setZXingModuleOverrides" in ponyfill
    assert (VENDOR / "LICENSE").is_file()
    assert (VENDOR / "LICENSE.zxing-wasm").is_file()
    versions = (VENDOR.parent / "VERSIONS.md").read_text()
    assert "barcode-detector" in versions
    assert "zxing_reader.wasm" in versions


def test_the_verification_pages_link_to_the_field_app(field_agent, staff_client):
    html = staff_client(field_agent).get("/verifikasi/penukaran-ganda/").content.decode()
    assert 'href="/lapangan/"' in html
