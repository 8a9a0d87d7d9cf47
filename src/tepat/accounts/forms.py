from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import User


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


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Kata sandi saat ini"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "usa-input"}
        ),
    )
    new_password = forms.CharField(
        label=_("Kata sandi baru"),
        strip=False,
        help_text=_(
            "Paling sedikit 10 karakter, tidak mudah ditebak: beberapa kata acak lebih baik "
            "daripada satu kata dengan angka."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "class": "usa-input"}),
    )
    new_password_again = forms.CharField(
        label=_("Ulangi kata sandi baru"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "class": "usa-input"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        first, again = cleaned.get("new_password"), cleaned.get("new_password_again")
        if first and again and first != again:
            self.add_error("new_password_again", _("Kedua kata sandi baru tidak sama."))
        return cleaned


class StaffCreationForm(AdminUserCreationForm):
    """The Django admin's add-user form: the admin chose the password, so the new staff member
    must change it at the first log-in (accounts.middleware)."""

    def save(self, commit: bool = True) -> Any:
        self.instance.must_change_password = True
        return super().save(commit=commit)


class StaffPasswordResetForm(AdminPasswordChangeForm):  # type: ignore[type-arg]
    """The Django admin's set-password form: a password set by an admin must be changed at the
    next log-in; the user's sessions end with the old password's hash."""

    def save(self, commit: bool = True) -> Any:
        if isinstance(self.user, User):
            self.user.must_change_password = True
        return super().save(commit=commit)
