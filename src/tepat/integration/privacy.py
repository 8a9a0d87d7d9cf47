"""What data integration holds (agency deliveries, quarantine, linkage), and for how long."""

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
from tepat.integration.subject_export import SECTIONS

CATEGORIES = (
    DataCategory(
        key="integration.source_identity",
        label=_("Identitas dari kiriman instansi: NIK, nomor KK, nama, jenis kelamin, lahir, umur"),
        fields=(
            "integration.StagedRecord.nik_enc",
            "integration.StagedRecord.nik_index",
            "integration.StagedRecord.kk_enc",
            "integration.StagedRecord.kk_index",
            "integration.StagedRecord.full_name",
            "integration.StagedRecord.sex",
            "integration.StagedRecord.birth_date",
            "integration.StagedRecord.birth_place",
            "integration.StagedRecord.age",
            "integration.StagedRecord.deceased_on",
        ),
        note=_("NIK dan nomor KK disimpan terenkripsi dengan indeks buta."),
    ),
    DataCategory(
        key="integration.source_address",
        label=_("Alamat dari kiriman instansi"),
        fields=(
            "integration.StagedRecord.village_code",
            "integration.StagedRecord.address",
            "integration.StagedRecord.rt",
            "integration.StagedRecord.rw",
        ),
    ),
    DataCategory(
        key="integration.source_attributes",
        label=_(
            "Atribut khusus sumber: golongan gaji, daya listrik, kondisi rumah dari survei, "
            "kolom lain sebagaimana dikirim"
        ),
        fields=("integration.StagedRecord.attrs",),
    ),
    DataCategory(
        key="integration.quarantine",
        label=_("Baris kiriman yang ditolak validasi, utuh sebagaimana dikirim (terenkripsi)"),
        fields=("integration.QuarantinedRow.raw_enc", "integration.QuarantinedRow.reason"),
    ),
    DataCategory(
        key="integration.upload_waiting",
        label=_("Berkas kiriman instansi yang menunggu diproses, utuh (terenkripsi)"),
        fields=("integration.ImportUpload.content_enc",),
        note=_("Dihapus begitu proses latar membacanya."),
    ),
    DataCategory(
        key="integration.linkage",
        label=_(
            "Hasil pencocokan: klaster orang, rekaman emas dengan asal tiap nilai, pasangan "
            "untuk ditinjau, bendera kelayakan"
        ),
        fields=(
            "integration.StagedRecord.cluster_id",
            "integration.StagedRecord.person",
            "integration.GoldenRecord.fields",
            "integration.GoldenRecord.registry_persons",
            "integration.ReviewPair.left_key",
            "integration.ReviewPair.right_key",
            "integration.ReviewPair.probability",
            "integration.Flag.kind",
            "integration.Flag.detail",
        ),
        note=_(
            "Bendera 'meninggal', 'ganda', 'ASN', 'listrik besar', 'pindah' dan 'NIK tidak "
            "ditemukan' memengaruhi kelayakan bantuan."
        ),
    ),
)

ACTIVITIES = (
    Activity(
        key="integration.matching",
        name=_("Integrasi dan pencocokan data antarinstansi"),
        purpose=_(
            "Menerima kiriman data instansi, menolak baris yang salah ke karantina, mencocokkan "
            "orang yang sama antar sumber dan dengan registri (Splink), memperbarui registri "
            "dari sumber yang berwenang, dan menandai orang yang meninggal, ganda, ASN, "
            "berdaya listrik besar atau pindah."
        ),
        basis=LegalBasis.PUBLIC_TASK,
        basis_detail=_(
            "UU 13/2011 tentang Penanganan Fakir Miskin (verifikasi dan validasi data); "
            "UU 24/2013 tentang Administrasi Kependudukan (pemanfaatan data kependudukan)"
        ),
        subjects=(Subject.SOURCE_PERSON, Subject.HOUSEHOLD_MEMBER),
        categories=(
            "integration.source_identity",
            "integration.source_address",
            "integration.source_attributes",
            "integration.quarantine",
            "integration.upload_waiting",
            "integration.linkage",
        ),
        models=(
            "integration.ImportUpload",
            "integration.StagedRecord",
            "integration.QuarantinedRow",
            "integration.GoldenRecord",
            "integration.ReviewPair",
            "integration.Flag",
        ),
        automated=_(
            "Pencocokan otomatis menggabungkan rekaman orang yang sama dan memasang bendera "
            "kelayakan; pasangan yang meragukan ditinjau petugas, dan bendera dapat disanggah."
        ),
        sources=_("Dukcapil, survei sosial-ekonomi (DTSEN), BPJS Kesehatan, gaji ASN, PLN."),
    ),
)

RETENTION = (
    Retention(
        key="integration.staged_superseded",
        model="integration.StagedRecord",
        label=_("Rekaman kiriman instansi yang sudah digantikan kiriman lebih baru"),
        timestamp="run__started_at",
        keep=years(1),
        action=Action.DELETE,
        reason=_(
            "Rekaman yang digantikan tidak dipakai lagi untuk pencocokan; disimpan setahun "
            "agar perubahan antar kiriman dapat diperiksa."
        ),
        where={"current": False},
    ),
    Retention(
        key="integration.staged_current",
        model="integration.StagedRecord",
        label=_("Rekaman kiriman instansi yang berlaku"),
        timestamp="run__started_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_(
            "Disimpan selama instansi sumber belum mengirim penggantinya: dasar pencocokan dan "
            "asal nilai registri."
        ),
        where={"current": True},
    ),
    Retention(
        key="integration.quarantine_resolved",
        model="integration.QuarantinedRow",
        label=_("Baris karantina yang sudah dikirim ulang atau dibuang"),
        timestamp="run__started_at",
        keep=days(90),
        action=Action.DELETE,
        reason=_("Setelah dibetulkan atau dibuang, baris asli hanya perlu untuk pemeriksaan."),
        where={"status__in": ("resubmitted", "discarded")},
    ),
    Retention(
        key="integration.quarantine_open",
        model="integration.QuarantinedRow",
        label=_("Baris karantina yang belum ditangani"),
        timestamp="run__started_at",
        keep=years(1),
        action=Action.DELETE,
        reason=_(
            "Baris yang tidak dibetulkan dalam setahun tidak akan dipakai; kiriman berikutnya "
            "dari instansi menggantikannya."
        ),
        where={"status": "open"},
    ),
    Retention(
        key="integration.uploads_waiting",
        model="integration.ImportUpload",
        label=_("Berkas kiriman yang menunggu proses latar"),
        timestamp="created_at",
        keep=days(1),
        action=Action.DELETE,
        reason=_(
            "Proses latar menghapusnya saat membacanya, atau bersama impor yang terputus; "
            "yang masih tertinggal sehari kemudian dihapus."
        ),
    ),
    Retention(
        key="integration.golden",
        model="integration.GoldenRecord",
        label=_("Rekaman emas hasil pencocokan"),
        timestamp="link_run__started_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Dibangun ulang oleh setiap pencocokan; disimpan selama rekaman sumbernya ada."),
    ),
    Retention(
        key="integration.review_pairs",
        model="integration.ReviewPair",
        label=_("Pasangan rekaman untuk ditinjau dan keputusan petugas"),
        timestamp="link_run__started_at",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Keputusan petugas diingat oleh setiap pencocokan berikutnya."),
    ),
    Retention(
        key="integration.flags",
        model="integration.Flag",
        label=_("Bendera kelayakan"),
        timestamp="as_of",
        keep=days(0),
        action=Action.KEEP,
        reason=_("Diganti oleh pencocokan berikutnya; dasar keputusan kelayakan yang berlaku."),
    ),
)

DECLARATION = AppDeclaration(
    app="integration",
    activities=ACTIVITIES,
    categories=CATEGORIES,
    retention=RETENTION,
    no_personal_data=(
        "integration.Source",
        "integration.ImportRun",
        "integration.LinkModel",
        "integration.LinkRun",
        # The background-work queue: task names, ids of runs and users, outcomes.
        "django_tasks_database.DBTaskResult",
    ),
    export_sections=SECTIONS,
)
