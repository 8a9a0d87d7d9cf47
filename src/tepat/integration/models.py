"""Data integration: agency sources as configuration, import runs with quarantine, staged records,
linkage runs with a versioned Splink model, a clerical review queue and eligibility flags.

NIK and No. KK never sit in clear here either: staged and quarantined rows hold them encrypted
(tepat.core.crypto) with a blind index, like the registry does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tepat.core.ids import new_public_id


class Source(models.Model):
    """One agency source, declared as configuration (see integration/sources.py for the schema)."""

    key = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=150)
    config = models.JSONField()
    # Higher wins when two sources are authoritative for the same field.
    precedence = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-precedence", "key"]

    def __str__(self) -> str:
        return self.key


class ImportRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="runs")
    file_name = models.CharField(max_length=255)
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    delivered_on = models.DateField()
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    accepted_rows = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # A re-submission of corrected quarantined rows points at the run they came from.
    resubmission_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resubmissions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    # Last sign of life of the process validating the file (see import_runs_reap_stale).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # Re-importing the same file is a no-op: one successful run per content hash.
            models.UniqueConstraint(
                fields=["source", "content_hash"],
                condition=models.Q(status="done"),
                name="one_done_run_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.file_name}"


class ImportUpload(models.Model):
    """An uploaded delivery waiting for the worker (tepat.integration.tasks). The file holds NIKs
    in clear, so it is stored encrypted and bound to its run; the worker deletes it as soon as
    it has read it, and the reaper of interrupted runs deletes it if no worker ever did."""

    run = models.OneToOneField(ImportRun, on_delete=models.CASCADE, related_name="upload")
    content_enc = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"upload {self.run_id}"


class StagedRecord(models.Model):
    """An accepted row in canonical form. A later delivery with the same record id supersedes it."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="records")
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="records")
    record_id = models.CharField(max_length=64)
    row_number = models.PositiveIntegerField()
    current = models.BooleanField(default=True)
    nik_enc = models.TextField(blank=True)
    nik_index = models.CharField(max_length=32, blank=True, db_index=True)
    kk_enc = models.TextField(blank=True)
    kk_index = models.CharField(max_length=32, blank=True)
    full_name = models.CharField(max_length=150, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    birth_place = models.CharField(max_length=100, blank=True)
    village_code = models.CharField(max_length=10, blank=True, db_index=True)
    address = models.CharField(max_length=255, blank=True)
    rt = models.CharField(max_length=3, blank=True)
    rw = models.CharField(max_length=3, blank=True)
    deceased_on = models.DateField(null=True, blank=True)
    # Age in years as the source states it on delivery (a survey's household head): linkage
    # compares the birth year it implies where the record has no birth date.
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    # Source-specific attributes kept as delivered (salary grade, VA, consumption...).
    attrs = models.JSONField(default=dict, blank=True)
    # Set by the last linkage run: the cluster and, when it holds one, the registry person.
    cluster_id = models.CharField(max_length=40, blank=True, db_index=True)
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["source_id", "row_number"]
        indexes = [models.Index(fields=["source", "record_id", "current"])]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.record_id}"


class QuarantinedRow(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        RESUBMITTED = "resubmitted"
        DISCARDED = "discarded"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="quarantine")
    row_number = models.PositiveIntegerField()
    field = models.CharField(max_length=64)
    code = models.CharField(max_length=32)
    reason = models.CharField(max_length=500)
    # Every other problem of the same row, so one look tells the whole story.
    problems = models.JSONField(default=list)
    # The raw row as delivered (a JSON object), encrypted: it may hold a NIK in any form.
    raw_enc = models.TextField()
    village_code = models.CharField(max_length=10, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    resubmitted_in = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["run_id", "row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.code}"


class LinkModel(models.Model):
    """A trained Splink model, saved and versioned: later runs reuse it instead of retraining."""

    version = models.PositiveIntegerField(unique=True)
    settings_json = models.JSONField()
    trained_on_records = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    notes = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"model v{self.version}"


class LinkRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Mode(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    model = models.ForeignKey(LinkModel, null=True, on_delete=models.PROTECT, related_name="runs")
    engine = models.CharField(max_length=8, default="duckdb")
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.FULL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    stats = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"link {self.public_id}"


class ReviewPair(models.Model):
    """A pair of records the model is unsure about. The decision is remembered by later runs:
    an accepted pair is always linked, a rejected one never."""

    class Status(models.TextChoices):
        OPEN = "open"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    # Stable record keys ("<source>:<record id>", or "registry:<person public id>").
    left_key = models.CharField(max_length=100)
    right_key = models.CharField(max_length=100)
    probability = models.FloatField()
    village_code = models.CharField(max_length=10, blank=True, db_index=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    link_run = models.ForeignKey(LinkRun, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "-probability"]
        constraints = [
            models.UniqueConstraint(fields=["left_key", "right_key"], name="one_review_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.left_key} ~ {self.right_key}"


class GoldenRecord(models.Model):
    """The best-known values of one person cluster with per-field provenance."""

    cluster_id = models.CharField(max_length=40, unique=True)
    person = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    nik_index = models.CharField(max_length=32, blank=True, db_index=True)
    village_code = models.CharField(max_length=10, blank=True, db_index=True)
    # {field: {"value": ..., "source": key, "record": record id}}; no secret in clear.
    fields = models.JSONField(default=dict)
    sources = models.JSONField(default=list)
    # Every registry person in the cluster (more than one: a duplicate identity).
    registry_persons = models.JSONField(default=list)
    record_count = models.PositiveIntegerField(default=0)
    link_run = models.ForeignKey(LinkRun, on_delete=models.CASCADE, related_name="golden")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.cluster_id


class Flag(models.Model):
    """An eligibility flag on a registry person (and so on their household), with its source."""

    class Kind(models.TextChoices):
        DECEASED = "deceased"
        DUPLICATE = "duplicate"
        CIVIL_SERVANT = "civil_servant"
        HIGH_ELECTRICITY = "high_electricity"
        MOVED = "moved"
        NIK_NOT_FOUND = "nik_not_found"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    village_code = models.CharField(max_length=10, db_index=True)
    source = models.CharField(max_length=32)
    as_of = models.DateField()
    detail = models.CharField(max_length=255, blank=True)
    link_run = models.ForeignKey(LinkRun, on_delete=models.CASCADE, related_name="flags")

    class Meta:
        ordering = ["household_id", "kind"]
        indexes = [models.Index(fields=["household", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}@{self.household_id}"
