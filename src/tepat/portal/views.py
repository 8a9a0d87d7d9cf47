from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tepat.core import guard
from tepat.core.errors import NotFound, TepatError
from tepat.core.masking import mask_name
from tepat.core.netaddr import client_address
from tepat.messaging import gateway
from tepat.portal import cekpage, citizen, sms
from tepat.portal.selectors import StatusResult, status_by_nik, status_by_region
from tepat.registry.cleaning import name_search_key
from tepat.registry.validators import normalize_number, validate_nik


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


def about(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/about.html")


def _cek_page(request: HttpRequest, status: int = 200, **ctx: Any) -> HttpResponse:
    """portal/cek.html with this context, written by cekpage without the template engine (the
    busiest public page; the tests hold the two to the same bytes)."""
    ctx.setdefault("form", {})
    ctx.setdefault("errors", {})
    ctx["challenge"] = guard.challenge_new(lang=get_language() or "id")
    return cekpage.response(request, status=status, **ctx)


@require_http_methods(["GET", "POST"])
def cek(request: HttpRequest) -> HttpResponse:
    """The public status check: NIK + name, or village + name + NIK or KK number, behind a
    challenge and limits (per address; per NIK, or per village and name, per day)."""
    if request.method == "GET":
        return _cek_page(request)
    form = {k: request.POST.get(k, "").strip() for k in ("mode", "nik", "name", "village_code")}
    mode = "region" if form["mode"] == "region" else "nik"
    errors: dict[str, str] = {}
    if len(form["name"]) < 3:
        errors["name"] = _("Isi nama lengkap sesuai KTP (minimal 3 huruf).")
    nik = ""
    village = form["village_code"].replace(".", "")
    lim = guard.limits()
    if mode == "nik":
        nik, problems = validate_nik(form["nik"])
        bad = [p for p in problems if p.severity == "error"]
        if bad:
            errors["nik"] = _("NIK harus 16 angka, tanpa huruf atau spasi. Periksa KTP Anda.")
        counted, count_limit = nik, lim["nik"]
    else:
        # The village door needs a second factor: the person's NIK or the family's KK number.
        nik = normalize_number(form["nik"])
        if not (len(nik) == 16 and nik.isdigit() and nik.isascii()):
            errors["nik"] = _("Isi NIK atau nomor KK (16 angka) orang yang dicari.")
        if not (len(village) == 10 and village.isdigit()):
            errors["village_code"] = _("Kode desa/kelurahan harus 10 angka.")
        # Counted per village and name, whatever number comes with them: guessing numbers for
        # one neighbour is bounded per day, from any number of addresses.
        counted, count_limit = f"{village}:{name_search_key(form['name'])}", lim["region"]
    # Address limit, single-use challenge and NIK (or village + name) limit in one step (one
    # Redis round trip); the key is counted only for a well-formed request whose challenge was
    # spent.
    gate = guard.lookup_admit(
        scope="cek",
        address=client_address(request),
        address_limit=lim["ip"],
        token=request.POST.get("challenge", ""),
        answer=request.POST.get("answer", ""),
        nik=counted if not errors else None,
        nik_limit=count_limit,
    )
    if not gate.address_ok:
        return _cek_page(
            request,
            status=429,
            form=form,
            mode=mode,
            error=_("Terlalu banyak pencarian dari perangkat ini. Coba lagi dalam satu jam."),
        )
    if not gate.challenge_ok:
        errors["answer"] = _("Jawaban pertanyaan keamanan salah atau kedaluwarsa. Coba lagi.")
    if errors:
        return _cek_page(request, status=400, form=form, mode=mode, errors=errors)
    if not gate.nik_ok:
        return _cek_page(
            request,
            status=429,
            form=form,
            mode=mode,
            error=_("NIK ini sudah terlalu sering dicari hari ini. Coba lagi besok.")
            if mode == "nik"
            else _("Nama ini sudah terlalu sering dicari di desa ini hari ini. Coba lagi besok."),
        )
    results: list[StatusResult]
    if mode == "nik":
        found = status_by_nik(nik=nik, name=form["name"])
        results = [found] if found else []
    else:
        results = status_by_region(village_code=village, name=form["name"], number=nik)
    # Never echo what was searched (a shared phone shows the next person nothing).
    form["nik"] = form["name"] = ""
    return _cek_page(request, form=form, mode=mode, searched=True, results=results)


@cache_control(max_age=86400, public=True)
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "Tepat — Cek Bansos",
        "short_name": "Tepat",
        "description": _("Cek status bantuan sosial, pengaduan, usul dan sanggah."),
        "lang": "id",
        "start_url": reverse("portal:cek") + "?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f6c",
        "icons": [
            {"src": static("tepat/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


SW_VERSION = "tepat-citizen-v1"


@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site root so that its scope covers every citizen page."""
    precache = [
        reverse("portal:offline"),
        static("portal/citizen.css"),
        static("tepat/favicon.svg"),
    ]
    body = (
        render(
            request,
            "portal/sw.js",
            {"version": SW_VERSION, "precache": precache, "offline": reverse("portal:offline")},
        )
        .content.decode()
        .strip()
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/offline.html", {"nav": ""})


def _sms_address_ok(request: HttpRequest) -> bool:
    """Inbound SMS/USSD per source address (the gateway's, or the simulator page's visitor)."""
    return guard.hit(
        "sms-ip", client_address(request), limit=guard.limits()["sms_ip"], window_s=3600
    )


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> HttpResponse:
    """Inbound SMS/USSD from the gateway: form fields `from`, `text` (and `channel=ussd`).
    The reply goes back in the response body (text/plain, at most 160 characters). The call
    must be signed (TEPAT_SMS_WEBHOOK_SECRET; see tepat.messaging.gateway): a refusal is a bare
    403 that says nothing about why. Limits: per source address here, per sender (the number
    the signature vouches for) and per NIK in tepat.portal.sms."""
    if not _sms_address_ok(request):
        return HttpResponse(status=429, content_type="text/plain; charset=utf-8")
    # The raw body first: the signature covers exactly the bytes the gateway sent.
    if not gateway.webhook_verify(headers=request.headers, body=request.body):
        return HttpResponse(status=403, content_type="text/plain; charset=utf-8")
    sender = request.POST.get("from", "")
    text = request.POST.get("text", "")
    if request.POST.get("channel") == "ussd":
        reply = sms.ussd_reply(sender=sender, text=text)
    else:
        reply = sms.sms_reply(sender=sender, text=text)
    return HttpResponse(reply, content_type="text/plain; charset=utf-8")


def sms_simulator(request: HttpRequest) -> HttpResponse:
    """A phone on screen: type a command, see the reply, as the gateway would deliver it.
    A demonstration tool: only with the simulator gateway and TEPAT_SMS_SIMULATOR on (see
    gateway.simulator_enabled), never beside a real gateway; limited per address as the
    webhook is."""
    if not gateway.simulator_enabled():
        raise PermissionDenied
    reply = ""
    form = {"from": "", "text": "", "channel": "sms"}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        if not _sms_address_ok(request):
            reply = sms.TOO_MANY
        elif form["channel"] == "ussd":
            reply = sms.ussd_reply(sender=form["from"], text=form["text"])
        else:
            reply = sms.sms_reply(sender=form["from"], text=form["text"])
    return render(request, "portal/sms_sim.html", {"form": form, "reply": reply, "nav": ""})


# --- the signed-in citizen ----------------------------------------------------------------------

SESSION_CITIZEN = "tepat_citizen_ref"
SESSION_PENDING = "tepat_citizen_pending"


def _citizen(request: HttpRequest) -> Any:
    ref = request.session.get(SESSION_CITIZEN)
    if not ref:
        return None
    try:
        return citizen.citizen_person(person_ref=ref)
    except NotFound:
        request.session.pop(SESSION_CITIZEN, None)
        return None


@require_http_methods(["GET", "POST"])
def account_sign_in(request: HttpRequest) -> HttpResponse:
    """Step 1: NIK + challenge. The answer is the same whether or not the NIK is registered."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        ip = client_address(request)
        nik, problems = validate_nik(request.POST.get("nik", ""))
        if not guard.challenge_check(
            token=request.POST.get("challenge", ""), answer=request.POST.get("answer", "")
        ):
            errors["answer"] = _("Jawaban pertanyaan keamanan salah atau kedaluwarsa. Coba lagi.")
        if any(p.severity == "error" for p in problems):
            errors["nik"] = _("NIK harus 16 angka, tanpa huruf atau spasi. Periksa KTP Anda.")
        if not errors:
            lim = guard.limits()
            if not guard.hit("otp-ip", ip, limit=lim["ip"], window_s=3600) or not guard.hit(
                "otp-nik",
                nik,
                limit=int(getattr(settings, "TEPAT_OTP_PER_NIK_HOUR", 3)),
                window_s=3600,
            ):
                return render(
                    request,
                    "portal/account_sign_in.html",
                    {
                        "errors": {},
                        "error": _("Terlalu banyak permintaan kode. Coba lagi dalam satu jam."),
                        "challenge": guard.challenge_new(lang=get_language() or "id"),
                        "nav": "akun",
                    },
                    status=429,
                )
            # Queued, not sent: the same work and answer whether or not the NIK has a phone.
            index = citizen.otp_request(nik=nik)
            request.session.cycle_key()
            request.session[SESSION_PENDING] = index
            return redirect("portal:account_code")
    return render(
        request,
        "portal/account_sign_in.html",
        {
            "errors": errors,
            "challenge": guard.challenge_new(lang=get_language() or "id"),
            "nav": "akun",
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def account_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code sent by SMS to the registered phone."""
    index = request.session.get(SESSION_PENDING)
    if not index:
        return redirect("portal:account_sign_in")
    error = ""
    if request.method == "POST":
        ref = citizen.otp_verify(index=index, code=request.POST.get("code", ""))
        if ref:
            request.session.cycle_key()
            request.session.pop(SESSION_PENDING, None)
            request.session[SESSION_CITIZEN] = ref
            request.session.set_expiry(int(getattr(settings, "TEPAT_CITIZEN_SESSION_S", 1800)))
            return redirect("portal:account")
        error = _("Kode salah atau kedaluwarsa. Periksa SMS terbaru, atau minta kode baru.")
    return render(
        request,
        "portal/account_code.html",
        {"error": error, "nav": "akun"},
        status=400 if error else 200,
    )


@require_POST
def account_sign_out(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_CITIZEN, None)
    request.session.cycle_key()
    return redirect("portal:cek")


@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    person = _citizen(request)
    if person is None:
        return redirect("portal:account_sign_in")
    notice = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "not_family":
            try:
                code = citizen.family_dispute(
                    person=person, member_ref=request.POST.get("member", "")
                )
            except TepatError as exc:
                notice = exc.message.split(" / ")[0]
            else:
                notice = _("Sanggahan tercatat dengan nomor %(code)s.") % {"code": code}
        elif action == "preferences":
            citizen.preferences_set(
                person=person,
                sms_payment=request.POST.get("sms_payment") == "on",
                sms_schedule=request.POST.get("sms_schedule") == "on",
                sms_grievance=request.POST.get("sms_grievance") == "on",
            )
            notice = _("Pilihan pemberitahuan disimpan.")
    return render(
        request,
        "portal/account.html",
        {
            "me": mask_name(person.full_name),
            "payments": citizen.payment_history(person=person),
            "family": citizen.family(person=person),
            "prefs": citizen.preferences_get(person=person),
            "notice": notice,
            "nav": "akun",
        },
    )


def account_receipt(request: HttpRequest, payment_ref: str, index: int) -> HttpResponse:
    person = _citizen(request)
    if person is None:
        return redirect("portal:account_sign_in")
    try:
        data = citizen.receipt_for(person=person, payment_ref=payment_ref, index=index)
    except NotFound:
        raise Http404 from None
    response = JsonResponse(data, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="tanda-terima-{index}.json"'
    return response
