"""What targeting computes about households (PMT scores, desil), and for how long."""

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
from tepat.targeting.subject_export import SECTIONS

CATEGORIES = (
    DataCategory(
        key="targeting.score",
        label=_("Skor kesejahteraan (PMT) dan peringkat desil nasional dan wilayah per keluarga"),
        fields=(
            "targeting.HouseholdScore.score",
            "targeting.HouseholdScore.desil_national",
            "targeting.HouseholdScore.desil_regional",
        ),
        note=_("Hasil penilaian otomatis yang menentukan kelayakan bantuan (profil)."),
    ),
    DataCategory(
        key="targeting.consumption",
        label=_("Pengeluaran per kapita keluarga yang diketahui (untuk mengukur ketepatan)"),
        fields=("targeting.TruthConsumption.consumption_pc",),
        specific=Specific.FINANCIAL,
    ),
    DataCategory(
        key="targeting.community",
        label=_("Peringkat atau pilihan keluarga dalam musyawarah desa"),
        fields=("targeting.CommunityRanking.rank", "targeting.CommunityRanking.selected"),
        note=_("Dari berita acara musyawarah desa yang diimpor petugas."),
    ),
)

ACTIVITIES = (
    Activity(
        key="targeting.pmt",
        name=_("Penetapan sasaran otomatis (PMT dan desil)"),
        purpose=_(
            "Memperkirakan kesejahteraan setiap keluarga dari kondisi rumah, aset, susunan "
            "keluarga dan wilayah dengan model proxy-means test, lalu memeringkatnya ke desil; "
            "aturan program memakai desil untuk menentukan siapa yang layak."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_("UU 13/2011 tentang Penanganan Fakir Miskin (penetapan sasaran)"),
        subjects=(Subject.HOUSEHOLD_MEMBER, Subject.CHILD),
        categories=(
            "targeting.score",
            "targeting.consumption",
            "registry.socioeconomic",
            "registry.family",
            "registry.address",
            "registry.health",
            "registry.children",
            "integration.linkage",
        ),
        models=("targeting.HouseholdScore", "targeting.TruthConsumption"),
        automated=_(
            "Ya: desil dihitung otomatis dan menentukan kelayakan menurut aturan program. Warga "
            "dapat mengajukan keberatan agar keputusan itu ditinjau petugas (UU 27/2022 Pasal 10)."
        ),
    ),
    Activity(
        key="targeting.community",
        name=_("Penargetan gabungan PMT dan musyawarah desa"),
        purpose=_(
            "Menyimpan hasil musyawarah desa (peringkat keluarga atau daftar yang dipilih) dan "
            "membandingkan atau menggabungkannya dengan PMT untuk menetapkan sasaran."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_("UU 13/2011 tentang Penanganan Fakir Miskin (verifikasi dan validasi)"),
        subjects=(Subject.HOUSEHOLD_MEMBER,),
        categories=("targeting.community", "targeting.score", "targeting.consumption"),
        models=("targeting.CommunityRanking",),
        sources=_("Berita acara musyawarah desa/kelurahan, diimpor petugas penargetan."),
    ),
)

RETENTION = (
    Retention(
        key="targeting.scores",
        model="targeting.HouseholdScore",
        label=_("Skor PMT dan desil setiap putaran skoring"),
        timestamp="run__started_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan: dasar keputusan yang dapat dijelaskan dan disanggah, dan dasar evaluasi "
            "skenario. Desil yang dipakai suatu tahap juga dibekukan pada hak bantuannya."
        ),
    ),
    Retention(
        key="targeting.truth",
        model="targeting.TruthConsumption",
        label=_("Pengeluaran keluarga yang diketahui"),
        timestamp="loaded_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama dipakai mengukur kesalahan penargetan; diganti bila dimuat ulang."
        ),
    ),
    Retention(
        key="targeting.community",
        model="targeting.CommunityRanking",
        label=_("Peringkat musyawarah desa per keluarga"),
        timestamp="ranking_import__created_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan: dasar daftar sasaran yang dapat dijelaskan dan disanggah; impor berikutnya "
            "untuk desa yang sama menggantikannya dalam perbandingan."
        ),
    ),
)

DECLARATION = AppDeclaration(
    app="targeting",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    no_personal_data=(
        "targeting.PmtModel",
        "targeting.ScoringRun",
        "targeting.Rule",
        "targeting.Scenario",
        "targeting.EvaluationRun",
        "targeting.CommunityRankingImport",
    ),
    export_sections=SECTIONS,
)
