"""A field agent finds the field app from the staff menu; other roles are not offered it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_staff_menu_offers_the_field_app_to_field_agents_only(
    staff_client, field_agent, bandung_operator
):
    agent_page = staff_client(field_agent).get("/registry/").content.decode()
    assert 'href="/lapangan/">Aplikasi lapangan</a>' in agent_page
    operator_page = staff_client(bandung_operator).get("/registry/").content.decode()
    assert 'href="/lapangan/">Aplikasi lapangan</a>' not in operator_page
