"""Coded values of the registry, shared by the registry, `tepat synth` and data integration.

The codes follow the DTSEN / Susenas questionnaire categories in simplified form; labels are
Bahasa Indonesia (translated to English through Django i18n).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Laki-laki")
    FEMALE = "F", _("Perempuan")


class Relationship(models.TextChoices):
    HEAD = "head", _("Kepala keluarga")
    SPOUSE = "spouse", _("Istri/suami")
    CHILD = "child", _("Anak")
    CHILD_IN_LAW = "child_in_law", _("Menantu")
    GRANDCHILD = "grandchild", _("Cucu")
    PARENT = "parent", _("Orang tua")
    PARENT_IN_LAW = "parent_in_law", _("Mertua")
    OTHER_FAMILY = "other_family", _("Famili lain")
    OTHER = "other", _("Lainnya")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Belum kawin")
    MARRIED = "married", _("Kawin")
    DIVORCED = "divorced", _("Cerai hidup")
    WIDOWED = "widowed", _("Cerai mati")


class Education(models.TextChoices):
    """Highest level completed."""

    NONE = "none", _("Tidak/belum sekolah")
    SD = "sd", _("SD/sederajat")
    SMP = "smp", _("SMP/sederajat")
    SMA = "sma", _("SMA/SMK/sederajat")
    DIPLOMA = "diploma", _("Diploma")
    UNIVERSITY = "university", _("S1 atau lebih")


class SchoolLevel(models.TextChoices):
    """Where a person is enrolled now (children in school, for PKH components)."""

    NOT_IN_SCHOOL = "", _("Tidak bersekolah")
    SD = "sd", _("SD/sederajat")
    SMP = "smp", _("SMP/sederajat")
    SMA = "sma", _("SMA/SMK/sederajat")


class WorkSector(models.TextChoices):
    NOT_WORKING = "not_working", _("Tidak bekerja")
    AGRICULTURE = "agriculture", _("Pertanian, perkebunan")
    FISHERY = "fishery", _("Perikanan")
    MANUFACTURING = "manufacturing", _("Industri pengolahan")
    CONSTRUCTION = "construction", _("Konstruksi")
    TRADE = "trade", _("Perdagangan")
    TRANSPORT = "transport", _("Transportasi")
    SERVICES = "services", _("Jasa")
    CIVIL_SERVANT = "civil_servant", _("PNS/TNI/Polri")
    OTHER = "other", _("Lainnya")


class Disability(models.TextChoices):
    NONE = "", _("Tidak ada")
    MILD = "mild", _("Ringan/sedang")
    SEVERE = "severe", _("Berat")


class FloorMaterial(models.TextChoices):
    CERAMIC = "ceramic", _("Keramik/marmer/granit")
    TILE = "tile", _("Ubin/tegel/teraso")
    CEMENT = "cement", _("Semen/bata merah")
    WOOD = "wood", _("Kayu/papan")
    BAMBOO = "bamboo", _("Bambu")
    EARTH = "earth", _("Tanah")


class WallMaterial(models.TextChoices):
    BRICK = "brick", _("Tembok")
    PLASTER_BAMBOO = "plaster_bamboo", _("Plesteran anyaman bambu/kawat")
    WOOD = "wood", _("Kayu/papan")
    BAMBOO = "bamboo", _("Anyaman bambu")
    OTHER = "other", _("Lainnya")


class RoofMaterial(models.TextChoices):
    CONCRETE = "concrete", _("Beton")
    ROOF_TILE = "roof_tile", _("Genteng")
    ZINC = "zinc", _("Seng")
    ASBESTOS = "asbestos", _("Asbes")
    WOOD = "wood", _("Kayu/sirap")
    THATCH = "thatch", _("Jerami/ijuk/daun")


class DrinkingWater(models.TextChoices):
    BOTTLED = "bottled", _("Air kemasan/isi ulang")
    PIPED = "piped", _("Leding")
    PROTECTED_WELL = "protected_well", _("Sumur/mata air terlindung")
    UNPROTECTED = "unprotected", _("Sumur/mata air tak terlindung")
    SURFACE = "surface", _("Sungai/danau/air hujan")


class Toilet(models.TextChoices):
    PRIVATE = "private", _("Milik sendiri")
    SHARED = "shared", _("Bersama")
    PUBLIC = "public", _("Umum")
    NONE = "none", _("Tidak ada")


class Electricity(models.TextChoices):
    PLN_METER = "pln_meter", _("PLN dengan meteran")
    PLN_NO_METER = "pln_no_meter", _("PLN tanpa meteran")
    NON_PLN = "non_pln", _("Non-PLN")
    NONE = "none", _("Tidak ada listrik")


class CookingFuel(models.TextChoices):
    ELECTRIC = "electric", _("Listrik")
    LPG_LARGE = "lpg_large", _("Elpiji 5,5 kg atau lebih")
    LPG_3KG = "lpg_3kg", _("Elpiji 3 kg")
    KEROSENE = "kerosene", _("Minyak tanah")
    WOOD = "wood", _("Kayu bakar/arang")
    NONE = "none", _("Tidak memasak")


class FinancialKind(models.TextChoices):
    BANK = "bank", _("Rekening bank")
    EWALLET = "ewallet", _("Dompet elektronik")


# Himbara banks that hold KKS accounts, and common e-wallets.
BANKS = ("BRI", "BNI", "MANDIRI", "BSI", "BTN")
EWALLETS = ("GOPAY", "OVO", "DANA", "LINKAJA", "SHOPEEPAY")

# Electricity connections (VA) that PLN sells to households.
ELECTRICITY_VA = (0, 450, 900, 1300, 2200, 3500, 4400, 5500, 6600)
