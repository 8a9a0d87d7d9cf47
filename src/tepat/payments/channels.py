"""Which channel pays each beneficiary, with fallback, and the snapshot of where the money goes.

Order per programme (`params["channels"]`, default bank -> e-wallet -> cash through PT Pos): the
first channel the beneficiary can use wins. A bank account counts only at a Himbara bank (the KKS
banks). Cash through PT Pos and e-Warung vouchers need no account, so they close every list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings

from tepat.core.ids import new_public_id
from tepat.payments.models import Channel
from tepat.registry import sealed

ACCOUNT_CONTEXT = sealed.ACCOUNT  # the registry's encryption context
PAYEE_CONTEXT = "payments.payee_fa"
HIMBARA = ("BRI", "BNI", "MANDIRI", "BSI", "BTN")
DEFAULT_ORDER = (Channel.BANK, Channel.EWALLET, Channel.CASH_POS)


@dataclass(frozen=True)
class Route:
    channel: str
    provider: str
    payee_fa: str
    masked: str
    payee_name: str
    place: str = ""
    collect_from: dt.datetime | None = None
    collect_until: dt.datetime | None = None
    voucher: str = ""


def mask(account: str) -> str:
    return "*" * max(len(account) - 4, 0) + account[-4:]


def _accounts(refs: Sequence[str]) -> dict[str, dict[str, tuple[str, str, str]]]:
    """person public id -> kind -> (provider, account, holder name), current addresses only."""
    from tepat.registry.models import FinancialAddress

    out: dict[str, dict[str, tuple[str, str, str]]] = {}
    open_account = sealed.unsealer(context=ACCOUNT_CONTEXT)  # bound to the address's row
    for i in range(0, len(refs), 20_000):
        rows = FinancialAddress.objects.filter(
            valid_to__isnull=True, person__public_id__in=refs[i : i + 20_000]
        ).values_list(
            "person__public_id", "kind", "provider", "account_enc", "holder_name", "public_id"
        )
        for ref, kind, provider, enc, holder, fa_ref in rows:
            out.setdefault(ref, {})[kind] = (provider, open_account(enc, fa_ref), holder)
    return out


def _names(refs: Sequence[str]) -> dict[str, str]:
    from tepat.registry.models import Person

    out: dict[str, str] = {}
    for i in range(0, len(refs), 20_000):
        out.update(
            Person.objects.filter(public_id__in=refs[i : i + 20_000]).values_list(
                "public_id", "full_name"
            )
        )
    return out


def cash_route(
    *, key: str, name: str, village_code: str, starts: dt.date, channel: str = Channel.CASH_POS
) -> Route:
    days = int(getattr(settings, "TEPAT_CASH_COLLECTION_DAYS", 14))
    start = dt.datetime.combine(starts, dt.time(8, 0), tzinfo=dt.UTC)
    until = start + dt.timedelta(days=days)
    if channel == Channel.EWARUNG:
        voucher = new_public_id(12)
        return Route(channel, "EWARUNG", f"voucher:{voucher}@sembako.ewarung", f"voucher:****{voucher[-4:]}",
                     name, f"e-Warung desa {village_code}", start, until, voucher)  # fmt: skip
    return Route(channel, "POS", f"cash:{key[-16:]}@ptpos", "tunai PT Pos", name,
                 f"Kantor Pos kecamatan {village_code[:6]}", start, until)  # fmt: skip


def routes_for(
    *,
    beneficiaries: Iterable[tuple[str, str, str]],  # (payment key, person ref, village code)
    order: Sequence[str] | None,
    starts: dt.date,
) -> dict[str, Route]:
    """payment key -> route, taking each beneficiary's first usable channel in `order`."""
    items = list(beneficiaries)
    refs = [r for _, r, _ in items]
    accounts = _accounts(refs)
    names = _names(refs)
    chain = [str(c) for c in (order or DEFAULT_ORDER)]
    if Channel.CASH_POS not in chain and Channel.EWARUNG not in chain:
        chain.append(Channel.CASH_POS)
    out: dict[str, Route] = {}
    for key, ref, village in items:
        acc = accounts.get(ref, {})
        name = names.get(ref, "")
        for ch in chain:
            if ch == Channel.BANK and "bank" in acc and acc["bank"][0] in HIMBARA:
                provider, account, holder = acc["bank"]
                out[key] = Route(
                    ch, provider, f"{account}@{provider.lower()}", mask(account), holder or name
                )
                break
            if ch == Channel.EWALLET and "ewallet" in acc:
                provider, account, holder = acc["ewallet"]
                out[key] = Route(
                    ch, provider, f"{account}@{provider.lower()}", mask(account), holder or name
                )
                break
            if ch in (Channel.CASH_POS, Channel.EWARUNG):
                out[key] = cash_route(
                    key=key, name=name, village_code=village, starts=starts, channel=ch
                )
                break
    return out
