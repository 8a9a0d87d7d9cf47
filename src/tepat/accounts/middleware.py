from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class TwoFactorRequiredMiddleware:
    """Placeholder, replaced by the TOTP flow: staff must pass TOTP before any other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
