"""Per-address rate limits behind a reverse proxy: X-Forwarded-For is believed only when the
socket peer is a configured trusted proxy, and then only its right-most untrusted entry."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from tepat.core.netaddr import client_address
from tests.portal.conftest import solve

rf = RequestFactory()


def _addr(peer: str, xff: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return client_address(rf.get("/cek/", REMOTE_ADDR=peer, **extra))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TEPAT_TRUSTED_PROXIES = []
    assert _addr("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_an_untrusted_peer_cannot_choose_its_address(settings):
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _addr("203.0.113.7", "10.0.0.5") == "203.0.113.7"
    assert _addr("203.0.113.7", "198.51.100.1, 10.0.0.5") == "203.0.113.7"


def test_behind_a_trusted_proxy_the_forwarded_client_counts(settings):
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _addr("10.0.0.2", "198.51.100.1") == "198.51.100.1"


def test_the_right_most_untrusted_entry_wins_over_what_the_client_wrote(settings):
    # The client sent "X-Forwarded-For: 1.2.3.4"; the edge proxy appended the real address,
    # an inner proxy appended the edge proxy's.
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.1.10"]
    assert _addr("10.0.0.2", "1.2.3.4, 198.51.100.1, 192.168.1.10") == "198.51.100.1"


def test_garbage_in_the_header_counts_against_the_proxy_not_a_chosen_address(settings):
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _addr("10.0.0.2", "198.51.100.1, not-an-ip") == "10.0.0.2"
    assert _addr("10.0.0.2", "") == "10.0.0.2"
    assert _addr("10.0.0.2") == "10.0.0.2"


def test_when_every_hop_is_trusted_the_left_most_is_the_client(settings):
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _addr("10.0.0.2", "10.1.2.3, 10.0.0.9") == "10.1.2.3"


def test_ipv6_and_ipv4_mapped_addresses(settings):
    settings.TEPAT_TRUSTED_PROXIES = ["2001:db8::/32", "10.0.0.1"]
    assert _addr("2001:db8::1", "2001:db8:ffff::9, 2400:cb00::7") == "2400:cb00::7"
    assert _addr("::ffff:10.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert _addr("::ffff:203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_a_mistyped_proxy_setting_fails_loudly(settings):
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="TEPAT_TRUSTED_PROXIES"):
        _addr("10.0.0.2", "198.51.100.1")


def _check(client, **extra):
    page = client.get("/cek/").content.decode()
    data = {"mode": "nik", "nik": "3273011205809999", "name": "Budi Santoso", **solve(page)}
    return client.post("/cek/", data, **extra).status_code


@pytest.mark.django_db
def test_spoofed_headers_do_not_escape_the_per_address_limit(client, regions, settings):
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 2
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    codes = [
        _check(client, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        for i in range(3)
    ]
    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_citizens_behind_one_trusted_proxy_are_limited_separately(client, regions, settings):
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 2
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.2"]
    first = [
        _check(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
        for _ in range(3)
    ]
    other = _check(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert first == [200, 200, 429]
    assert other == 200


@pytest.mark.django_db
def test_the_complaint_api_counts_the_forwarded_client_too(client, regions, settings):
    settings.TEPAT_COMPLAINT_LIMIT_PER_IP_HOUR = 1
    settings.TEPAT_TRUSTED_PROXIES = ["10.0.0.2"]

    def file(key: str, citizen: str) -> int:
        body = {
            "submission_key": key * 24,
            "category": "other",
            "village_code": "3273011001",
            "description": "Petugas meminta uang administrasi.",
        }
        return client.post(
            "/api/grievances/complaints",
            body,
            content_type="application/json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=citizen,
        ).status_code

    assert file("a", "198.51.100.1") == 201
    assert file("b", "198.51.100.1") == 429
    assert file("c", "198.51.100.2") == 201
