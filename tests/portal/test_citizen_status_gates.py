"""The status check's three gates (address limit, single-use challenge, NIK limit) taken in one
step, with the in-process cache and with Redis (one atomic round trip), and the fixed parts of
the citizen pages rendered once per language."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tepat.core import guard
from tests.portal.conftest import solve

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEPAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[None]:
    """Django's Redis cache on a scratch database; skipped where no Redis answers."""
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        server.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    server.flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    yield
    server.flushdb()


@pytest.fixture(params=["in-process", "redis"])
def any_cache(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    return str(request.param)


def _post(client: Any, fields: dict[str, str], **extra: str) -> Any:
    page = client.get("/cek/").content.decode()
    return client.post("/cek/", {"mode": "nik", **solve(page), **fields}, **extra)


def test_one_address_is_limited_per_hour_on_either_cache(client, citizen, settings, any_cache):
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 3
    codes = [
        _post(client, {"nik": f"327301120580{i:04d}", "name": "X Y Z"}).status_code
        for i in range(2, 6)
    ]
    assert codes == [200, 200, 200, 429]


def test_one_nik_is_limited_per_day_from_any_address_on_either_cache(
    client, citizen, settings, any_cache
):
    settings.TEPAT_CEK_LIMIT_PER_NIK_DAY = 2
    fields = {"nik": citizen["nik"], "name": citizen["name"]}
    codes = [_post(client, fields, REMOTE_ADDR=f"10.0.0.{i + 1}").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_a_challenge_is_spent_once_on_either_cache(client, citizen, any_cache):
    page = client.get("/cek/").content.decode()
    data = {"mode": "nik", "nik": citizen["nik"], "name": citizen["name"], **solve(page)}
    assert client.post("/cek/", data).status_code == 200
    replay = client.post("/cek/", data)
    assert replay.status_code == 400
    assert "pertanyaan keamanan salah" in replay.content.decode()


def test_a_refused_form_does_not_count_against_the_nik(client, citizen, settings, any_cache):
    settings.TEPAT_CEK_LIMIT_PER_NIK_DAY = 1
    wrong = {"nik": citizen["nik"], "name": citizen["name"], "answer": "99"}
    page = client.get("/cek/").content.decode()
    assert client.post("/cek/", {"mode": "nik", **solve(page), **wrong}).status_code == 400
    assert _post(client, {"nik": citizen["nik"], "name": "Xy"}).status_code == 400
    assert _post(client, {"nik": citizen["nik"], "name": citizen["name"]}).status_code == 200
    assert _post(client, {"nik": citizen["nik"], "name": citizen["name"]}).status_code == 429


def test_an_address_over_its_limit_leaves_the_challenge_unspent(settings, any_cache):
    settings.TEPAT_CEK_LIMIT_PER_IP_HOUR = 1
    first, second = guard.challenge_new(), guard.challenge_new()

    def admit(challenge: guard.Challenge) -> guard.Admission:
        return guard.lookup_admit(
            scope="cek",
            address="203.0.113.9",
            address_limit=1,
            token=challenge.token,
            answer=_answer(challenge),
            nik="3273011205800001",
            nik_limit=10,
        )

    assert admit(first) == guard.Admission(True, True, True)
    assert admit(second) == guard.Admission(False, False, False)
    # Still good for one use (from another address, say, once this one's hour is over).
    assert guard.challenge_check(token=second.token, answer=_answer(second))


def test_the_counters_are_shared_with_the_one_at_a_time_limiter(any_cache):
    # Other public doors count with guard.hit(); both must see the same counter.
    for _ in range(2):
        assert guard.hit("cek-ip", "203.0.113.5", limit=3, window_s=3600)
    ch = guard.challenge_new()
    gate = guard.lookup_admit(
        scope="cek",
        address="203.0.113.5",
        address_limit=3,
        token=ch.token,
        answer=_answer(ch),
        nik=None,
        nik_limit=10,
    )
    assert gate.address_ok
    assert not guard.hit("cek-ip", "203.0.113.5", limit=3, window_s=3600)


def test_with_redis_a_check_takes_one_round_trip(client, citizen, redis_cache, monkeypatch):
    import redis

    _post(client, {"nik": citizen["nik"], "name": citizen["name"]})  # loads the script
    commands: list[str] = []
    real = redis.Redis.execute_command

    def counted(self: Any, *args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return real(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    page = client.get("/cek/").content.decode()
    commands.clear()
    data = {"mode": "nik", "nik": citizen["nik"], "name": citizen["name"], **solve(page)}
    assert client.post("/cek/", data).status_code == 200
    assert commands == ["EVALSHA"]


def _answer(challenge: guard.Challenge) -> str:
    return solve(f'name="challenge" value="{challenge.token}" {challenge.question}')["answer"]


# --- fixed parts rendered once per language ---------------------------------------------------


def test_the_fixed_parts_follow_the_language_of_each_request(client, citizen, settings):
    assert "Lewati ke konten utama" in client.get("/cek/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/cek/").content.decode()
    assert "Skip to main content" in english
    assert "Lewati ke konten utama" not in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    assert "Lewati ke konten utama" in client.get("/cek/").content.decode()


def test_the_navigation_marks_the_page_it_is_on(client, citizen):
    cek = client.get("/cek/").content.decode()
    home = client.get("/").content.decode()
    assert 'href="/cek/" aria-current="page"' in cek
    assert 'aria-current="page"' not in home


def test_a_remembered_fragment_renders_exactly_as_a_fresh_one(citizen, rf, monkeypatch):
    from django.template.loader import render_to_string

    from tepat.portal.selectors import status_by_nik
    from tepat.portal.templatetags.citizen import PerLanguageNode

    context = {
        "form": {"village_code": "3273011001"},
        "errors": {},
        "challenge": guard.Challenge(question="Berapa satu ditambah dua?", token="t"),
        "nav": "cek",
        "mode": "nik",
        "searched": True,
        "results": [status_by_nik(nik=citizen["nik"], name=citizen["name"])],
        "csrf_token": "fixed",
    }
    render_to_string("portal/cek.html", context, rf.get("/cek/"))  # fills the fragments
    remembered = render_to_string("portal/cek.html", context, rf.get("/cek/"))
    monkeypatch.setattr(PerLanguageNode, "render", lambda self, ctx: self.nodelist.render(ctx))
    assert remembered == render_to_string("portal/cek.html", context, rf.get("/cek/"))
    assert "As** Su******" in remembered
    assert 'value="3273011001"' in remembered


# --- prepared statements on PostgreSQL --------------------------------------------------------


@pytest.mark.postgres
def test_on_postgresql_the_status_statements_are_prepared_once_per_connection(client, citizen):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (TEPAT_DATABASE_URL)")

    def prepared() -> dict[str, int]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            )
            return {sql: runs for sql, runs in cur.fetchall() if "registry_person" in sql}

    before = sum(prepared().values())  # this connection may have run it in an earlier test
    for name in (citizen["name"], "Budi Santoso", citizen["name"]):
        assert _post(client, {"nik": citizen["nik"], "name": name}).status_code == 200
    runs = prepared()
    assert len(runs) == 1  # the people statement: one prepared statement, run three times
    assert sum(runs.values()) - before == 3
    # Django's own statements stay unprepared.
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    assert len(prepared()) == 1
