from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("Provinsi")
    REGENCY = "regency", _("Kabupaten/Kota")
    DISTRICT = "district", _("Kecamatan")
    VILLAGE = "village", _("Desa/Kelurahan")


# Length of the undotted Kemendagri code at each level: 32, 3273, 327301, 3273011001.
CODE_LENGTH = {Level.PROVINCE: 2, Level.REGENCY: 4, Level.DISTRICT: 6, Level.VILLAGE: 10}


class Region(models.Model):
    """A Kemendagri region. `code` is undotted (the NIK/KK prefix form); `dotted_code` as published."""

    code = models.CharField(max_length=10, primary_key=True)
    dotted_code = models.CharField(max_length=13, unique=True)
    name = models.CharField(max_length=128)
    level = models.CharField(max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_constraint=False,
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.dotted_code} {self.name}"


class RegionBoundary(models.Model):
    """A boundary polygon imported by an operator (GeoJSON geometry), joined on the region code."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="boundary")
    geometry = models.JSONField()
    source = models.CharField(max_length=255, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"boundary {self.region_id}"
