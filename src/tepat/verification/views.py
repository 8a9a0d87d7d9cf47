"""The field PWA shell (served under /lapangan/ so the service worker's scope covers it), its
manifest and service worker, the printable voucher, and the staff pages under /verifikasi/:
flagged handovers, proxies and face enrolment of a beneficiary, and the verification policy."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from tepat.accounts.selectors import staff_user
from tepat.core.audit import audit_read
from tepat.core.errors import NotFound, TepatError
from tepat.verification import face, selectors, services
from tepat.verification.models import HandoverDecision, HandoverStatus, Method, ProxyReason


@login_required
@ensure_csrf_cookie
def field_app(request: HttpRequest) -> HttpResponse:
    return render(request, "verification/field.html", {"messages_js": field_messages()})


def manifest(request: HttpRequest) -> JsonResponse:
    return JsonResponse({
        "name": "Tepat Lapangan", "short_name": "Lapangan", "start_url": "/lapangan/",
        "scope": "/lapangan/", "display": "standalone", "lang": "id",
        "background_color": "#ffffff", "theme_color": "#005ea2", "icons": [],
    })  # fmt: skip


def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /lapangan/ (not /static/) so that its scope is the field app."""
    js = (
        "const CACHE='tepat-lapangan-v1';\n"
        f"const ASSETS=['/lapangan/',{static('verification/field.js')!r}];\n"
        "self.addEventListener('install',e=>{e.waitUntil(caches.open(CACHE)"
        ".then(c=>c.addAll(ASSETS)).then(()=>self.skipWaiting()));});\n"
        "self.addEventListener('activate',e=>{e.waitUntil(self.clients.claim());});\n"
        "self.addEventListener('fetch',e=>{const u=new URL(e.request.url);"
        "if(e.request.method!=='GET'||u.pathname.startsWith('/api/'))return;"
        "e.respondWith(fetch(e.request).then(r=>{const c=r.clone();"
        "caches.open(CACHE).then(x=>x.put(e.request,c));return r;})"
        ".catch(()=>caches.match(e.request)));});\n"
    )
    resp = HttpResponse(js, content_type="application/javascript")
    resp["Service-Worker-Allowed"] = "/lapangan/"
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
        "handed_over": _("Diserahkan: {name} (Rp{amount}) — menunggu sinkronisasi"),
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
    })  # fmt: skip


@login_required
@require_POST
def flagged_resolve(request: HttpRequest, client_id: str) -> HttpResponseRedirect:
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
    })  # fmt: skip


@login_required
@require_POST
def proxy_register(request: HttpRequest, person_id: str) -> HttpResponseRedirect:
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
        "rows": rows, "methods": Method.choices, "default": services.default_methods(),
    })  # fmt: skip


@login_required
@require_POST
def policy_set(request: HttpRequest) -> HttpResponseRedirect:
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
