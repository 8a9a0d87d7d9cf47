"""The DPO role (Pejabat Pelindungan Data Pribadi): the audit log and the incident pages (and the
records of processing, where that page exists), and nothing else. Every URL pattern of the
project is walked with a DPO session: only the DPO's pages (and the DPO's own log-in steps) give
200, public pages give what they give anyone, every other page and API answers 403."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from tepat.accounts import services as accounts
from tepat.accounts.dpo import DPO_PREFIXES, dpo_may_open
from tepat.accounts.models import Role, User
from tepat.monitoring import services as monitoring
from tepat.monitoring.models import Alert, AlertRule, Metric
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

INCIDENT, ALERT = "{incident}", "{alert}"
# Own account and session: a signed-in DPO may change their password like anyone.
OWN_ACCOUNT = ("/accounts/",)
# The DPO's pages that must open (GET) for a DPO: the rest of DPO_PREFIXES are forms' targets.
MUST_OPEN = {
    "/pemantauan/insiden/",
    "/pemantauan/insiden/baru/",
    f"/pemantauan/insiden/{INCIDENT}/",
    f"/pemantauan/insiden/{INCIDENT}/ubah/",
    "/pemantauan/audit/",
    "/api/monitoring/incidents",
    f"/api/monitoring/incidents/{INCIDENT}",
    f"/api/monitoring/incidents/{INCIDENT}/notice-draft",
    "/api/monitoring/audit-events",
}
DPO_GATE_MESSAGE = "Pejabat Pelindungan Data Pribadi hanya dapat membuka"


def _value(name: str, converter: str, route: str) -> str:
    """A real incident or alert where the DPO's routes take one; "x" or 1 elsewhere (the DPO
    is turned away before any view looks at it)."""
    if "insiden" in route or "incidents" in route:
        if name == "alert_id":
            return ALERT
        if name == "public_id":
            return INCIDENT
    return {"int": "1", "path": "x"}.get(converter, "x")


def _from_route(route: str) -> str:
    return re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: _value(m.group(2), m.group(1) or "str", route), route
    )


def _from_regex(regex: str) -> str:
    text = regex.lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<\w+>([^)|]*)[^)]*\)", lambda m: m.group(1) or "x", text)
    return text.replace(".*", "x").replace("\\", "")


def _walk(patterns: list[Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for p in patterns:
        pattern = p.pattern
        part = (
            _from_route(str(pattern))
            if isinstance(pattern, RoutePattern)
            else _from_regex(pattern.regex.pattern)
            if isinstance(pattern, RegexPattern)
            else str(pattern)
        )
        if isinstance(p, URLResolver):
            out.extend(_walk(p.url_patterns, prefix + part))
        elif isinstance(p, URLPattern):
            out.append("/" + prefix + part)
    return out


PATHS = sorted(set(_walk(get_resolver().url_patterns)))


@pytest.fixture
def dpo(db: Any) -> User:
    # No password: the session is forced, and hashing one per walked URL costs a second each.
    return User.objects.create(username="ppdp", role=Role.DPO, password="!")


@pytest.fixture
def dpo_client(client: Any, dpo: User) -> Any:
    return signed_in(client, dpo)


@pytest.fixture
def ids(dpo: User) -> dict[str, str]:
    incident = monitoring.incident_open(acting_user=dpo, title="Uji", region_code="")
    rule = AlertRule.objects.create(name="Baca", metric=Metric.READ_SPIKE, threshold=1)
    now = timezone.now()
    alert = Alert.objects.create(rule=rule, value=9, opened_at=now, last_seen_at=now)
    return {"incident": incident.public_id, "alert": alert.public_id}


def test_the_walk_covers_the_project() -> None:
    assert len(PATHS) > 150
    assert set(MUST_OPEN) <= set(PATHS)
    assert "/registry/" in PATHS
    assert "/admin/" in PATHS
    assert "/api/registry/persons" in PATHS


@pytest.mark.parametrize("template", PATHS)
def test_a_dpo_session_opens_only_its_own_pages(
    template: str, dpo_client: Any, ids: dict[str, str]
) -> None:
    path = template.format(**ids)
    response = dpo_client.get(path)
    status = response.status_code
    if template in MUST_OPEN:
        assert status == 200, f"{path}: {status}"
    elif path.startswith(DPO_PREFIXES):
        # Forms' targets (POST only), and other helpers' DPO pages: never the DPO gate.
        assert DPO_GATE_MESSAGE not in response.content.decode(errors="replace")
        assert status != 200 or path.startswith("/privasi/catatan/"), f"{path}: {status}"
    elif path.startswith(OWN_ACCOUNT):
        assert status != 403
    elif path == "/registry/":
        # Where a log-in lands by default: the DPO is sent to the incident register instead.
        assert (status, response["Location"]) == (302, "/pemantauan/insiden/")
    elif dpo_may_open(path):
        # Public pages: the DPO gets exactly what an anonymous visitor gets.
        assert status == Client().get(path).status_code, path
    else:
        assert status == 403, f"{path}: {status}"
        body = response.content.decode(errors="replace")
        assert DPO_GATE_MESSAGE in body
        if path.startswith("/api/"):
            assert response.json()["code"] == "forbidden"


def test_the_dpo_cannot_post_to_staff_pages_either(dpo_client: Any) -> None:
    for path in ("/pemantauan/peringatan/x/selesai/", "/api/registry/persons/x/reveal",
                 "/program/tahap/x/approve/"):  # fmt: skip
        assert dpo_client.post(path).status_code == 403


def test_a_dpo_account_needs_no_region_and_is_created_like_any_other(db: Any) -> None:
    user = accounts.user_create(
        acting_user=None, username="ppdp2", password="bansos-tepat-2026-ppdp", role="dpo"
    )
    assert user.role == Role.DPO
    assert user.get_role_display() == "Pejabat Pelindungan Data Pribadi"
    assert not user.is_region_scoped
    assert user.region_codes == []


def test_the_dpo_reads_national_incidents_and_manages_them(dpo: User) -> None:
    incident = monitoring.incident_open(acting_user=dpo, title="Nasional")
    monitoring.incident_set_status(acting_user=dpo, public_id=incident.public_id,
                                   status="assessing")  # fmt: skip
    assert monitoring.can_manage_incident(dpo, incident)
