from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Nama pengguna"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "class": "usa-input"}
        ),
    )
    password = forms.CharField(
        label=_("Kata sandi"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "usa-input"}
        ),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Kode 6 digit"),
        help_text=_(
            "Dari aplikasi autentikator Anda (misalnya FreeOTP atau Google Authenticator)."
        ),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "class": "usa-input usa-input--medium",
            }
        ),
    )
