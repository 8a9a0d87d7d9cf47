"""Erasure of a person (UU 27/2022 Art. 8), one of registry.rights' erasure steps."""

from __future__ import annotations

from typing import Any

from tepat.verification.models import FaceTemplate, ProxyCollector


def verification_forget_person(*, person_ref: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights): the person's enrolled face
    template (biometric, specific data) and the proxies registered to collect for them (the
    proxies' names and card numbers, which they gave only for this person) are deleted."""
    faces, _n = FaceTemplate.objects.filter(person_ref=person_ref).delete()
    proxies, _n = ProxyCollector.objects.filter(person_ref=person_ref).delete()
    return faces + proxies
