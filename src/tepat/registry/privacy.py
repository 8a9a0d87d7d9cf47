"""What the social registry holds about households and their members, and for how long."""

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
from tepat.registry.subject_export import SECTIONS

CATEGORIES = (
    DataCategory(
        key="registry.identity",
        label=_("Identitas: NIK, nomor KK, nama, jenis kelamin, tempat dan tanggal lahir"),
        fields=(
            "registry.Person.nik_enc",
            "registry.Person.nik_index",
            "registry.Person.full_name",
            "registry.Person.name_search",
            "registry.Person.sex",
            "registry.Person.birth_year",
            "registry.Person.birth_date_enc",
            "registry.Person.birth_place",
            "registry.Household.kk_enc",
            "registry.Household.kk_index",
        ),
        note=_(
            "NIK dan nomor KK disimpan terenkripsi dengan indeks buta untuk pencarian; tanggal "
            "lahir lengkap terenkripsi, hanya tahun lahir yang terbuka."
        ),
    ),
    DataCategory(
        key="registry.family",
        label=_("Susunan keluarga: hubungan dengan kepala keluarga, status perkawinan"),
        fields=("registry.Person.relationship", "registry.Person.marital_status"),
    ),
    DataCategory(
        key="registry.address",
        label=_("Alamat: desa/kelurahan, RT, RW, jalan"),
        fields=(
            "registry.Household.village",
            "registry.Household.address",
            "registry.Household.rt",
            "registry.Household.rw",
        ),
    ),
    DataCategory(
        key="registry.socioeconomic",
        label=_("Kondisi sosial-ekonomi: rumah, aset, pendidikan, pekerjaan"),
        fields=(
            "registry.Household.floor_material",
            "registry.Household.wall_material",
            "registry.Household.roof_material",
            "registry.Household.floor_area_m2",
            "registry.Household.drinking_water",
            "registry.Household.toilet",
            "registry.Household.electricity",
            "registry.Household.electricity_va",
            "registry.Household.cooking_fuel",
            "registry.Household.owns_motorcycle",
            "registry.Household.owns_refrigerator",
            "registry.Household.owns_car",
            "registry.Household.owns_land",
            "registry.Household.land_area_m2",
            "registry.Household.livestock_count",
            "registry.Person.education",
            "registry.Person.work_sector",
        ),
    ),
    DataCategory(
        key="registry.health",
        label=_("Disabilitas dan kehamilan"),
        fields=("registry.Person.disability", "registry.Person.pregnant"),
        specific=Specific.HEALTH,
    ),
    DataCategory(
        key="registry.children",
        label=_("Data anak: tanggal lahir dan jenjang sekolah anggota di bawah 18 tahun"),
        fields=("registry.Person.birth_date_enc", "registry.Person.school_level"),
        specific=Specific.CHILD,
    ),
    DataCategory(
        key="registry.contact",
        label=_("Nomor telepon seluler"),
        fields=("registry.Person.phone_enc", "registry.Person.phone_index"),
        note=_("Disimpan terenkripsi."),
    ),
    DataCategory(
        key="registry.financial",
        label=_("Rekening bank atau akun dompet elektronik dan nama pemiliknya"),
        fields=(
            "registry.FinancialAddress.kind",
            "registry.FinancialAddress.provider",
            "registry.FinancialAddress.account_enc",
            "registry.FinancialAddress.account_index",
            "registry.FinancialAddress.holder_name",
        ),
        specific=Specific.FINANCIAL,
        note=_("Nomor rekening disimpan terenkripsi."),
    ),
    DataCategory(
        key="registry.death",
        label=_("Tanggal meninggal"),
        fields=("registry.Person.deceased_on",),
    ),
    DataCategory(
        key="registry.history",
        label=_("Riwayat perubahan: isi data sebelum dan sesudah, sumber, petugas"),
        fields=(
            "registry.ChangeRecord.before",
            "registry.ChangeRecord.after",
            "registry.ChangeRecord.source",
            "registry.ChangeRecord.reason",
            "registry.ChangeRecord.actor_label",
        ),
        note=_("NIK, KK, telepon dan rekening hanya tersamar di riwayat."),
    ),
)

ACTIVITIES = (
    Activity(
        key="registry.social_registry",
        name=_("Registri sosial keluarga"),
        purpose=_(
            "Mencatat keluarga dan anggotanya beserta kondisi sosial-ekonominya sebagai dasar "
            "penetapan sasaran dan penyaluran bantuan sosial, dengan riwayat setiap perubahan."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 13/2011 tentang Penanganan Fakir Miskin (pendataan, verifikasi dan validasi); "
            "UU 11/2009 tentang Kesejahteraan Sosial"
        ),
        subjects=(Subject.HOUSEHOLD_MEMBER, Subject.CHILD, Subject.BENEFICIARY),
        categories=(
            "registry.identity",
            "registry.family",
            "registry.address",
            "registry.socioeconomic",
            "registry.health",
            "registry.children",
            "registry.contact",
            "registry.financial",
            "registry.death",
            "registry.history",
        ),
        models=(
            "registry.Household",
            "registry.Person",
            "registry.FinancialAddress",
            "registry.ChangeRecord",
        ),
        sources=_(
            "Pendataan petugas, muat data registri, dan kiriman instansi melalui integrasi data."
        ),
    ),
)

_WHILE_REGISTERED = _(
    "Disimpan selama keluarga terdaftar di registri sosial. Berakhir dengan penghapusan atas "
    "permintaan subjek data bila tidak ada kewajiban retensi (UU 27/2022 Pasal 8, 43), "
    "melalui layanan registri dan pelindungan data."
)

RETENTION = (
    Retention(
        key="registry.household",
        model="registry.Household",
        label=_("Keluarga terdaftar"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_WHILE_REGISTERED,
    ),
    Retention(
        key="registry.person",
        model="registry.Person",
        label=_("Anggota keluarga terdaftar"),
        timestamp="created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_WHILE_REGISTERED,
    ),
    Retention(
        key="registry.financial_address",
        model="registry.FinancialAddress",
        label=_("Rekening dan akun pembayaran, termasuk yang sudah diganti"),
        timestamp="valid_from",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama keluarga terdaftar: rekening lama menjelaskan ke mana pembayaran "
            "terdahulu dikirim."
        ),
    ),
    Retention(
        key="registry.change_history",
        model="registry.ChangeRecord",
        label=_("Riwayat perubahan registri"),
        timestamp="at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama keluarga terdaftar: menunjukkan siapa mengubah apa, kapan dan dari "
            "sumber mana (UU 27/2022 Pasal 31). Nilai pengenal di dalamnya tidak terbaca lagi "
            "setelah penghapusan subjek data (kunci subjek dimusnahkan)."
        ),
    ),
)

DECLARATION = AppDeclaration(
    app="registry",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    export_sections=SECTIONS,
)
