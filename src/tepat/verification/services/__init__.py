"""Writes for verification: issue and revoke vouchers, one-time codes, and the sync of handovers
recorded offline by field devices.

Exactly-once: a handover is keyed by its client-generated id (unique), so a resent batch is a
no-op; at most one handover per voucher is accepted (partial unique constraint), so when two
devices redeemed the same voucher offline the one that syncs second is kept, rejected and flagged.
The server orders by arrival, not by the devices' clocks, which may be skewed.

One module per concern (callers use this package: `from tepat.verification import services`):

- `common`: roles, voucher channels, settings;
- `day_list`: the salted digests the day's list carries instead of card and ID numbers;
- `vouchers`: signed vouchers, issued and revoked;
- `proxies`: who may collect for an elderly or disabled beneficiary;
- `policy`: which checks a programme accepts on each channel;
- `otp` and `faces`: the online checks at the counter;
- `sync`: the offline handovers, applied exactly once;
- `investigations`: flagged handovers resolved;
- `ewarung`: e-Warung settlement;
- `erasure`: a person's erasure step.
"""

from tepat.verification.services.common import (
    FACE_ENROLLERS,
    ISSUERS,
    PHONE_CONTEXT,
    POLICY_EDITORS,
    VOUCHER_CHANNELS,
    role_may,
    setting,
)
from tepat.verification.services.day_list import (
    DAY_LIST_KDF,
    DAY_LIST_KDF_BYTES,
    DEFAULT_DAY_LIST_KDF_ITERATIONS,
    DayListKdf,
    card_alternatives,
    card_check,
    card_checks,
    cards_on_file,
    day_list_kdf,
    day_list_kdf_iterations,
)
from tepat.verification.services.erasure import verification_forget_person
from tepat.verification.services.ewarung import ewarung_settle
from tepat.verification.services.faces import (
    FACE_CONTEXT,
    FaceResult,
    NoFace,
    face_enrol,
    face_verify,
)
from tepat.verification.services.investigations import handover_resolve
from tepat.verification.services.otp import otp_check, otp_send
from tepat.verification.services.policy import (
    PolicyBook,
    default_methods,
    verification_policy_set,
)
from tepat.verification.services.proxies import (
    PROXY_CONTEXT,
    proxy_numbers,
    proxy_register,
    proxy_revoke,
)
from tepat.verification.services.sync import (
    HandoverIn,
    SyncResult,
    handovers_sync,
    verification_failure_record,
)
from tepat.verification.services.vouchers import VOUCHER_VERSION, voucher_revoke, vouchers_issue

__all__ = [
    "DAY_LIST_KDF",
    "DAY_LIST_KDF_BYTES",
    "DEFAULT_DAY_LIST_KDF_ITERATIONS",
    "FACE_CONTEXT",
    "FACE_ENROLLERS",
    "ISSUERS",
    "PHONE_CONTEXT",
    "POLICY_EDITORS",
    "PROXY_CONTEXT",
    "VOUCHER_CHANNELS",
    "VOUCHER_VERSION",
    "DayListKdf",
    "FaceResult",
    "HandoverIn",
    "NoFace",
    "PolicyBook",
    "SyncResult",
    "card_alternatives",
    "card_check",
    "card_checks",
    "cards_on_file",
    "day_list_kdf",
    "day_list_kdf_iterations",
    "default_methods",
    "ewarung_settle",
    "face_enrol",
    "face_verify",
    "handover_resolve",
    "handovers_sync",
    "otp_check",
    "otp_send",
    "proxy_numbers",
    "proxy_register",
    "proxy_revoke",
    "role_may",
    "setting",
    "verification_failure_record",
    "verification_forget_person",
    "verification_policy_set",
    "voucher_revoke",
    "vouchers_issue",
]
