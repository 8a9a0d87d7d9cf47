"""Records of processing from the code's own declarations: complete, checked, true to what the
code sends, shown to the right staff, exported, and told to citizens in the privacy notice."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from tepat.accounts.models import Role, User
from tepat.core.declarations import (
    Action,
    AppDeclaration,
    DataCategory,
    ReceivedField,
    Recipient,
    Retention,
    days,
)
from tepat.privacy import declarations, records
from tepat.privacy.declarations import DeclarationError, collect

pytestmark = pytest.mark.django_db


# --- the declarations themselves ------------------------------------------------------------


def test_every_model_with_a_table_is_declared_with_or_without_personal_data() -> None:
    register = collect(strict=False)
    missing = declarations.undeclared_models(register)
    assert missing == [], (
        "declare these models in their app's privacy.py (a Retention rule if they hold "
        f"personal data, else no_personal_data): {missing}"
    )


def test_no_model_declared_without_personal_data_has_a_field_that_looks_personal() -> None:
    assert declarations.suspicious_no_personal_data(collect(strict=False)) == []


def test_the_guard_catches_a_personal_looking_field_on_a_model_declared_without_any() -> None:
    register = collect(strict=False)
    register.no_personal_data.add("registry.Person")  # nik_enc, full_name, household...
    found = declarations.suspicious_no_personal_data(register)
    assert any(p.startswith("registry.Person.nik_enc") for p in found)


def test_the_declarations_of_every_app_are_valid() -> None:
    register = collect()  # strict: raises on any problem
    assert register.activities
    assert register.recipients
    assert register.retention


def test_a_declaration_naming_an_unknown_model_field_or_lookup_is_refused_with_each_problem() -> (
    None
):
    bad = AppDeclaration(
        app="example",
        categories=(DataCategory("x.cat", "x", fields=("registry.Person.shoe_size",)),),
        recipients=(
            Recipient("x.r", "R", "processor", "p", "c", (ReceivedField("nik", ""),)),
        ),
        retention=(
            Retention("x.nomodel", "registry.Ghost", "g", "created_at", days(1), Action.DELETE, "r"),
            Retention("x.nofield", "portal.CitizenOtp", "o", "sent_on", days(1), Action.DELETE, "r"),
            Retention("x.badwhere", "portal.CitizenOtp", "o", "created_at", days(1),
                      Action.DELETE, "r", where={"colour": "red"}),
            Retention("x.anon", "portal.CitizenOtp", "o", "created_at", days(1),
                      Action.ANONYMISE, "r", anonymise={"nik_index": "", "ghost": ""}),
        ),
    )  # fmt: skip
    with pytest.raises(DeclarationError) as caught:
        collect(declarations=[bad])
    text = str(caught.value)
    assert "unknown field 'registry.Person.shoe_size'" in text
    assert "'nik' is sent but its meaning is not declared" in text
    assert "unknown model 'registry.Ghost'" in text
    assert "timestamp 'sent_on' is not a date field" in text
    assert "bad where/exclude" in text
    assert "colour" in text
    assert "unknown field portal.CitizenOtp.ghost" in text


def test_the_purge_refuses_to_run_on_a_wrong_declaration(settings: Any) -> None:
    settings.TEPAT_RETENTION_DAYS = {"portal.sign_in_codez": 7}
    with pytest.raises(CommandError, match=r"unknown rule 'portal\.sign_in_codez'"):
        call_command("privacy", "purge", "--no-progress", stdout=io.StringIO())
    settings.TEPAT_RETENTION_DAYS = {"payments.payment": 30}  # a KEEP rule has no period
    with pytest.raises(CommandError, match="has no period to set"):
        call_command("privacy", "purge", "--no-progress", stdout=io.StringIO())


def test_the_check_command_names_an_undeclared_model(monkeypatch: Any) -> None:
    real = declarations.undeclared_models
    monkeypatch.setattr(declarations, "undeclared_models", lambda r: [*real(r), "x.Unseen"])
    with pytest.raises(CommandError, match=r"x\.Unseen is not declared"):
        call_command("privacy", "check", stdout=io.StringIO())


def test_an_override_changes_the_period_the_schedule_and_the_notice_show(
    settings: Any, client: Any
) -> None:
    settings.TEPAT_RETENTION_DAYS = {"portal.sign_in_codes": 7}
    rule = next(r for r in collect().retention if r.key == "portal.sign_in_codes")
    assert rule.keep.days == 7
    assert "7 hari" in client.get(reverse("privacy:notice")).content.decode()


def test_specific_data_is_marked_for_health_children_financial_and_biometric() -> None:
    register = collect()
    specific = {c.specific for c in register.categories.values() if c.specific}
    assert {"health", "child", "financial", "biometric"} <= {str(s) for s in specific}
    fields = {f for c in register.categories.values() if c.specific for f in c.fields}
    for field in (
        "registry.Person.disability",
        "registry.Person.pregnant",
        "registry.FinancialAddress.account_enc",
        "verification.FaceTemplate.template_enc",
    ):
        assert field in fields


def test_nothing_the_ledger_or_the_financial_record_needs_has_a_purge_rule() -> None:
    protected = {
        "payments.Payment",
        "payments.Statement",
        "payments.StatementLine",
        "payments.Difference",
        "ledger.LogEntry",
        "ledger.PendingEntry",
        "programs.Entitlement",
        "verification.Voucher",
        "verification.Handover",
        "registry.Person",
        "registry.Household",
        "registry.ChangeRecord",
    }
    for rule in collect().retention:
        if rule.model in protected:
            assert rule.action == Action.KEEP, rule.key


# --- the processor register is what the code really sends -----------------------------------


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(503)  # a gateway that is down: the caller keeps the message
        self.end_headers()


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []
    handler = type("Recorder", (_Recorder,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    server.shutdown()
    server.server_close()


def _declared_fields(key: str, app: str) -> set[str]:
    entry = collect().recipients[key]
    return {f.name for d in entry.deliveries if d.app == app for f in d.receives}


def test_a_bank_receives_exactly_the_fields_the_register_declares(
    recorder: tuple[str, list[bytes]],
) -> None:
    from tepat.payments.providers import G2PConnectAdapter, Instruction, TransientProviderError

    url, bodies = recorder
    adapter = G2PConnectAdapter(url, timeout_s=5, callback_url="")
    with pytest.raises(TransientProviderError):
        adapter.submit([Instruction("PKH.T1.abc", "1234567890@bri", "Asep", 750_000, "bansos x",
                                    provider="BRI")])  # fmt: skip
    item = json.loads(bodies[0])["message"]["disbursements"][0]
    for key in ("bank", "ewallet", "pt_pos", "ewarung"):
        assert set(item) == _declared_fields(key, "payments"), key


def test_the_sms_gateway_receives_only_declared_fields(recorder: tuple[str, list[bytes]]) -> None:
    from tepat.messaging.gateway import HttpSmsGateway

    url, bodies = recorder
    gateway = HttpSmsGateway(url=url, retries=0)
    assert gateway.send([("otp-1-ab", "081234567890", "Kode masuk Tepat: 123456")]) == []
    sent = set(json.loads(bodies[0]))
    assert sent == _declared_fields("sms_gateway", "portal") - {"from", "reply"}
    assert sent <= _declared_fields("sms_gateway", "payments")


def test_the_public_log_field_list_comes_from_the_entry_schemas() -> None:
    from tepat.ledger.privacy import person_level_fields

    declared = {f.name for f in collect().recipients["public_log"].deliveries[0].receives}
    assert declared == set(person_level_fields())
    assert "beneficiary" in declared
    assert "nik" not in declared


# --- the pages -------------------------------------------------------------------------------


def _user(role: str) -> User:
    return User.objects.create_user(username=f"u_{role}", password="kata-sandi-panjang-1",
                                    role=role)  # fmt: skip


@pytest.mark.parametrize("role", ["admin", "auditor", "dpo"])
def test_admins_auditors_and_the_dpo_read_the_records_processors_and_schedule(
    staff_client: Any,
    role: str,
) -> None:
    if role == "dpo" and not hasattr(Role, "DPO"):
        pytest.skip("no DPO role in this tree")
    c = staff_client(_user(role))
    register = collect()
    page = unescape(c.get(reverse("privacy:records")).content.decode())
    for act in register.activities:
        assert str(act.name) in page
    page = unescape(c.get(reverse("privacy:processors")).content.decode())
    for entry in register.recipients.values():
        assert str(entry.name) in page
        for name in entry.field_names:
            assert f"<code>{name}</code>" in page
    page = unescape(c.get(reverse("privacy:retention")).content.decode())
    for rule in register.retention:
        assert str(rule.label) in page


def test_an_operator_cannot_read_the_records_and_a_stranger_is_sent_to_sign_in(
    staff_client: Any,
    bandung_operator: User,
    client: Any,
) -> None:
    assert client.get(reverse("privacy:records")).status_code == 302
    c = staff_client(bandung_operator)
    for name in ("privacy:records", "privacy:processors", "privacy:retention"):
        assert c.get(reverse(name)).status_code == 403
    assert c.get(reverse("privacy:records_export", args=["catatan", "json"])).status_code == 403


def test_the_records_export_as_json_and_csv_with_every_activity(
    staff_client: Any,
    auditor: User,
) -> None:
    c = staff_client(auditor)
    register = collect()
    data = json.loads(c.get(reverse("privacy:records_export", args=["catatan", "json"])).content)
    assert {row["key"] for row in data} == {a.key for a in register.activities}
    pkh = next(row for row in data if row["key"] == "targeting.pmt")
    assert pkh["automated_decision"]
    assert "Pasal 20 ayat (2) huruf e" in pkh["legal_basis_article"]
    response = c.get(reverse("privacy:records_export", args=["retensi", "csv"]))
    assert response["Content-Disposition"].endswith('tepat-retensi.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["key"] for r in rows} == {r.key for r in register.retention}
    response = c.get(reverse("privacy:records_export", args=["pemroses", "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {(r["recipient"], r["field"]) for r in rows} >= {("bank", "payee_fa"),
                                                           ("sms_gateway", "to")}  # fmt: skip
    assert c.get(reverse("privacy:records_export", args=["rahasia", "csv"])).status_code == 404


def test_the_records_command_exports_the_same_rows(tmp_path: Any) -> None:
    out = tmp_path / "records.json"
    call_command("privacy", "records", "--part", "pemroses", "--format", "json", "--out",
                 str(out), stdout=io.StringIO())  # fmt: skip
    rows = json.loads(out.read_text())
    assert rows == records.processor_rows(collect())


# --- the privacy notice -----------------------------------------------------------------------


def test_the_notice_lists_every_recipient_and_every_retention_period(client: Any) -> None:
    html = unescape(client.get(reverse("privacy:notice")).content.decode())
    register = collect()
    for entry in register.recipients.values():
        assert str(entry.name) in html
        for d in entry.deliveries:
            for f in d.receives:
                assert str(f.meaning) in html, (entry.key, f.name)
    for rule in register.retention:
        assert str(rule.label) in html, rule.key
        if rule.action != Action.KEEP:
            assert records.keep_text(rule) in html, rule.key
        else:
            assert str(rule.reason) in html, rule.key
    for act in register.activities:
        assert str(act.purpose) in html


def test_the_notice_is_public_and_in_english_too(client: Any) -> None:
    response = client.get(reverse("privacy:notice"))
    assert response.status_code == 200
    assert "Pemberitahuan privasi" in response.content.decode()
    with translation.override("en"):
        html = client.get(reverse("privacy:notice"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in html


def test_the_notice_tells_how_to_exercise_rights_through_the_citizen_account(client: Any) -> None:
    html = client.get(reverse("privacy:notice")).content.decode()
    assert f'href="{reverse("portal:account")}"' in html
    assert "Pasal 10" in html  # objection to the automated desil


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _routes(p, route)
        elif isinstance(p, URLPattern) and not p.pattern.regex.groups and "<" not in route:
            yield "/" + route.lstrip("^").rstrip("$")


def test_every_page_of_the_site_links_the_privacy_notice(
    client: Any,
    regions: None,
) -> None:
    notice = reverse("privacy:notice")
    checked = []
    for path in sorted(set(_routes(get_resolver()))):
        if path.startswith(("/api/", "/admin/", "/i18n/")):
            continue
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        if "<html" not in body:
            continue  # an htmx fragment, not a page
        assert f'href="{notice}"' in body, path
        checked.append(path)
    assert {
        "/",
        "/cek/",
        "/tentang/",
        "/akun/masuk/",
        "/pengaduan/",
        "/pengaduan/usul-sanggah/",
        "/transparansi/",
        "/accounts/masuk/",
        reverse("privacy:notice"),
    } <= set(checked), checked


def test_the_signed_in_citizen_pages_link_the_privacy_notice(
    client: Any,
    regions: None,
) -> None:
    from tepat.portal.views import SESSION_CITIZEN
    from tepat.registry.services import household_register
    from tests.conftest import make_household, make_members

    admin = _user("admin")
    household = household_register(acting_user=admin, source="test",
                                   household=make_household(), members=make_members())  # fmt: skip
    session = client.session
    session[SESSION_CITIZEN] = household.members.get(relationship="head").public_id
    session.save()
    notice = reverse("privacy:notice")
    pages = [reverse("portal:account")]
    for name in ("portal:rights", "portal:mydata"):  # another part's pages, where they exist
        try:
            pages.append(reverse(name))
        except NoReverseMatch:
            pages.append("")
    pages = [p for p in pages if p]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'href="{notice}"' in response.content.decode(), path
    assert urlsplit(notice).path.startswith("/privasi/")
