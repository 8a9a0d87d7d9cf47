from __future__ import annotations

from django.test import RequestFactory

from tepat.core.audit import client_ip


def test_audit_and_log_in_throttling_see_the_client_behind_a_trusted_proxy(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )
    settings.TEPAT_TRUSTED_PROXIES = []
    assert client_ip(request) == "10.0.0.5"  # no trusted proxy: the header is not believed
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request) == "198.51.100.7"  # right-most address the proxy did not add
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None
