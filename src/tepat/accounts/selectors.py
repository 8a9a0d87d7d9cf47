"""Reads for staff accounts: listings and the TOTP enrolment picture."""

from __future__ import annotations

import io

import pyotp
import segno
from django.db.models import QuerySet
from django.http import HttpRequest

from tepat.accounts.models import User
from tepat.accounts.services import TOTP_ISSUER, TOTP_PERIOD
from tepat.core.errors import PermissionDenied


def staff_list() -> QuerySet[User]:
    return User.objects.order_by("username").prefetch_related("region_scopes")


def totp_provisioning_uri(*, user: User, secret: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret, interval=TOTP_PERIOD).provisioning_uri(
        name=user.username, issuer_name=TOTP_ISSUER
    )


def totp_qr_svg(*, uri: str, title: str) -> str:
    """An inline SVG QR code (no XML declaration, so it can sit inside HTML)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        scale=5,
        border=2,
        xmldecl=False,
        svgns=True,
        title=title,
        svgclass="tepat-qr",
    )
    return out.getvalue().decode("utf-8")


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member behind a request, typed as the user model for the services
    (`acting_user`). Staff pages and the API sit behind the verified-session middleware, so an
    anonymous request does not get here; if one ever does (a route without its guard), it is
    refused rather than passed to a service as nobody."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied()
    return user
