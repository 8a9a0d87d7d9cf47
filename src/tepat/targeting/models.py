"""Targeting: versioned PMT models, scoring runs with per-household scores and desil, eligibility
rules, scenarios (rule + quota) and their evaluation runs, and the truth to evaluate against.

Every run records who started it (`created_by`) and which model it used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tepat.core.ids import new_public_id


class PmtModel(models.Model):
    """A calibrated proxy-means test. `version` counts up; a model is never changed after saving."""

    class Method(models.TextChoices):
        OLS = "ols", _("OLS (kuadrat terkecil)")
        QUANTILE = "quantile", _("Regresi kuantil")
        ENET = "enet", _("Regresi teregularisasi (elastic net)")
        LOGIT = "logit", _("Regresi logistik (miskin/tidak)")
        ORDINAL = "ordinal", _("Regresi ordinal (kelas kesejahteraan)")
        GBM = "gbm", _("Gradient boosting (LightGBM)")
        ENSEMBLE = "ensemble", _("Gabungan model (ensemble)")

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=16, choices=Method.choices)
    quantile = models.FloatField(null=True, blank=True)
    area_effects = models.BooleanField(default=False)
    spec = models.JSONField()  # the parsed spec, as used
    spec_text = models.TextField(blank=True)  # the TOML as written
    parameters = models.JSONField()  # LinearPmt.as_dict(): what scoring needs
    coefficients = models.JSONField()  # readable: {"intercept": .., "floor_material=earth": ..}
    metrics = models.JSONField()  # {"cv": {...}, "train": {...}, "coverage": 0.4}
    training_summary = models.JSONField()
    # Out-of-fold predictions of the chosen model per usable survey row, for audit and independent
    # evaluation: {"row": [...], "fold": [...], "outcome": [...], "poor": [...], "score": [...]}.
    predictions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"PMT v{self.version} ({self.method})"


class ScoringRun(models.Model):
    class RankBy(models.TextChoices):
        HOUSEHOLDS = "households", _("Rumah tangga")
        PERSONS = "persons", _("Jiwa")

    class Status(models.TextChoices):
        RUNNING = "running", _("Berjalan")
        DONE = "done", _("Selesai")
        FAILED = "failed", _("Gagal")

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    model = models.ForeignKey(PmtModel, on_delete=models.PROTECT, related_name="scoring_runs")
    rank_by = models.CharField(max_length=12, choices=RankBy.choices, default=RankBy.HOUSEHOLDS)
    regional_level = models.PositiveSmallIntegerField(default=4)  # village-code prefix: 2/4/6
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    households = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Scoring {self.public_id} (PMT v{self.model.version})"


class HouseholdScore(models.Model):
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="pmt_scores"
    )
    score = models.FloatField()  # predicted log monthly per-capita consumption
    desil_national = models.PositiveSmallIntegerField()
    desil_regional = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["run_id", "score"]
        constraints = [
            models.UniqueConstraint(fields=["run", "household"], name="one_score_per_run")
        ]
        indexes = [models.Index(fields=["household", "run"])]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.score:.3f} (desil {self.desil_national})"


class Rule(models.Model):
    """A programme's eligibility rule as data: a small expression (tepat.targeting.rules)."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=100, unique=True)
    expression = models.TextField()
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scenario(models.Model):
    """A rule with quotas: what a programme would adopt. Compared side by side before adoption."""

    class QuotaMethod(models.TextChoices):
        NONE = "none", _("Tanpa kuota")
        PROPORTIONAL = "proportional", _("Proporsional perkiraan penduduk miskin")
        FIXED = "fixed", _("Kuota tetap per wilayah")

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=100, unique=True)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="scenarios")
    quota_method = models.CharField(max_length=16, choices=QuotaMethod.choices, default="none")
    quota_total = models.PositiveIntegerField(null=True, blank=True)  # households, national
    budget_rupiah = models.BigIntegerField(null=True, blank=True)
    benefit_rupiah = models.BigIntegerField(null=True, blank=True)  # per household
    region_level = models.PositiveSmallIntegerField(default=4)  # village-code prefix: 2/4/6/10
    fixed_quotas = models.JSONField(default=dict, blank=True)  # region code -> households
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EvaluationRun(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="evaluations")
    scoring_run = models.ForeignKey(ScoringRun, on_delete=models.PROTECT, related_name="+")
    rule_expression = models.TextField()  # as evaluated (the rule may change later)
    results = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Evaluation {self.public_id}"


class TruthConsumption(models.Model):
    """Known per-capita consumption of a registry household (synthetic truth or a matched survey),
    used only to measure targeting errors."""

    household = models.OneToOneField(
        "registry.Household", on_delete=models.CASCADE, related_name="truth_consumption"
    )
    consumption_pc = models.BigIntegerField()
    source = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.household_id}: {self.consumption_pc}"


class CommunityRankingImport(models.Model):
    """One file of village deliberation (musyawarah desa) results: a full rank per village
    (1 = poorest) or a yes/no list of the households the meeting chose. A later import of a
    village replaces the earlier ones for that village (tepat.targeting.community)."""

    class Kind(models.TextChoices):
        RANK = "rank", _("Peringkat penuh (1 = termiskin)")
        SELECTED = "selected", _("Daftar ya/tidak (dipilih musyawarah)")

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    label = models.CharField(max_length=100, blank=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    columns = models.JSONField(default=dict)  # the column mapping and delimiter used
    rows_read = models.PositiveIntegerField(default=0)
    rows_used = models.PositiveIntegerField(default=0)
    villages = models.JSONField(default=list)  # village codes it ranks
    region_code = models.CharField(max_length=10, blank=True)  # smallest region holding them
    # Rows set aside and warnings: [{"code", "field", "severity", "message", "count", "rows"}];
    # row numbers and codes only, never a No. KK.
    problems = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Community ranking {self.public_id} ({self.kind})"


class CommunityRanking(models.Model):
    """A household's place in its village's deliberation: a rank, or chosen yes/no."""

    ranking_import = models.ForeignKey(
        CommunityRankingImport, on_delete=models.CASCADE, related_name="entries"
    )
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="community_rankings"
    )
    village_code = models.CharField(max_length=10)
    rank = models.PositiveIntegerField(null=True, blank=True)  # 1 = poorest (full rank)
    selected = models.BooleanField(null=True, blank=True)  # chosen by the meeting (yes/no list)
    row = models.PositiveIntegerField()  # data row in the imported file (1 = first after header)

    class Meta:
        ordering = ["ranking_import_id", "village_code", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ranking_import", "household"], name="one_community_rank_per_import"
            ),
            models.CheckConstraint(
                condition=models.Q(rank__isnull=False) | models.Q(selected__isnull=False),
                name="community_rank_or_selected",
            ),
        ]
        indexes = [
            models.Index(fields=["village_code", "ranking_import"]),
            models.Index(fields=["household", "ranking_import"]),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.rank if self.rank is not None else self.selected}"
