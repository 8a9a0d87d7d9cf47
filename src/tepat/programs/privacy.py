"""What programmes hold about households: the entitlement of each cycle, and for how long."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tepat.core.declarations import (
    Action,
    Activity,
    AppDeclaration,
    DataCategory,
    LegalBasis,
    Retention,
    Specific,
    Subject,
    days,
)
from tepat.programs.subject_export import SECTIONS

CATEGORIES = (
    DataCategory(
        key="programs.entitlement",
        label=_("Hak bantuan per tahap: keluarga, penerima, jumlah, status"),
        fields=(
            "programs.Entitlement.household",
            "programs.Entitlement.household_ref",
            "programs.Entitlement.beneficiary_ref",
            "programs.Entitlement.village_code",
            "programs.Entitlement.amount",
            "programs.Entitlement.state",
            "programs.Entitlement.reason",
        ),
        specific=Specific.FINANCIAL,
    ),
    DataCategory(
        key="programs.components",
        label=_(
            "Komponen PKH yang dihitung: ibu hamil, anak usia dini dan sekolah, lansia, "
            "disabilitas berat; desil yang dipakai"
        ),
        fields=("programs.Entitlement.inputs",),
        specific=Specific.HEALTH,
        note=_("Juga data anak (jumlah anak per jenjang)."),
    ),
)

ACTIVITIES = (
    Activity(
        key="programs.entitlements",
        name=_("Penetapan hak bantuan per tahap"),
        purpose=_(
            "Menghitung dan membekukan siapa menerima berapa pada setiap tahap program (PKH, "
            "Sembako, BLT) menurut aturan dan parameter program, untuk disetujui pemeriksa."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 13/2011 tentang Penanganan Fakir Miskin; ketentuan program bantuan sosial "
            "Kementerian Sosial"
        ),
        subjects=(Subject.BENEFICIARY, Subject.HOUSEHOLD_MEMBER, Subject.CHILD),
        categories=("programs.entitlement", "programs.components", "targeting.score"),
        models=("programs.Entitlement",),
        automated=_(
            "Hak bantuan dihitung otomatis dari aturan program dan desil; setiap daftar "
            "diperiksa dan disetujui petugas lain sebelum dibayar."
        ),
    ),
)

RETENTION = (
    Retention(
        key="programs.entitlement",
        model="programs.Entitlement",
        label=_("Hak bantuan per tahap"),
        timestamp="cycle__created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Dasar pembayaran dari uang negara dan daftar yang disetujui: disimpan sesuai "
            "jadwal retensi arsip keuangan instansi (UU 43/2009 tentang Kearsipan); tidak "
            "dihapus otomatis."
        ),
    ),
)

DECLARATION = AppDeclaration(
    app="programs",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    no_personal_data=("programs.Programme", "programs.Cycle", "programs.CycleEvent"),
    export_sections=SECTIONS,
)
