"""The Content-Security-Policy header built once per process equals django-csp's own."""

from __future__ import annotations

import re

import pytest
from csp.middleware import CSPMiddleware as DjangoCspMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from tepat.core.csp import CSPMiddleware


def _run(middleware_class, *, use_nonce: bool, path: str = "/cek/") -> HttpResponse:
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda r: HttpResponse("ok"))
    middleware.process_request(request)
    if use_nonce:
        str(request.csp_nonce)  # a page that asks for the nonce (an inline script)
    return middleware.process_response(request, HttpResponse("ok"))


def _without_nonces(header: str) -> str:
    return re.sub(r"'nonce-[^']*'", "'nonce'", header)


@pytest.mark.parametrize("use_nonce", [False, True])
def test_the_header_equals_django_csps_with_and_without_a_nonce(use_nonce):
    ours = _run(CSPMiddleware, use_nonce=use_nonce)["Content-Security-Policy"]
    theirs = _run(DjangoCspMiddleware, use_nonce=use_nonce)["Content-Security-Policy"]
    assert ("'nonce-" in ours) is use_nonce
    assert "frame-ancestors 'none'" in ours
    # Each response gets its own nonce: equal once the nonces are set aside.
    assert _without_nonces(ours) == _without_nonces(theirs)


def test_two_responses_with_a_nonce_get_different_nonces():
    first = _run(CSPMiddleware, use_nonce=True)["Content-Security-Policy"]
    second = _run(CSPMiddleware, use_nonce=True)["Content-Security-Policy"]
    assert first != second


def test_a_changed_setting_changes_the_cached_header(settings):
    before = _run(CSPMiddleware, use_nonce=False)["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    after = _run(CSPMiddleware, use_nonce=False)["Content-Security-Policy"]
    assert after == "default-src 'none'"
    assert before != after


def test_an_excluded_prefix_and_an_exempt_response_get_no_header(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "EXCLUDE_URL_PREFIXES": ["/admin/"],
        "DIRECTIVES": {"default-src": ["'self'"]},
    }
    assert "Content-Security-Policy" not in _run(CSPMiddleware, use_nonce=False, path="/admin/x")
    request = RequestFactory().get("/cek/")
    middleware = CSPMiddleware(lambda r: HttpResponse("ok"))
    middleware.process_request(request)
    response = HttpResponse("ok")
    response._csp_exempt = True
    assert "Content-Security-Policy" not in middleware.process_response(request, response)
