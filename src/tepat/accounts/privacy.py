"""What staff accounts hold, the sessions of staff and citizens, and Django's own tables."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tepat.core.declarations import (
    Action,
    Activity,
    AppDeclaration,
    DataCategory,
    LegalBasis,
    Retention,
    Subject,
    days,
    years,
)

CATEGORIES = (
    DataCategory(
        key="accounts.staff",
        label=_("Akun staf: nama pengguna, nama, surel, peran, wilayah kerja"),
        fields=(
            "accounts.User.username",
            "accounts.User.first_name",
            "accounts.User.last_name",
            "accounts.User.email",
            "accounts.User.role",
            "accounts.RegionScope.region_code",
        ),
    ),
    DataCategory(
        key="accounts.credentials",
        label=_("Kredensial dan keadaan masuk: hash kata sandi, rahasia TOTP terenkripsi, kunci"),
        fields=(
            "accounts.User.password",
            "accounts.User.totp_secret_enc",
            "accounts.User.failed_logins",
            "accounts.User.locked_until",
            "accounts.User.last_login",
        ),
    ),
    DataCategory(
        key="accounts.sessions",
        label=_("Sesi masuk staf dan warga (kuki sesi dan isinya)"),
        fields=("sessions.Session.session_data", "sessions.Session.expire_date"),
    ),
    DataCategory(
        key="accounts.admin_log",
        label=_("Riwayat perubahan di halaman admin Django"),
        fields=(
            "admin.LogEntry.user",
            "admin.LogEntry.object_repr",
            "admin.LogEntry.change_message",
        ),
    ),
)

ACTIVITIES = (
    Activity(
        key="accounts.staff_access",
        name=_("Akun dan akses staf"),
        purpose=_(
            "Mengelola akun staf, masuk dengan kata sandi dan TOTP, wilayah kerja dan peran, "
            "agar setiap petugas hanya melihat data wilayah dan tugasnya."
        ),
        basis=LegalBasis.LEGAL_OBLIGATION,
        basis_detail=_("UU 27/2022 Pasal 35 dan 39 (keamanan dan pencegahan akses tidak sah)"),
        subjects=(Subject.STAFF,),
        categories=(
            "accounts.staff",
            "accounts.credentials",
            "accounts.sessions",
            "accounts.admin_log",
        ),
        models=("accounts.User", "accounts.RegionScope", "sessions.Session", "admin.LogEntry"),
    ),
)

RETENTION = (
    Retention(
        key="accounts.staff",
        model="accounts.User",
        label=_("Akun staf"),
        timestamp="date_joined",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama akun ada; akun staf yang berhenti dinonaktifkan, tidak dihapus, "
            "karena penyerahan dan penyelesaian e-Warung menunjuk kepadanya."
        ),
    ),
    Retention(
        key="accounts.region_scopes",
        model="accounts.RegionScope",
        label=_("Wilayah kerja staf"),
        timestamp="user__date_joined",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Bersama akunnya."),
    ),
    Retention(
        key="accounts.sessions",
        model="sessions.Session",
        label=_("Sesi yang sudah berakhir (staf dan warga)"),
        timestamp="expire_date",
        keep=days(0),
        action=Action.DELETE,
        reason=_(
            "Sesi yang berakhir tidak dapat dipakai lagi; dihapus pada pembersihan berikutnya."
        ),
    ),
    Retention(
        key="accounts.admin_log",
        model="admin.LogEntry",
        label=_("Riwayat admin Django"),
        timestamp="action_time",
        keep=years(1),
        action=Action.DELETE,
        reason=_(
            "Perubahan lewat admin juga tercatat di jejak audit Tepat; salinan Django disimpan "
            "setahun."
        ),
    ),
    Retention(
        key="accounts.login_throttle",
        model="",
        label=_("Penghitung gagal masuk per alamat IP"),
        timestamp="",
        keep=days(1),
        action=Action.EXPIRES,
        reason=_("Disimpan di cache selama jendela pembatasan (TEPAT_LOGIN_LOCKOUT_MINUTES)."),
    ),
)

DECLARATION = AppDeclaration(
    app="accounts",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    no_personal_data=("auth.Group", "auth.Permission", "contenttypes.ContentType"),
)
