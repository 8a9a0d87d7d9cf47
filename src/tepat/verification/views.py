"""The field PWA shell (served under /lapangan/ so the service worker's scope covers it), its
manifest and service worker, and the printable voucher."""

from __future__ import annotations

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.csrf import ensure_csrf_cookie

from tepat.accounts.scoping import can_see_region
from tepat.verification.models import Voucher


@login_required
@ensure_csrf_cookie
def field_app(request: HttpRequest) -> HttpResponse:
    return render(request, "verification/field.html", {})


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
    v = Voucher.objects.select_related("payment").filter(public_id=public_id).first()
    if v is None or not can_see_region(request.user, v.village_code):
        raise Http404
    qr = segno.make(v.token, error="m").svg_inline(scale=3)
    return render(request, "verification/voucher_print.html", {"v": v, "qr": qr})
