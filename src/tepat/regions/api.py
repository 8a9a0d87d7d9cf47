"""Regions API: public reference data (Kemendagri codes), so no log-in is needed."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.params import functions as param

from tepat.core.apischema import REGION_CODE_PATTERN, ErrorOut
from tepat.regions import selectors
from tepat.regions.models import Region

router = Router(tags=["regions"])

REGION_PATH = param.Path(
    ..., pattern=REGION_CODE_PATTERN, description="2, 4, 6 or 10 digits, dotted or not"
)


class RegionOut(Schema):
    code: str
    dotted_code: str
    name: str
    level: str
    parent_code: str | None

    @staticmethod
    def resolve_parent_code(obj: Region) -> str | None:
        return obj.parent_id


@router.get(
    "/",
    response=list[RegionOut],
    auth=None,
    summary="Provinsi / provinces",
    operation_id="regions_provinces",
)
def provinces(request: HttpRequest) -> list[Region]:
    return list(selectors.region_children(None))


@router.get(
    "/{code}",
    response={200: RegionOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
    summary="Satu wilayah / one region",
    operation_id="regions_get",
)
def region_detail(request: HttpRequest, code: str = REGION_PATH) -> Region:
    return selectors.region_get(code, field="code")


@router.get(
    "/{code}/children",
    response={200: list[RegionOut], 400: ErrorOut, 404: ErrorOut},
    auth=None,
    summary="Wilayah di bawahnya / child regions",
    operation_id="regions_children",
)
def region_children(request: HttpRequest, code: str = REGION_PATH) -> list[Region]:
    return list(selectors.region_children(code, field="code"))


@router.get(
    "/{code}/ancestors",
    response={200: list[RegionOut], 400: ErrorOut, 404: ErrorOut},
    auth=None,
    summary="Wilayah induk, dari provinsi sampai wilayah ini / province down to this region",
    operation_id="regions_ancestors",
)
def region_ancestors(request: HttpRequest, code: str = REGION_PATH) -> list[Region]:
    return selectors.region_ancestors(code, field="code")
