"""django-csp's middleware with the header built once per process where it cannot vary.

django-csp 4.0 builds the Content-Security-Policy string anew for every response (two
`build_policy` calls and two `dataclasses.asdict`), about 0.1 ms: a tenth of a whole public status
check. A response that used no nonce and carries no per-view policy (`csp_update`,
`csp_replace`, `csp_exempt` decorators) always gets the same header, so it is built once and
reused while the setting object stays the same (tests that override the setting get a fresh
one). Everything else goes through django-csp unchanged. The header-setting rules below are
django-csp 4.0's `process_response`, kept equal to it (the pin is exact; re-read it on upgrade).
"""

from __future__ import annotations

import http.client as http_client
from dataclasses import asdict
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, PolicyParts
from csp.middleware import CSPMiddleware as _DjangoCspMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

_SETTINGS = {False: "CONTENT_SECURITY_POLICY", True: "CONTENT_SECURITY_POLICY_REPORT_ONLY"}
_HEADERS = {False: HEADER, True: HEADER_REPORT_ONLY}
_EXEMPT = {False: "_csp_exempt", True: "_csp_exempt_ro"}
# report_only -> (the setting object the header was built from, the header)
_built: dict[bool, tuple[Any, str]] = {}


def _policy(parts: PolicyParts, *, report_only: bool) -> str:
    if parts.nonce or parts.config is not None or parts.update or parts.replace:
        return build_policy(**asdict(parts), report_only=report_only)
    current = getattr(settings, _SETTINGS[report_only], None)
    cached = _built.get(report_only)
    if cached is not None and cached[0] is current:
        return cached[1]
    value = build_policy(report_only=report_only)
    _built[report_only] = (current, value)
    return value


class CSPMiddleware(_DjangoCspMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        debug_codes = (http_client.INTERNAL_SERVER_ERROR, http_client.NOT_FOUND)
        if response.status_code in debug_codes and settings.DEBUG:
            return response
        for report_only in (False, True):
            parts = self.get_policy_parts(request=request, response=response, report_only=report_only)  # fmt: skip
            value = _policy(parts, report_only=report_only)
            header = _HEADERS[report_only]
            if not value or header in response or getattr(response, _EXEMPT[report_only], False):
                continue
            policy = getattr(settings, _SETTINGS[report_only], None) or {}
            prefixes = tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())
            if not request.path_info.startswith(prefixes):
                response[header] = value
        # As django-csp does: a nonce asked for after the header was written is an error.
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
