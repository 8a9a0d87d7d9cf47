from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tepat.accounts import services
from tepat.accounts.models import RegionScope, User


def _login_through_tepat(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin signs in through the staff log-in, so lock-out and TOTP apply there too."""
    target = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")


admin.site.login = _login_through_tepat  # type: ignore[method-assign]
admin.site.site_header = "Tepat"
admin.site.site_title = "Tepat"


class RegionScopeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RegionScope
    extra = 1
    verbose_name = _("Wilayah")
    verbose_name_plural = _("Wilayah yang boleh dilihat")


@admin.register(User)
class TepatUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [RegionScopeInline]
    list_display = ("username", "role", "is_active", "totp_enrolled", "locked_until", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    readonly_fields = ("totp_confirmed_at", "failed_logins", "locked_until", "last_login")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            _("Tepat"),
            {"fields": ("role", "totp_confirmed_at", "failed_logins", "locked_until")},
        ),
    )
    actions = ["unlock_accounts", "reset_totp"]

    @admin.display(boolean=True, description=_("TOTP aktif"))
    def totp_enrolled(self, obj: User) -> bool:
        return obj.totp_confirmed_at is not None

    @admin.action(description=_("Buka kunci akun terpilih"))
    def unlock_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        acting = request.user if isinstance(request.user, User) else None
        for user in queryset:
            services.user_unlock(acting_user=acting, user=user)
        messages.success(request, _("Akun dibuka kuncinya."))

    @admin.action(description=_("Atur ulang TOTP (ponsel hilang)"))
    def reset_totp(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        acting = request.user if isinstance(request.user, User) else None
        for user in queryset:
            services.totp_reset(acting_user=acting, user=user)
        messages.success(request, _("TOTP diatur ulang; pengguna mendaftar lagi saat masuk."))
