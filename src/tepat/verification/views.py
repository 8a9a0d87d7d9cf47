"""The field PWA shell (served under /lapangan/ so the service worker's scope covers it), its
manifest and service worker, the printable voucher, and the staff pages under /verifikasi/:
flagged handovers, proxies and face enrolment of a beneficiary, and the verification policy."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import segno
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.verification import face, selectors, services
from tepat.verification.models import HandoverDecision, HandoverStatus, Method, ProxyReason

# The vendored QR decoder for browsers without a native BarcodeDetector (scripts/refresh_static.py).
DECODER_JS = "vendor/barcode-detector/ponyfill.js"
DECODER_WASM = "vendor/barcode-detector/zxing_reader.wasm"
FIELD_JS = "verification/field.js"


# The decoder compiles ZXing's WebAssembly in the page: CSP level 3 asks for 'wasm-unsafe-eval'
# for that (it allows WebAssembly compilation only, not JavaScript's eval), on this page alone.
@login_required
@ensure_csrf_cookie
@csp_update({"script-src": ["'wasm-unsafe-eval'"]})
def field_app(request: HttpRequest) -> HttpResponse:
    return render(request, "verification/field.html", {
        "messages_js": field_messages(), "decoder_js": static(DECODER_JS),
        "decoder_wasm": static(DECODER_WASM),
    })  # fmt: skip


def manifest(request: HttpRequest) -> JsonResponse:
    return JsonResponse({
        "name": "Tepat Lapangan", "short_name": "Lapangan", "start_url": "/lapangan/",
        "scope": "/lapangan/", "display": "standalone", "lang": "id",
        "background_color": "#ffffff", "theme_color": "#005ea2", "icons": [],
    })  # fmt: skip


@lru_cache(maxsize=1)
def _assets_digest() -> str:
    """Changes whenever a cached file does, so that browsers install the new worker (and its
    fresh cache) instead of serving an old script from the old cache."""
    h = hashlib.sha256()
    for name in (FIELD_JS, DECODER_JS, DECODER_WASM):
        found = finders.find(name)
        h.update(name.encode())
        if isinstance(found, str):
            h.update(Path(found).read_bytes())
    return h.hexdigest()[:12]


def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /lapangan/ (not /static/) so that its scope is the field app."""
    shell = reverse("verification:field")
    js = render_to_string("verification/sw.js", {
        "cache_name": json.dumps(f"tepat-lapangan-{_assets_digest()}"),
        "shell": json.dumps(shell), "assets": json.dumps([shell, static(FIELD_JS)]),
        "decoder": json.dumps([static(DECODER_JS), static(DECODER_WASM)]),
    })  # fmt: skip
    resp = HttpResponse(js, content_type="application/javascript")
    resp["Service-Worker-Allowed"] = "/lapangan/"
    resp["Cache-Control"] = "no-cache"
    return resp


@login_required
def voucher_print(request: HttpRequest, public_id: str) -> HttpResponse:
    v = selectors.voucher_get(user=request.user, public_id=public_id)
    if v is None:
        raise Http404
    qr = segno.make(v.token, error="m").svg_inline(scale=3)
    # The printed voucher names the beneficiary: a read of personal data like any other.
    audit_read(actor=request.user, what="voucher.print", count=1, region_code=v.village_code,
               request=request, target_type="voucher", target_id=v.public_id)  # fmt: skip
    return render(request, "verification/voucher_print.html", {"v": v, "qr": qr})


def field_messages() -> dict[str, str]:
    """The field app's messages in the page's language, handed to field.js through json_script
    (the script itself holds no text). `{name}` placeholders are filled in by the script."""
    return {
        "online": _("daring"),
        "offline": _("luring"),
        "downloaded": _("Daftar diunduh: {n} voucher"),
        "no_key": _("Kunci publik belum diunduh"),
        "unreadable": _("QR tidak dikenali"),
        "bad_signature": _("Tanda tangan voucher tidak sah"),
        "revoked": _("Voucher telah dicabut"),
        "expired": _("Voucher kedaluwarsa"),
        "not_in_list": _("Voucher tidak ada di daftar hari ini"),
        "already_redeemed": _("Voucher sudah diserahkan"),
        "proxy_unknown": _("Kuasa tidak terdaftar untuk penerima ini"),
        "card_mismatch": _("Nomor kartu KKS tidak cocok"),
        "list_outdated": _("Daftar di perangkat ini sudah lama; unduh ulang daftar hari ini."),
        "no_card_on_file": _(
            "Penerima tidak punya kartu KKS terdaftar, jadi kartu tidak dapat diperiksa. Pakai metode lain: {methods}"
        ),
        "no_card_no_alternative": _(
            "Penerima tidak punya kartu KKS terdaftar dan program ini hanya menerima kartu. Minta dinas menambah metode kode SMS atau wajah."
        ),
        "method_not_allowed": _(
            "Metode ini tidak berlaku untuk program voucher ini. Yang berlaku: {methods}"
        ),
        "otp_needed": _("Kode sekali pakai belum diperiksa untuk voucher ini"),
        "face_needed": _("Wajah belum diperiksa untuk voucher ini"),
        "rejected": _("Ditolak: {reason}"),
        "handed_over": _("Diserahkan: {name} ({amount}) — menunggu sinkronisasi"),
        "synced": _(
            "Sinkron: {received} diterima, {duplicates} penukaran ganda, {rejected} ditolak"
        ),
        "failed": _("Gagal: {error}"),
        "online_only": _(
            "Langkah ini perlu koneksi internet. Sambungkan perangkat, atau pakai nomor kartu KKS bila program mengizinkannya."
        ),
        "otp_sent": _(
            "Kode dikirim ke nomor telepon terdaftar penerima. Minta penerima membacakan kodenya."
        ),
        "otp_no_phone": _("Penerima tidak punya nomor telepon terdaftar; pakai metode lain."),
        "otp_ok": _('Kode benar: penerima terverifikasi. Tekan "Periksa dan serahkan".'),
        "otp_wrong": _("Kode salah atau kedaluwarsa. Periksa lagi, atau kirim kode baru."),
        "otp_enter": _("Masukkan 6 digit kode."),
        "face_no_photo": _("Ambil foto wajah penerima terlebih dahulu."),
        "face_ok": _('Wajah cocok: penerima terverifikasi. Tekan "Periksa dan serahkan".'),
        "face_mismatch": _("Wajah tidak cocok dengan rekaman penerima."),
        "allowed_methods": _("Metode yang berlaku untuk voucher ini: {methods}"),
        "face_no_face": _(
            "Wajah tidak terdeteksi pada foto. Ambil ulang dengan wajah menghadap kamera dan cahaya cukup."
        ),
        "face_not_image": _("Berkas bukan foto yang dapat dibaca (gunakan JPEG atau PNG)."),
        "face_too_large": _("Foto terlalu besar (maksimum 5 MB)."),
        "face_unavailable": _("Verifikasi wajah belum terpasang di server; pakai metode lain."),
        "face_not_enrolled": _("Penerima belum punya rekaman wajah; pakai metode lain."),
        "card_proxy_only": _(
            "Metode kartu hanya dapat dipakai oleh kuasa terdaftar dengan nomor identitasnya."
        ),
        "scan_loading": _("Menyiapkan pemindai QR…"),
        "scan_point": _("Arahkan kamera ke QR voucher."),
        "scan_ok": _("Voucher dikenali: {name} ({amount})"),
        "camera_unavailable": _(
            "Kamera tidak dapat dipakai di perangkat ini. Foto QR voucher, atau tempel isinya."
        ),
        "camera_denied": _(
            "Izin kamera ditolak. Izinkan kamera untuk situs ini di pengaturan peramban, atau foto QR voucher."
        ),
        "decoder_unavailable": _(
            "Pemindai QR tidak dapat dimuat. Tempel isi QR voucher di kotak di bawah."
        ),
        "no_qr_in_photo": _(
            "Tidak ada QR yang terbaca pada foto. Ambil ulang dengan QR memenuhi bingkai dan tidak buram."
        ),
        "method_card": _("Kartu KKS"),
        "method_otp": _("Kode SMS"),
        "method_face": _("Wajah"),
    }


# --- staff pages (under /verifikasi/, outside the field app's service-worker scope, so that
# nothing on them is ever cached on a device) ---------------------------------------------------


@login_required
def flagged(request: HttpRequest) -> HttpResponse:
    """Flagged handovers (double redemptions, revoked vouchers) in the user's regions."""
    include_resolved = request.GET.get("semua") == "1"
    rows = list(
        selectors.flagged_handovers(user=request.user, include_resolved=include_resolved)[:300]
    )
    first = {
        h.voucher_id: selectors.accepted_handover_of(voucher=h.voucher)
        for h in rows
        if h.status == HandoverStatus.DUPLICATE
    }
    return render(request, "verification/flagged.html", {
        "rows": [(h, first.get(h.voucher_id)) for h in rows],
        "include_resolved": include_resolved, "decisions": HandoverDecision.choices,
        "can_resolve": services.role_may(request.user, services.ISSUERS),
    })  # fmt: skip


def _require_role(request: HttpRequest, roles: frozenset[str], what_id: str, what_en: str) -> None:
    """A control the page hides from a role is refused to it as well, before any work: the
    403 page (core/http_errors.py) says why, in both languages."""
    if not services.role_may(request.user, roles):
        raise PermissionDenied(f"Peran Anda tidak boleh {what_id} / your role may not {what_en}")


@login_required
@require_POST
def flagged_resolve(request: HttpRequest, client_id: str) -> HttpResponseRedirect:
    _require_role(request, services.ISSUERS, "menyelesaikan penyelidikan", "resolve investigations")
    try:
        services.handover_resolve(acting_user=staff_user(request), client_id=client_id,
                                  decision=request.POST.get("decision", ""),
                                  note=request.POST.get("note", ""))  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Penyelidikan diselesaikan dan dicatat di jejak audit."))
    return HttpResponseRedirect(reverse("verification_staff:flagged"))


@login_required
def person_index(request: HttpRequest) -> HttpResponse:
    """Find a beneficiary by public id; lists the live proxy registrations in the user's regions."""
    person_id = request.GET.get("orang", "").strip()
    if person_id:
        return HttpResponseRedirect(
            reverse("verification_staff:person", kwargs={"person_id": person_id})
        )
    return render(request, "verification/person_index.html", {
        "proxies": selectors.proxies_in_scope(user=request.user),
    })  # fmt: skip


@login_required
def person(request: HttpRequest, person_id: str) -> HttpResponse:
    """A beneficiary's verification set-up: proxy collectors and face enrolment."""
    from tepat.core.masking import mask_name
    from tepat.registry.selectors import person_get

    try:
        p = person_get(user=request.user, public_id=person_id)
    except NotFound as exc:
        raise Http404 from exc
    return render(request, "verification/person.html", {
        "person": p, "name_masked": mask_name(p.full_name),
        "proxies": selectors.proxies_of(user=request.user, person_ref=p.public_id),
        "face": selectors.face_enrolled(person_ref=p.public_id),
        "face_available": face.available(), "reasons": ProxyReason.choices,
        "can_manage_proxies": services.role_may(request.user, services.ISSUERS),
        "can_enrol_face": services.role_may(request.user, services.FACE_ENROLLERS),
    })  # fmt: skip


@login_required
@require_POST
def proxy_register(request: HttpRequest, person_id: str) -> HttpResponseRedirect:
    _require_role(request, services.ISSUERS, "mendaftarkan kuasa", "register proxies")
    try:
        services.proxy_register(
            acting_user=staff_user(request), person_ref=person_id, name=request.POST.get("name", ""),
            id_number=request.POST.get("id_number", ""), reason=request.POST.get("reason", ""),
        )  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(request, _("Kuasa terdaftar."))
    return HttpResponseRedirect(reverse("verification_staff:person", args=[person_id]))


@login_required
@require_POST
def proxy_revoke(request: HttpRequest, proxy_id: str) -> HttpResponseRedirect:
    _require_role(request, services.ISSUERS, "mencabut kuasa", "revoke proxies")
    try:
        proxy = services.proxy_revoke(
            acting_user=staff_user(request),
            proxy_id=proxy_id,
            reason=request.POST.get("reason", ""),
        )
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, _problems(exc))
        return HttpResponseRedirect(reverse("verification_staff:persons"))
    messages.success(request, _("Pendaftaran kuasa dicabut."))
    return HttpResponseRedirect(reverse("verification_staff:person", args=[proxy.person_ref]))


@login_required
@require_POST
def face_enrol(request: HttpRequest, person_id: str) -> HttpResponseRedirect:
    _require_role(request, services.FACE_ENROLLERS, "merekam wajah", "enrol faces")
    try:
        upload = request.FILES.get("image")
        if upload is None:
            raise TepatError(_("Pilih foto wajah penerima."), code="required", field="image")
        services.face_enrol(acting_user=staff_user(request), person_ref=person_id,
                            image=face.image_from_uploaded_file(upload))  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Wajah terekam. Foto tidak disimpan, hanya ciri wajah terenkripsi.")
        )
    return HttpResponseRedirect(reverse("verification_staff:person", args=[person_id]))


@login_required
def policies(request: HttpRequest) -> HttpResponse:
    """Which verification methods each programme accepts per voucher channel."""
    from tepat.payments.models import Channel

    labels = dict(Channel.choices)
    rows = [{**r, "channel_label": labels.get(str(r["channel"]), r["channel"])}
            for r in selectors.policies()]  # fmt: skip
    return render(request, "verification/policies.html", {
        "rows": rows, "methods": Method.choices,
        "default": [Method(m).label for m in services.default_methods()],
        "can_set_policy": services.role_may(request.user, services.POLICY_EDITORS),
    })  # fmt: skip


@login_required
@require_POST
def policy_set(request: HttpRequest) -> HttpResponseRedirect:
    _require_role(
        request, services.POLICY_EDITORS, "mengatur metode verifikasi", "set verification methods"
    )
    try:
        services.verification_policy_set(
            acting_user=staff_user(request), programme_code=request.POST.get("programme", ""),
            channel=request.POST.get("channel", ""), methods=request.POST.getlist("methods"),
        )  # fmt: skip
    except NotFound as exc:
        raise Http404 from exc
    except TepatError as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(request, _("Metode verifikasi disimpan."))
    return HttpResponseRedirect(reverse("verification_staff:policies"))


def _problems(exc: TepatError) -> str:
    if exc.problems:
        return "; ".join(p.message for p in exc.problems)
    return exc.message
