"""The social registry: households (No. KK), persons (NIK), financial addresses and history.

NIK, No. KK, phone and account numbers are stored encrypted (AES-GCM, tepat.core.crypto) with a
blind index for exact lookup; they never appear in clear in the database, the history or logs.
Each ciphertext is bound to its row (tepat.registry.sealed). The full birth date is encrypted
too: a NIK is district + birth date + a serial that is nearly always 0001, so a clear date next
to a NIK's blind index gave the NIK away; only the birth year stays in clear.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from tepat.core.ids import new_public_id
from tepat.registry import choices as c
from tepat.registry import sealed


class Household(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    kk_enc = models.TextField()
    kk_index = models.CharField(max_length=32, unique=True)
    village = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="households", db_index=True
    )
    address = models.CharField(max_length=255, blank=True)
    rt = models.CharField(max_length=3, blank=True)
    rw = models.CharField(max_length=3, blank=True)
    # Housing and assets: the proxies DTSEN and Susenas use.
    floor_material = models.CharField(max_length=16, choices=c.FloorMaterial.choices, blank=True)
    wall_material = models.CharField(max_length=16, choices=c.WallMaterial.choices, blank=True)
    roof_material = models.CharField(max_length=16, choices=c.RoofMaterial.choices, blank=True)
    floor_area_m2 = models.PositiveIntegerField(null=True, blank=True)
    drinking_water = models.CharField(max_length=16, choices=c.DrinkingWater.choices, blank=True)
    toilet = models.CharField(max_length=16, choices=c.Toilet.choices, blank=True)
    electricity = models.CharField(max_length=16, choices=c.Electricity.choices, blank=True)
    electricity_va = models.PositiveIntegerField(null=True, blank=True)
    cooking_fuel = models.CharField(max_length=16, choices=c.CookingFuel.choices, blank=True)
    owns_motorcycle = models.BooleanField(default=False)
    owns_refrigerator = models.BooleanField(default=False)
    owns_car = models.BooleanField(default=False)
    owns_land = models.BooleanField(default=False)
    land_area_m2 = models.PositiveIntegerField(null=True, blank=True)
    livestock_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Household {self.public_id}"


class Person(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    nik_enc = models.TextField()
    nik_index = models.CharField(max_length=32, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    relationship = models.CharField(max_length=16, choices=c.Relationship.choices)
    full_name = models.CharField(max_length=150)
    # Lower-cased, accent-free name for searching without exposing a decrypt path.
    name_search = models.CharField(max_length=150, db_index=True)
    sex = models.CharField(max_length=1, choices=c.Sex.choices)
    # The birth year in clear (ages at a date need the full date: `birth_date`, decrypted);
    # the full date encrypted, bound to this row. Read many with selectors.birth_dates.
    birth_year = models.PositiveSmallIntegerField()
    birth_date_enc = models.TextField()
    birth_place = models.CharField(max_length=100, blank=True)
    marital_status = models.CharField(max_length=16, choices=c.MaritalStatus.choices, blank=True)
    education = models.CharField(max_length=16, choices=c.Education.choices, blank=True)
    school_level = models.CharField(max_length=8, choices=c.SchoolLevel.choices, blank=True)
    work_sector = models.CharField(max_length=16, choices=c.WorkSector.choices, blank=True)
    disability = models.CharField(max_length=8, choices=c.Disability.choices, blank=True)
    pregnant = models.BooleanField(default=False)
    phone_enc = models.TextField(blank=True)
    phone_index = models.CharField(max_length=32, blank=True, db_index=True)
    deceased_on = models.DateField(null=True, blank=True)
    # UU 27/2022 Art. 11 / Art. 8: processing restricted (kept, not used for new decisions or
    # payments) and erased (identifying values removed, the person's subject key shredded).
    processing_restricted_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["household_id", "id"]
        constraints = [
            # At most one head per household; the database enforces it, not only the service.
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(relationship="head"),
                name="one_head_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"Person {self.public_id}"

    @property
    def birth_date(self) -> dt.date | None:
        """The full birth date, decrypted (once per ciphertext and instance)."""
        token = self.birth_date_enc
        if not token:
            return None
        held = self.__dict__.get("_birth_date")
        if held is not None and held[0] == token:
            return held[1]
        born = dt.date.fromisoformat(
            sealed.unseal(token, context=sealed.BIRTH_DATE, row=self.public_id)
        )
        self.__dict__["_birth_date"] = (token, born)
        return born

    @birth_date.setter
    def birth_date(self, born: dt.date | None) -> None:
        """Sets the encrypted date and the clear year together (None: forget the date, keep
        the year)."""
        if born is None:
            self.birth_date_enc = ""
            self.__dict__.pop("_birth_date", None)
            return
        self.birth_year = born.year
        self.birth_date_enc = sealed.seal_birth_date(born, row=self.public_id)
        self.__dict__["_birth_date"] = (self.birth_date_enc, born)


class FinancialAddress(models.Model):
    """Where a person is paid. A snapshot history: a change closes the old row and opens a new one."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="financial_addresses")
    kind = models.CharField(max_length=8, choices=c.FinancialKind.choices)
    provider = models.CharField(max_length=16)
    account_enc = models.TextField()
    account_index = models.CharField(max_length=32, db_index=True)
    holder_name = models.CharField(max_length=150, blank=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["person_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=models.Q(valid_to__isnull=True),
                name="one_current_address_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.provider}"


class ChangeRecord(models.Model):
    """Every change to the registry: who, when, from which source, and the record before and after.

    `before`/`after` are full snapshots of the non-secret fields (secrets appear only as masked
    values and blind indexes), so "as of" reads take the last snapshot at or before a moment.
    Their identifying values are sealed under the subject's own key (registry.snapshots): read
    them through `snapshots.open_records`; erasure shreds the key instead of rewriting rows.
    """

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        MOVE = "move"
        CLOSE = "close"

    at = models.DateTimeField(db_index=True)
    entity_type = models.CharField(max_length=24)  # household | person | financial_address
    entity_id = models.CharField(max_length=16)  # the entity's public_id
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=64)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["entity_type", "entity_id", "at"]),
            models.Index(fields=["household", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.action} {self.entity_type} {self.entity_id}"
