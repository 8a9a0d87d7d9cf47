"""Coded values from the registry's choices, as index arrays the generator can sample into."""

from __future__ import annotations

from django.db import models

from tepat.registry import choices


def values(enum: type[models.TextChoices]) -> tuple[str, ...]:
    return tuple(str(v) for v in enum.values)


def code(enum: type[models.TextChoices], value: str) -> int:
    """Index of a value in the enum's values (what the generator stores)."""
    return values(enum).index(value)


REL = values(choices.Relationship)
MARITAL = values(choices.MaritalStatus)
EDUCATION = values(choices.Education)
SCHOOL = values(choices.SchoolLevel)
WORK = values(choices.WorkSector)
DISABILITY = values(choices.Disability)
BANKS = tuple(choices.BANKS)
EWALLETS = tuple(choices.EWALLETS)

HEAD = code(choices.Relationship, "head")
SPOUSE = code(choices.Relationship, "spouse")
CHILD = code(choices.Relationship, "child")
CHILD_IN_LAW = code(choices.Relationship, "child_in_law")
GRANDCHILD = code(choices.Relationship, "grandchild")
PARENT = code(choices.Relationship, "parent")
PARENT_IN_LAW = code(choices.Relationship, "parent_in_law")
OTHER_FAMILY = code(choices.Relationship, "other_family")
OTHER = code(choices.Relationship, "other")

SINGLE = code(choices.MaritalStatus, "single")
MARRIED = code(choices.MaritalStatus, "married")
DIVORCED = code(choices.MaritalStatus, "divorced")
WIDOWED = code(choices.MaritalStatus, "widowed")

# Education is ordered from none to university in the enum; the generator relies on that.
EDU_NONE, EDU_SD, EDU_SMP, EDU_SMA, EDU_DIPLOMA, EDU_UNIVERSITY = (
    code(choices.Education, v) for v in ("none", "sd", "smp", "sma", "diploma", "university")
)
SCHOOL_NONE, SCHOOL_SD, SCHOOL_SMP, SCHOOL_SMA = (
    code(choices.SchoolLevel, v) for v in ("", "sd", "smp", "sma")
)
CIVIL_SERVANT = code(choices.WorkSector, "civil_servant")
NOT_WORKING = code(choices.WorkSector, "not_working")
