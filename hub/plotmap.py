"""An inline SVG map of plots, scaled to their bounding box (no tiles, no internet)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 480, 320, 12


@dataclass(frozen=True)
class Shape:
    code: str
    kind: str  # "polygon" or "point"
    points: str  # "x,y x,y ..." in SVG units, or "x,y" for a point


def shapes(plots: list[dict]) -> list[Shape]:
    """SVG shapes for GeoJSON Point/Polygon plots, sharing one scale."""
    rings = [(p["id"], _rings(p["geometry"])) for p in plots]
    coords = [c for _, rs in rings for ring in rs for c in ring]
    if not coords:
        return []

    lon0, lon1 = min(c[0] for c in coords), max(c[0] for c in coords)
    lat0, lat1 = min(c[1] for c in coords), max(c[1] for c in coords)
    span = max(lon1 - lon0, lat1 - lat0, 1e-6)
    scale = min(WIDTH, HEIGHT) - 2 * PAD

    def xy(c) -> str:
        x = PAD + (c[0] - lon0) / span * scale
        y = PAD + (lat1 - c[1]) / span * scale  # north up
        return f"{x:.1f},{y:.1f}"

    out = []
    for code, rs in rings:
        kind = "point" if len(rs) == 1 and len(rs[0]) == 1 else "polygon"
        for ring in rs:
            out.append(Shape(code, kind, " ".join(xy(c) for c in ring)))
    return out


def _rings(geometry: dict) -> list[list]:
    if geometry.get("type") == "Point":
        return [[geometry["coordinates"][:2]]]
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    return []
