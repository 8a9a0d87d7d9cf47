"""Public transparency API: no log-in, aggregates only (hidden cells are null), DCAT catalogue."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema

from tepat.transparency import selectors

router = Router(tags=["transparency"], auth=None)


class PublicCycleOut(Schema):
    public_id: str
    programme_code: str
    programme_name: str
    cycle_code: str
    period_start: str
    period_end: str


class CellOut(Schema):
    region_code: str
    region_name: str
    level: str
    recipients: int | None
    amount: int | None
    paid: int | None
    amount_paid: int | None
    progress: int | None


class TableOut(Schema):
    cycle: PublicCycleOut
    region: CellOut
    trail: list[list[str]]
    child_level: str | None
    children: list[CellOut]
    threshold: int | None


class LedgerOut(Schema):
    log_size: int
    checkpoint_size: int | None
    checkpoint_at: str | None


def _cycle(c: selectors.PublicCycle) -> dict[str, Any]:
    return {
        "public_id": c.public_id,
        "programme_code": c.programme_code,
        "programme_name": c.programme_name,
        "cycle_code": c.cycle_code,
        "period_start": c.period_start.isoformat(),
        "period_end": c.period_end.isoformat(),
    }


@router.get("/cycles", response=list[PublicCycleOut], summary="Published cycles")
def cycles(request: HttpRequest) -> list[dict[str, Any]]:
    return [_cycle(c) for c in selectors.public_cycles()]


@router.get("/aggregates", response=TableOut, summary="A region and its children in one cycle")
def aggregates(
    request: HttpRequest, cycle: str | None = None, region: str | None = None
) -> dict[str, Any]:
    table = selectors.region_table(cycle_id=cycle, region_code=region)
    run = selectors.last_refresh()
    return {
        "cycle": _cycle(table.cycle),
        "region": table.region.as_dict(),
        "trail": [list(t) for t in table.trail],
        "child_level": table.child_level,
        "children": [c.as_dict() for c in table.children],
        "threshold": run.threshold if run else None,
    }


@router.get(
    "/boundaries",
    url_name="transparency_boundaries",
    summary="GeoJSON of the children's loaded boundaries with values",
)
def boundaries(
    request: HttpRequest, cycle: str | None = None, region: str | None = None
) -> dict[str, Any]:
    table = selectors.region_table(cycle_id=cycle, region_code=region)
    return selectors.boundaries(table=table) or {"type": "FeatureCollection", "features": []}


@router.get("/ledger", response=LedgerOut, summary="Transparency log size and latest checkpoint")
def ledger(request: HttpRequest) -> dict[str, Any]:
    panel = selectors.ledger_panel()
    at = panel["checkpoint_at"]
    return {
        "log_size": panel["log_size"],
        "checkpoint_size": panel["checkpoint_size"],
        "checkpoint_at": at.isoformat() if at else None,
    }


@router.get(
    "/catalog",
    url_name="transparency_catalog",
    summary="DCAT catalogue of the open-data releases (JSON-LD)",
)
def catalog(request: HttpRequest) -> dict[str, Any]:
    datasets = []
    for release in selectors.releases():
        for package in release.packages:
            datasets.append(
                {
                    "@type": "dcat:Dataset",
                    "@id": request.build_absolute_uri(
                        reverse("transparency:release", args=[release.public_id])
                    )
                    + f"#{package['name']}",
                    "dct:identifier": f"{package['name']}-{release.release_date.isoformat()}",
                    "dct:title": package["title"],
                    "dct:issued": release.release_date.isoformat(),
                    "dct:license": "https://creativecommons.org/licenses/by/4.0/",
                    "dct:publisher": {"@type": "foaf:Organization", "foaf:name": "Tepat"},
                    "dct:spatial": "Indonesia",
                    "dcat:keyword": ["bansos", "bantuan sosial", "open data"],
                    "dcat:distribution": [
                        {
                            "@type": "dcat:Distribution",
                            "dct:title": f["path"],
                            "dcat:downloadURL": request.build_absolute_uri(
                                reverse(
                                    "transparency:release_file",
                                    args=[release.public_id, f["path"]],
                                )
                            ),
                            "dcat:mediaType": "application/json"
                            if f["path"].endswith(".json")
                            else "text/csv",
                            "dcat:byteSize": f["bytes"],
                            **(
                                {
                                    "spdx:checksum": {
                                        "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                                        "spdx:checksumValue": f["sha256"],
                                    }
                                }
                                if "sha256" in f
                                else {}
                            ),
                        }
                        for f in package["files"]
                    ],
                }
            )
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "spdx": "http://spdx.org/rdf/terms#",
        },
        "@type": "dcat:Catalog",
        "dct:title": "Data terbuka Tepat",
        "dct:description": "Agregat bansos dengan penyembunyian sel kecil dan daftar nama disamarkan",
        "dcat:dataset": datasets,
    }
