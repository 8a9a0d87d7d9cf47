from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tepat.accounts import services
from tepat.accounts.forms import StaffCreationForm, StaffPasswordResetForm
from tepat.accounts.models import RegionScope, User
from tepat.core.audit import audit_record


def _login_through_tepat(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin signs in through the staff log-in, so lock-out and TOTP apply there too."""
    target = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")


admin.site.login = _login_through_tepat  # type: ignore[method-assign]
admin.site.site_header = "Tepat"
admin.site.site_title = "Tepat"


_BEFORE = "_tepat_access_before"  # (pk, access_state) kept on the request between the hooks


def access_state(user: User) -> dict[str, Any]:
    """What decides what an account may do and see: role, flags, regions, groups, permissions."""
    return {
        "role": user.role,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "regions": sorted(
            RegionScope.objects.filter(user=user).values_list("region_code", flat=True)
        ),
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(
            f"{app}.{codename}"
            for app, codename in user.user_permissions.values_list(
                "content_type__app_label", "codename"
            )
        ),
    }


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


def _acting(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


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
    # A password an admin sets here must be changed at the user's next log-in.
    add_form = StaffCreationForm
    change_password_form = StaffPasswordResetForm

    # Role, flag, scope, group and permission changes made here are audited like those made
    # through accounts.services: the state is read before the form saves (save_model) and
    # compared once the inlines and many-to-many fields are saved too (save_related), inside
    # the admin's transaction.
    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        if change and obj.pk is not None:
            previous = User.objects.get(pk=obj.pk)
            vars(request)[_BEFORE] = (obj.pk, access_state(previous))
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm[User], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        after = access_state(user)
        if not change:
            audit_record(
                actor=_acting(request),
                action="user.created",
                target_type="user",
                target_id=str(user.pk),
                request=request,
                detail={"username": user.username, "via": "admin", **after},
            )
            return
        pk, before = vars(request).get(_BEFORE, (None, None))
        if pk != user.pk or before is None or before == after:
            return
        audit_record(
            actor=_acting(request),
            action="user.access_changed",
            target_type="user",
            target_id=str(user.pk),
            request=request,
            detail={"username": user.username, "via": "admin", **_changed(before, after)},
        )

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        self._audit_deleted(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._audit_deleted(request, list(queryset))
        super().delete_queryset(request, queryset)

    def _audit_deleted(self, request: HttpRequest, users: list[User]) -> None:
        for user in users:
            audit_record(
                actor=_acting(request),
                action="user.deleted",
                target_type="user",
                target_id=str(user.pk),
                request=request,
                detail={"username": user.username, "via": "admin", **access_state(user)},
            )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                actor=_acting(request),
                action="user.password_set",
                target_type="user",
                target_id=str(id),
                request=request,
                detail={"via": "admin"},
            )
        return response

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
