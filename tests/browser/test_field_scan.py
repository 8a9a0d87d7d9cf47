"""The field app reads a voucher's QR (issue 20, item 5): from the camera and from a photo,
through the vendored decoder (barcode-detector's ZXing WebAssembly) under the page's real
Content-Security-Policy, and through the browser's own BarcodeDetector where there is one (the
decoder is then never loaded). The paste box stays as the fallback the other journeys use."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
import segno
from django.conf import settings
from django.test import Client

from tests.browser.test_field_offline import first_voucher
from tests.conftest import signed_in
from tests.verification.conftest import *  # noqa: F403 - the verification cast

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the live server answers on threads an in-memory SQLite test database cannot serve "
    "(run with TEPAT_DATABASE_URL=postgres://...)",
)

DECODER = "/static/vendor/barcode-detector/ponyfill.js"

# Every policy violation the page reports (the decoder's WebAssembly needs 'wasm-unsafe-eval').
WATCH_CSP = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)

# A camera that films the voucher: getUserMedia answers with a canvas stream showing the QR.
FAKE_CAMERA = """
navigator.mediaDevices.getUserMedia = async () => {
  const img = new Image();
  img.src = QR_DATA_URL;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width + 80;
  c.height = img.height + 80;
  const ctx = c.getContext("2d");
  const draw = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(img, 40, 40);
    requestAnimationFrame(draw);
  };
  draw();
  return c.captureStream(10);
};
"""


# A browser's own BarcodeDetector (Chrome on Android, macOS): here, one that reads the token
# from a video frame once `window.qrInView` is set, so the test sees which detector the app used.
NATIVE_DETECTOR = (
    "window.BarcodeDetector = class { static async getSupportedFormats() { return ['qr_code']; }"
    " async detect(src) { return window.qrInView && src.videoWidth ? [{ rawValue: TOKEN }] : []; } };"
)


def qr_png(token: str) -> bytes:
    out = io.BytesIO()
    segno.make(token, error="m").save(out, kind="png", scale=6, border=4)
    return out.getvalue()


def phone(browser: Any, live_server: Any, user: Any, *, init: str = "") -> tuple[Any, Any, list]:
    """A signed-in device under the real CSP (no bypass), with the day's list downloaded."""
    c = signed_in(Client(), user)
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": c.cookies["sessionid"].value,
                          "url": live_server.url}])  # fmt: skip
    context.add_init_script(WATCH_CSP + init)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/lapangan/")
    page.click("#download")
    page.wait_for_selector("#result:has-text('Daftar diunduh')")
    return context, page, requested


def test_a_photo_of_the_qr_is_read_by_the_vendored_decoder(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    v = first_voucher(vouchers)
    # No native detector (as in Firefox, Safari, desktop Linux): the vendored one must serve.
    context, page, requested = phone(browser, live_server, field_agent,
                                     init="delete window.BarcodeDetector;")  # fmt: skip
    axe(page, label="field app, list downloaded")
    page.set_input_files("#scan-photo", files=[
        {"name": "voucher.png", "mimeType": "image/png", "buffer": qr_png(v.token)},
    ])  # fmt: skip
    page.wait_for_selector("#scan-status:has-text('Voucher dikenali')")
    assert page.input_value("#token") == v.token
    assert any(u.endswith(DECODER) for u in requested)
    assert any(u.endswith("zxing_reader.wasm") for u in requested)
    assert not any("jsdelivr" in u for u in requested)  # the .wasm comes from this site
    assert page.evaluate("window.__csp") == []
    # Amounts read as Rupiah, e.g. "Rp200.000", never raw digits.
    assert f"Rp{v.payment.amount:,}".replace(",", ".") in page.text_content("#scan-status")
    axe(page, label="field app, voucher recognised")
    # A photo without a QR says so.
    page.set_input_files("#scan-photo", files=[
        {"name": "blank.png", "mimeType": "image/png", "buffer": BLANK_PNG},
    ])  # fmt: skip
    page.wait_for_selector("#scan-status:has-text('Tidak ada QR')")
    assert "Diserahkan" in hand_over(page)
    context.close()


def hand_over(page: Any) -> str:
    page.evaluate("document.getElementById('result').textContent = ''")
    page.fill("#card", "1000000001")
    page.click("#verify")
    page.wait_for_selector("#result:has-text(':')")
    return str(page.text_content("#result"))


# A 1x1 white PNG: an image with no QR in it.
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)


def test_the_camera_reads_the_qr_and_the_native_detector_is_preferred(
    browser, live_server, transactional_db, vouchers, field_agent, axe
):
    v = first_voucher(vouchers)
    data_url = "data:image/png;base64," + base64.b64encode(qr_png(v.token)).decode()
    camera = FAKE_CAMERA.replace("QR_DATA_URL", json.dumps(data_url))
    context, page, requested = phone(browser, live_server, field_agent,
                                     init="delete window.BarcodeDetector;" + camera)  # fmt: skip
    page.click("#scan-start")
    page.wait_for_selector("#scan-status:has-text('Voucher dikenali')")
    assert page.input_value("#token") == v.token
    assert page.is_hidden("#scan-video")  # the camera is off again
    assert page.evaluate("window.__csp") == []
    axe(page, label="field app, scanned by camera")
    context.close()

    # A browser with its own BarcodeDetector: used, and the 1 MB decoder never downloaded.
    native = NATIVE_DETECTOR.replace("TOKEN", json.dumps(v.token))
    context, page, requested = phone(browser, live_server, field_agent, init=native + camera)
    page.click("#scan-start")
    page.wait_for_selector("#scan-status:has-text('Arahkan kamera')")
    assert page.is_visible("#scan-video")
    axe(page, label="field app, camera on")
    page.get_by_role("button", name="Matikan kamera").click()  # the agent stops the camera
    assert page.is_hidden("#scan-video")
    assert page.evaluate("document.getElementById('scan-video').srcObject") is None
    page.evaluate("window.qrInView = true")
    page.click("#scan-start")
    page.wait_for_selector("#scan-status:has-text('Voucher dikenali')")
    assert page.input_value("#token") == v.token
    assert not any(u.endswith(DECODER) or u.endswith(".wasm") for u in requested)
    context.close()
