"""Plot geometry checks shared by the edge importer and the hub; pure, no I/O.

Positions are GeoJSON (longitude, latitude) on WGS 84. Validity comes from shapely,
areas from pyproj's geodesic on the WGS 84 ellipsoid.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from pyproj import Geod
from shapely import Point, Polygon
from shapely.geometry import shape
from shapely.validation import explain_validity

# EU 2023/1115 (EUDR) art. 2(28): a plot over 4 ha needs a polygon, not a point.
POINT_MAX_HA = 4.0
# Mapped area this far from the declared one is flagged: ratio outside 1/2..2, and
# at least half a hectare apart so tiny plots are not flagged for GPS noise.
AREA_RATIO_MIN = 0.5
AREA_RATIO_MAX = 2.0
AREA_MIN_GAP_HA = 0.5
# A mapped polygon above this is a mapping slip (a village or a district walked,
# or a coordinate typo), not a smallholder's cocoa plot.
PLOT_MAX_HA = 500.0
# Share of the smaller plot covered by another for the two to count as one polygon.
DUPLICATE_OVERLAP = 0.9

REJECT = "reject"
REVIEW = "review"
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class GeoIssue:
    """One finding about a plot: a stable code, a human message, reject or review."""

    code: str
    message: str
    severity: str = REJECT


@dataclass
class PlotCheck:
    """The findings about one plot geometry and its mapped area."""

    issues: list[GeoIssue] = field(default_factory=list)
    area_ha: float | None = None

    @property
    def rejected(self) -> bool:
        return any(issue.severity == REJECT for issue in self.issues)


@cache
def cocoa_zone() -> Polygon:
    """The bounding polygon of the southern cocoa belt of Côte d'Ivoire and Ghana."""
    text = resources.files("shared").joinpath("cocoa_zone.geojson").read_text()
    return shape(json.loads(text)["features"][0]["geometry"])


def area_ha(geometry: dict) -> float | None:
    """Geodesic area of a GeoJSON Polygon in hectares; None for a Point."""
    if geometry.get("type") != "Polygon":
        return None

    area, _perimeter = _GEOD.geometry_area_perimeter(shape(geometry))
    return abs(area) / 10_000


def check_plot(geometry: dict, declared_area_ha: float | None = None) -> PlotCheck:
    """Check a plot's GeoJSON geometry; stops at the first fault that rejects it."""
    result = PlotCheck()
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Point":
        _check_point(geometry, declared_area_ha, result)
    elif kind == "Polygon":
        _check_polygon(geometry, declared_area_ha, result)
    else:
        result.issues.append(
            GeoIssue("geometry-type", f"geometry type {kind!r} is not Point or Polygon")
        )
    return result


def _check_point(geometry: dict, declared: float | None, result: PlotCheck) -> None:
    position = geometry.get("coordinates")
    if not _is_position(position):
        result.issues.append(
            GeoIssue("geometry-invalid", "a point needs [longitude, latitude] numbers")
        )
        return

    zone_issue = _zone_issue(Point(position[:2]))
    if zone_issue:
        result.issues.append(zone_issue)
        return

    if declared is not None and declared > POINT_MAX_HA:
        result.issues.append(
            GeoIssue(
                "point-over-4ha",
                f"the plot is declared as {declared:g} ha but mapped as a single point; "
                f"a plot over {POINT_MAX_HA:g} ha must be mapped as a polygon "
                "(walk its boundary)",
            )
        )


def _check_polygon(geometry: dict, declared: float | None, result: PlotCheck) -> None:
    rings = geometry.get("coordinates")
    ring_issue = _rings_issue(rings)
    if ring_issue:
        result.issues.append(ring_issue)
        return

    polygon = Polygon(rings[0], rings[1:])
    if not polygon.is_valid:
        result.issues.append(_validity_issue(polygon))
        return

    zone_issue = _zone_issue(polygon.representative_point())
    if zone_issue:
        result.issues.append(zone_issue)
        return

    result.area_ha = area_ha(geometry)
    if result.area_ha > PLOT_MAX_HA:
        result.issues.append(
            GeoIssue(
                "plot-too-large",
                f"the polygon covers {result.area_ha:,.0f} ha; cocoa plots are rarely "
                "above 100 ha; check the geometry",
            )
        )
        return

    area_issue = _area_issue(result.area_ha, declared)
    if area_issue:
        result.issues.append(area_issue)


def _rings_issue(rings) -> GeoIssue | None:
    if not isinstance(rings, list) or not rings:
        return GeoIssue("geometry-invalid", "a polygon needs at least one ring")

    for number, ring in enumerate(rings, start=1):
        name = "outer ring" if number == 1 else f"hole {number - 1}"
        if not isinstance(ring, list) or not all(_is_position(p) for p in ring):
            return GeoIssue(
                "geometry-invalid", f"{name} holds something other than positions"
            )
        if len(ring) < 4:
            return GeoIssue(
                "too-few-positions",
                f"{name} has {len(ring)} positions; a polygon needs at least 4 "
                "(three corners and the first one repeated to close it)",
            )
        if ring[0][:2] != ring[-1][:2]:
            return GeoIssue(
                "ring-not-closed",
                f"{name} is not closed: it starts at {_where(ring[0])} and ends at "
                f"{_where(ring[-1])}; the last position must repeat the first",
            )

    return None


def _validity_issue(polygon: Polygon) -> GeoIssue:
    reason = explain_validity(polygon)
    if reason.startswith("Self-intersection"):
        at = reason.partition("[")[2].rstrip("]").split()
        place = _where([float(at[0]), float(at[1])]) if len(at) == 2 else "a point"
        return GeoIssue(
            "self-intersecting",
            f"the boundary crosses itself near {place} (a bow-tie shape); the corners "
            "are probably out of order",
        )

    return GeoIssue("geometry-invalid", f"the polygon is not valid: {reason}")


def _zone_issue(point: Point) -> GeoIssue | None:
    zone = cocoa_zone()
    if zone.contains(point):
        return None

    swapped = Point(point.y, point.x)
    if zone.contains(swapped):
        return GeoIssue(
            "coordinates-swapped",
            f"the plot lies at {_where([point.x, point.y])}, outside Côte d'Ivoire; "
            f"read the other way round it lies at {_where([swapped.x, swapped.y])} "
            "in the cocoa belt, so latitude and longitude look swapped "
            "(GeoJSON wants longitude first)",
        )

    return GeoIssue(
        "outside-cocoa-zone",
        f"the plot lies at {_where([point.x, point.y])}, outside the cocoa belt of "
        "southern Côte d'Ivoire and Ghana; check the position",
    )


def _area_issue(mapped: float, declared: float | None) -> GeoIssue | None:
    if not declared:
        return None

    ratio = mapped / declared
    far = ratio < AREA_RATIO_MIN or ratio > AREA_RATIO_MAX
    if not far or abs(mapped - declared) < AREA_MIN_GAP_HA:
        return None

    return GeoIssue(
        "area-mismatch",
        f"declared area {declared:g} ha but the mapped polygon covers {mapped:.2f} ha; "
        "accepted and flagged for review",
        REVIEW,
    )


def duplicates(geometry: dict, others: Iterable[tuple[str, dict]]) -> list[str]:
    """Codes of the `others` (code, geometry) whose polygon is essentially this one."""
    if geometry.get("type") != "Polygon":
        return []

    mine = shape(geometry)
    found = []
    for code, other in others:
        if other.get("type") != "Polygon":
            continue
        theirs = shape(other)
        if not theirs.is_valid or not mine.intersects(theirs):
            continue
        smaller = min(mine.area, theirs.area)
        if smaller and mine.intersection(theirs).area / smaller >= DUPLICATE_OVERLAP:
            found.append(code)

    return found


def same_polygon(geometry: dict, other: dict) -> bool:
    """Whether two GeoJSON polygons cover the same ground (any start or direction)."""
    return shape(geometry).equals(shape(other))


def _is_position(value) -> bool:
    return (
        isinstance(value, list)
        and 2 <= len(value) <= 3
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value)
    )


def _where(position) -> str:
    lon, lat = position[0], position[1]
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.4f}°{ns} {abs(lon):.4f}°{ew}"
