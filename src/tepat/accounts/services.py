"""Staff accounts: creation, region scopes, passwords, lock-out, and TOTP two-factor log-in.

Every write is one durable transaction with an acting user (None from the command line) and an
audit event. Log-in failures are recorded in their own transaction *before* the refusal is raised,
so a refused attempt is never rolled back with the request.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.models import SCOPED_ROLES, RegionScope, Role, User
from tepat.core.audit import audit_record, client_ip
from tepat.core.crypto import cache_digest, decrypt, encrypt
from tepat.core.errors import PermissionDenied, TepatError
from tepat.regions.selectors import region_exists

TOTP_ISSUER = "Tepat"
TOTP_PERIOD = 30
_TOTP_CONTEXT = "accounts.user.totp_secret"
# The session key of a TOTP secret being enrolled (encrypted, bound to the user).
SESSION_PENDING_TOTP = "tepat_totp_pending"
_REGION_CODE_RE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{10})$")
_CODE_RE = re.compile(r"^\d{6}$")


class LoginRefused(TepatError):
    """A log-in step failed. The message never says whether the username exists."""

    http_status = 401


# --- helpers -------------------------------------------------------------------------------


def _require_admin(acting_user: User | None) -> None:
    # None is the command line: whoever runs `tepat staff` already holds the server.
    if acting_user is None:
        return
    if not (acting_user.is_superuser or acting_user.role == Role.ADMIN):
        raise PermissionDenied(_("Hanya admin yang boleh mengelola akun staf."))


def _actor_detail(acting_user: User | None) -> dict[str, Any]:
    return {"via": "cli"} if acting_user is None else {}


def _clean_region_codes(region_codes: Iterable[str]) -> list[str]:
    codes = sorted({str(code).strip().replace(".", "") for code in region_codes})
    for code in codes:
        if not _REGION_CODE_RE.match(code):
            raise TepatError(
                _(
                    "Kode wilayah %(code)s tidak valid: harus angka Kemendagri tanpa titik, "
                    "2, 4, 6 atau 10 digit."
                )
                % {"code": code},
                code="invalid_region",
                field="region_codes",
            )
        if not region_exists(code):
            raise TepatError(
                _(
                    "Kode wilayah %(code)s tidak dikenal: muat data wilayah dengan "
                    "`tepat regions load` atau periksa kodenya."
                )
                % {"code": code},
                code="unknown_region",
                field="region_codes",
            )
    return codes


def _clean_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(Role.values)
        raise TepatError(
            _("Peran %(role)s tidak dikenal; pilih salah satu: %(allowed)s.")
            % {"role": role, "allowed": allowed},
            code="invalid_role",
            field="role",
        ) from None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=6, interval=TOTP_PERIOD)


def totp_secret(user: User) -> str:
    """The user's TOTP secret in clear (for enrolment display and verification only)."""
    if not user.totp_secret_enc:
        raise TepatError(_("Autentikasi dua langkah belum disiapkan."), code="totp_not_enrolled")
    return decrypt(user.totp_secret_enc, context=f"{_TOTP_CONTEXT}:{user.pk}")


def _store_secret(user: User, secret: str) -> None:
    # The user's pk is bound as associated data, so a secret cannot be pasted onto another user.
    user.totp_secret_enc = encrypt(secret, context=f"{_TOTP_CONTEXT}:{user.pk}")


def _pending_context(user: User) -> str:
    return f"{_TOTP_CONTEXT}:pending:{user.pk}"


def _clean_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise TepatError(" ".join(exc.messages), code="weak_password", field="password") from None


def _matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (within one step either side) whose code equals `code`, if any."""
    totp = _totp(secret)
    current = int((time.time() if now is None else now) // TOTP_PERIOD)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise_code(code: str) -> str:
    return re.sub(r"\s+", "", code or "")


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > timezone.now()


def _ip_key(request: HttpRequest | None) -> str | None:
    ip = client_ip(request)
    # Keyed, so that a dump of the cache does not list the addresses that failed to log in.
    return f"tepat:login-ip-failures:{cache_digest(ip, purpose='login-ip')}" if ip else None


def _ip_limit() -> int:
    return int(getattr(settings, "TEPAT_LOGIN_IP_MAX_FAILURES", 30))


def _ip_window_seconds() -> int:
    return int(settings.TEPAT_LOGIN_LOCKOUT_MINUTES) * 60


def ip_throttled(request: HttpRequest | None) -> bool:
    key = _ip_key(request)
    return key is not None and int(cache.get(key, 0)) >= _ip_limit()


def _ip_failure(request: HttpRequest | None) -> None:
    key = _ip_key(request)
    if key is None:
        return
    cache.add(key, 0, timeout=_ip_window_seconds())
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_ip_window_seconds())


def _refused_message() -> str:
    return _(
        "Log-in gagal. Periksa nama pengguna, kata sandi dan kode. Setelah %(n)d kali gagal "
        "berturut-turut, akun dikunci selama %(m)d menit."
    ) % {"n": settings.TEPAT_LOGIN_MAX_FAILURES, "m": settings.TEPAT_LOGIN_LOCKOUT_MINUTES}


def _register_failure(
    *, user: User | None, request: HttpRequest | None, action: str, detail: dict[str, Any]
) -> None:
    """Count one failed step; lock the account at the limit. Commits on its own."""
    _ip_failure(request)
    with transaction.atomic():
        if user is None:
            audit_record(actor=None, action=action, request=request, detail=detail)
            return
        # Lock the row: two parallel guesses must both count.
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        if locked_user.locked_until is not None and locked_user.locked_until <= now:
            # A lock that has run out gives a fresh set of attempts.
            locked_user.locked_until = None
            locked_user.failed_logins = 0
        locked_user.failed_logins += 1
        audit_record(
            actor=locked_user,
            action=action,
            target_type="user",
            target_id=str(locked_user.pk),
            request=request,
            detail={**detail, "failures": locked_user.failed_logins},
        )
        if locked_user.failed_logins >= settings.TEPAT_LOGIN_MAX_FAILURES and not is_locked(
            locked_user
        ):
            locked_user.locked_until = now + timedelta(minutes=settings.TEPAT_LOGIN_LOCKOUT_MINUTES)
            audit_record(
                actor=locked_user,
                action="login.locked",
                target_type="user",
                target_id=str(locked_user.pk),
                request=request,
                detail={"until": locked_user.locked_until.isoformat()},
            )
        locked_user.save(update_fields=["failed_logins", "locked_until"])
        user.failed_logins = locked_user.failed_logins
        user.locked_until = locked_user.locked_until


# --- accounts ------------------------------------------------------------------------------


def user_create(
    *,
    acting_user: User | None,
    username: str,
    password: str,
    role: str,
    region_codes: Iterable[str] = (),
    email: str = "",
    totp_secret: str | None = None,
    must_change_password: bool | None = None,
) -> User:
    """Create a staff member. `totp_secret` (base32) pre-enrols TOTP, e.g. for the demo.

    A password chosen by someone else must be changed at the first log-in: by default when an
    admin creates the account (`acting_user`); the command line says so itself (`tepat staff
    create` does unless told the account is the operator's own; the demo does not).
    """
    if must_change_password is None:
        must_change_password = acting_user is not None
    _require_admin(acting_user)
    clean_role = _clean_role(role)
    username = username.strip()
    if not username:
        raise TepatError(_("Nama pengguna wajib diisi."), code="required", field="username")
    codes = _clean_region_codes(region_codes)
    if clean_role in SCOPED_ROLES and not codes:
        raise TepatError(
            _("Peran %(role)s membutuhkan paling sedikit satu kode wilayah.")
            % {"role": clean_role.label},
            code="region_required",
            field="region_codes",
        )
    if totp_secret is not None:
        try:
            pyotp.TOTP(totp_secret).now()
        except Exception:
            raise TepatError(
                _("Rahasia TOTP harus berupa base32."), code="invalid_totp_secret"
            ) from None
    with transaction.atomic(durable=True):
        if User.objects.filter(username__iexact=username).exists():
            raise TepatError(
                _("Nama pengguna %(username)s sudah dipakai.") % {"username": username},
                code="duplicate",
                field="username",
            )
        user = User(
            username=username,
            email=email,
            role=clean_role,
            is_staff=clean_role == Role.ADMIN,
            is_superuser=clean_role == Role.ADMIN,
            must_change_password=must_change_password,
        )
        _clean_password(password, user)
        user.set_password(password)
        user.save()
        RegionScope.objects.bulk_create([RegionScope(user=user, region_code=c) for c in codes])
        if totp_secret is not None:
            _store_secret(user, totp_secret)
            user.totp_confirmed_at = timezone.now()
            user.save(update_fields=["totp_secret_enc", "totp_confirmed_at"])
        audit_record(
            actor=acting_user,
            action="user.created",
            target_type="user",
            target_id=str(user.pk),
            detail={
                **_actor_detail(acting_user),
                "username": user.username,
                "role": clean_role.value,
                "region_codes": codes,
                "totp_preset": totp_secret is not None,
                "must_change_password": must_change_password,
            },
        )
    return user


def user_password_reset(*, acting_user: User | None, user: User, password: str) -> User:
    """An admin sets a new password for a staff member (forgotten password).

    The user must change it at the next log-in, and every session of theirs ends: Django checks
    each session's password hash on every request.
    """
    _require_admin(acting_user)
    _clean_password(password, user)
    with transaction.atomic(durable=True):
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit_record(
            actor=acting_user,
            action="user.password_reset",
            target_type="user",
            target_id=str(user.pk),
            detail=_actor_detail(acting_user),
        )
    return user


def password_change(
    *, user: User, old_password: str, new_password: str, request: HttpRequest | None = None
) -> User:
    """The user changes their own password: the old one first, then a strong new one.

    A wrong old password counts towards the lock-out like a wrong log-in (a session left open
    must not become a password-guessing oracle). The caller keeps its own session
    (`update_session_auth_hash`); every other session of the user ends with the old hash.
    """
    if is_locked(user):
        raise LoginRefused(_refused_message(), code="locked")
    if not user.check_password(old_password):
        _register_failure(
            user=user,
            request=request,
            action="user.password_change_failed",
            detail={"reason": "bad_old_password"},
        )
        if is_locked(user):
            raise LoginRefused(_refused_message(), code="locked")
        raise TepatError(_("Kata sandi lama salah."), code="bad_old_password", field="old_password")
    if new_password == old_password:
        raise TepatError(
            _("Kata sandi baru harus berbeda dari kata sandi lama."),
            code="same_password",
            field="new_password",
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise TepatError(
            " ".join(exc.messages), code="weak_password", field="new_password"
        ) from None
    with transaction.atomic(durable=True):
        forced = user.must_change_password
        user.set_password(new_password)
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.failed_logins = 0
        user.save(
            update_fields=[
                "password",
                "must_change_password",
                "password_changed_at",
                "failed_logins",
            ]
        )
        audit_record(
            actor=user,
            action="user.password_changed",
            target_type="user",
            target_id=str(user.pk),
            request=request,
            detail={"forced": forced},
        )
    return user


def user_scope_set(
    *, acting_user: User | None, user: User, region_codes: Iterable[str]
) -> list[str]:
    """Replace the user's region scopes; returns the new sorted list of codes."""
    _require_admin(acting_user)
    codes = _clean_region_codes(region_codes)
    if user.role in SCOPED_ROLES and not codes:
        raise TepatError(
            _("Peran %(role)s membutuhkan paling sedikit satu kode wilayah.")
            % {"role": Role(user.role).label},
            code="region_required",
            field="region_codes",
        )
    with transaction.atomic(durable=True):
        before = sorted(user.region_scopes.values_list("region_code", flat=True))
        user.region_scopes.exclude(region_code__in=codes).delete()
        RegionScope.objects.bulk_create(
            [RegionScope(user=user, region_code=c) for c in codes if c not in before]
        )
        audit_record(
            actor=acting_user,
            action="user.scope_set",
            target_type="user",
            target_id=str(user.pk),
            detail={**_actor_detail(acting_user), "before": before, "after": codes},
        )
    user.__dict__.pop("_region_codes_cache", None)
    return codes


def user_unlock(*, acting_user: User | None, user: User) -> User:
    _require_admin(acting_user)
    with transaction.atomic(durable=True):
        before = {
            "failed_logins": user.failed_logins,
            "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        }
        user.failed_logins = 0
        user.locked_until = None
        user.save(update_fields=["failed_logins", "locked_until"])
        audit_record(
            actor=acting_user,
            action="user.unlocked",
            target_type="user",
            target_id=str(user.pk),
            detail={**_actor_detail(acting_user), "before": before},
        )
    return user


def totp_reset(*, acting_user: User | None, user: User) -> User:
    """Forget the user's TOTP secret (lost phone); they enrol again at the next log-in."""
    _require_admin(acting_user)
    with transaction.atomic(durable=True):
        user.totp_secret_enc = ""
        user.totp_confirmed_at = None
        user.totp_last_step = 0
        user.save(update_fields=["totp_secret_enc", "totp_confirmed_at", "totp_last_step"])
        audit_record(
            actor=acting_user,
            action="user.totp_reset",
            target_type="user",
            target_id=str(user.pk),
            detail=_actor_detail(acting_user),
        )
    return user


# --- log-in --------------------------------------------------------------------------------


def login_check_password(*, username: str, password: str, request: HttpRequest | None) -> User:
    """First log-in step. Raises LoginRefused with one message for every kind of refusal."""
    if ip_throttled(request):
        audit_record(
            actor=None,
            action="login.failed",
            request=request,
            detail={"username": username[:150], "reason": "ip_throttled"},
        )
        raise LoginRefused(
            _("Terlalu banyak percobaan gagal dari alamat ini. Coba lagi nanti."), code="throttled"
        )
    # authenticate() runs the password hasher even for unknown users, so timing reveals nothing.
    authenticated = authenticate(request, username=username, password=password)
    user = authenticated if isinstance(authenticated, User) else None
    if user is not None and is_locked(user):
        audit_record(
            actor=user,
            action="login.failed",
            target_type="user",
            target_id=str(user.pk),
            request=request,
            detail={"reason": "locked"},
        )
        raise LoginRefused(_refused_message(), code="login_refused")
    if user is None:
        known = User.objects.filter(username=username).first()
        if known is not None and is_locked(known):
            audit_record(
                actor=known,
                action="login.failed",
                target_type="user",
                target_id=str(known.pk),
                request=request,
                detail={"reason": "locked"},
            )
            _ip_failure(request)
        else:
            _register_failure(
                user=known,
                request=request,
                action="login.failed",
                detail={"username": username[:150], "reason": "bad_credentials"},
            )
        raise LoginRefused(_refused_message(), code="login_refused")
    return user


def login_complete(*, user: User, request: HttpRequest | None, second_factor: str) -> None:
    """The last log-in step passed: reset the failure count and record the log-in."""
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        user.failed_logins = 0
        user.locked_until = None
        audit_record(
            actor=user,
            action="login.succeeded",
            target_type="user",
            target_id=str(user.pk),
            request=request,
            detail={"second_factor": second_factor},
        )


def logout_record(*, user: User, request: HttpRequest | None) -> None:
    audit_record(
        actor=user, action="logout", target_type="user", target_id=str(user.pk), request=request
    )


def totp_required(user: User) -> bool:
    """Staff pass TOTP when the deployment requires it, and always once they have enrolled."""
    return bool(settings.TEPAT_REQUIRE_2FA) or user.totp_confirmed_at is not None


def totp_pending_secret(*, user: User, session: SessionBase) -> str | None:
    """The secret this session is enrolling for `user`, in clear; None when there is none."""
    token = session.get(SESSION_PENDING_TOTP)
    if not token:
        return None
    try:
        return decrypt(str(token), context=_pending_context(user))
    except Exception:  # another user's pending secret, or a rotated-away key: start again
        return None


def totp_begin_enrolment(
    *, user: User, session: SessionBase, request: HttpRequest | None = None
) -> str:
    """This session's pending TOTP secret for `user` (a fresh one the first time), in clear.

    The secret lives in the session only (encrypted with the field key, bound to the user), so
    two sessions that know the password never share one: whoever enrols, enrols the secret their
    own page showed, and the account row holds a secret only once a code has confirmed it.
    """
    if user.totp_confirmed_at is not None:
        raise TepatError(_("Autentikasi dua langkah sudah aktif."), code="totp_already_enrolled")
    pending = totp_pending_secret(user=user, session=session)
    if pending is not None:
        return pending
    secret = pyotp.random_base32()
    session[SESSION_PENDING_TOTP] = encrypt(secret, context=_pending_context(user))
    audit_record(
        actor=user,
        action="login.totp_enrolment_started",
        target_type="user",
        target_id=str(user.pk),
        request=request,
    )
    return secret


def _check_code(
    *, user: User, secret: str, code: str, request: HttpRequest | None, action: str
) -> int:
    """Verify a code against `secret`; count a failure and raise when it is wrong."""
    if is_locked(user):
        raise LoginRefused(_refused_message(), code="locked")
    clean = _normalise_code(code)
    step = _matching_step(secret, clean) if _CODE_RE.match(clean) else None
    reason = "bad_code"
    if step is not None and step <= user.totp_last_step:
        # The same code (or an older one) again: someone may have seen it over a shoulder.
        step, reason = None, "replay"
    if step is None:
        _register_failure(user=user, request=request, action=action, detail={"reason": reason})
        if is_locked(user):
            raise LoginRefused(_refused_message(), code="locked")
        message = (
            _("Kode ini sudah dipakai. Tunggu kode berikutnya di aplikasi autentikator.")
            if reason == "replay"
            else _("Kode salah atau kedaluwarsa. Masukkan 6 digit dari aplikasi autentikator.")
        )
        raise LoginRefused(message, code=reason, field="code")
    return step


def totp_confirm(
    *, user: User, code: str, session: SessionBase, request: HttpRequest | None = None
) -> None:
    """Finish enrolment: the first correct code for this session's pending secret stores it."""
    already = TepatError(_("Autentikasi dua langkah sudah aktif."), code="totp_already_enrolled")
    if user.totp_confirmed_at is not None:
        raise already
    secret = totp_pending_secret(user=user, session=session)
    if secret is None:
        raise TepatError(
            _("Pendaftaran kode kedaluwarsa. Pindai kode QR yang baru."),
            code="totp_enrolment_missing",
            field="code",
        )
    step = _check_code(
        user=user, secret=secret, code=code, request=request, action="login.totp_failed"
    )
    with transaction.atomic(durable=True):
        _store_secret(user, secret)
        now = timezone.now()
        # Only an account still unenrolled takes the secret: of two sessions enrolling at once,
        # the first correct code wins and the other is told enrolment is already done.
        updated = User.objects.filter(pk=user.pk, totp_confirmed_at__isnull=True).update(
            totp_secret_enc=user.totp_secret_enc, totp_confirmed_at=now, totp_last_step=step
        )
        if not updated:
            user.refresh_from_db()
            raise already
        user.totp_confirmed_at = now
        user.totp_last_step = step
        session.pop(SESSION_PENDING_TOTP, None)
        audit_record(
            actor=user,
            action="login.totp_enrolled",
            target_type="user",
            target_id=str(user.pk),
            request=request,
        )


def totp_verify(*, user: User, code: str, request: HttpRequest | None = None) -> None:
    """Check a 6-digit code (one step of clock drift allowed), refusing a replayed step."""
    if user.totp_confirmed_at is None:
        raise TepatError(_("Autentikasi dua langkah belum disiapkan."), code="totp_not_enrolled")
    step = _check_code(
        user=user, secret=totp_secret(user), code=code, request=request, action="login.totp_failed"
    )
    with transaction.atomic(durable=True):
        # Only move forward: a parallel request may already have used a later step.
        updated = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(
            totp_last_step=step
        )
    if not updated:
        _register_failure(
            user=user, request=request, action="login.totp_failed", detail={"reason": "replay"}
        )
        raise LoginRefused(
            _("Kode ini sudah dipakai. Tunggu kode berikutnya di aplikasi autentikator."),
            code="replay",
            field="code",
        )
    user.totp_last_step = step
