"""An inline SVG map of plots drawn to scale, with a scale bar and north arrow; no I/O.

There are no tiles and no internet: plots are projected with pyproj onto an azimuthal
equidistant plane centred on them, so metres on the map are metres on the ground.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pyproj import Transformer

WIDTH, HEIGHT, PAD = 640, 400, 16
FOOT = 34  # room under the plots for the scale bar
# Colour-blind-safe palette (Okabe and Ito, 2008), in legend order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000")
OTHER = "#999"
# Past this many plots the labels would cover the shapes; titles still name each one.
MAX_LABELS = 40
MIN_SHAPE_PX = 5  # a polygon smaller than this on screen also gets a marker


@dataclass(frozen=True)
class Shape:
    code: str
    kind: str  # "polygon" or "point"
    points: str  # "x,y x,y ..." in SVG units, or "x,y" for a point
    colour: str
    group: str
    label_x: float
    label_y: float
    marker: bool = False  # also draw a dot: the polygon is too small to see
    labelled: bool = True

    @property
    def cx(self) -> str:
        return self.points.split(",")[0]

    @property
    def cy(self) -> str:
        return self.points.split(",")[1]


@dataclass
class PlotMap:
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    colour_by: str = "cooperative"
    labels: bool = True
    scale_px: float = 0.0
    scale_text: str = ""
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def scale_y(self) -> float:
        return self.height - FOOT / 2


def colour_key(plot: dict, colour_by: str) -> str:
    """The legend group of `plot`: its cooperative or its first certification."""
    if colour_by == "certification":
        certs = sorted(plot.get("certifications") or [])
        return certs[0] if certs else "not certified"
    return plot.get("org") or "unknown"


def plot_map(plots: list[dict], colour_by: str | None = None) -> PlotMap:
    """Shapes for GeoJSON Point/Polygon plots on one metric scale, coloured by group."""
    rings = [(p, _rings(p["geometry"])) for p in plots]
    coords = [c for _, rs in rings for ring in rs for c in ring]
    if colour_by not in ("cooperative", "certification"):
        several = len({p.get("org") for p in plots}) > 1
        colour_by = "cooperative" if several else "certification"
    result = PlotMap(colour_by=colour_by, labels=len(plots) <= MAX_LABELS)
    if not coords:
        return result

    project = _projection(coords)
    metres = {id(ring): [project(c) for c in ring] for _, rs in rings for ring in rs}
    xs = [x for ring in metres.values() for x, _ in ring]
    ys = [y for ring in metres.values() for _, y in ring]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    scale = min(
        (WIDTH - 2 * PAD) / max(span_x, 1.0),
        (HEIGHT - 2 * PAD - FOOT) / max(span_y, 1.0),
    )
    # Centre the drawing in the frame whichever side is the limiting one.
    left = (WIDTH - span_x * scale) / 2 - min(xs) * scale
    top = (HEIGHT - FOOT - span_y * scale) / 2 + max(ys) * scale

    groups = sorted({colour_key(p, colour_by) for p, _ in rings})
    colours = {
        g: PALETTE[i] if i < len(PALETTE) else OTHER for i, g in enumerate(groups)
    }
    result.legend = [(g, colours[g]) for g in groups]
    for plot, rs in rings:
        group = colour_key(plot, colour_by)
        for ring in rs:
            pts = [(left + x * scale, top - y * scale) for x, y in metres[id(ring)]]
            result.shapes.append(_shape(plot["id"], pts, colours[group], group))
    result.scale_px, result.scale_text = _scale_bar(scale)
    if result.labels:
        result.shapes = _place_labels(result.shapes)
    else:
        result.shapes = [replace(s, labelled=False) for s in result.shapes]
    return result


def _place_labels(shapes: list[Shape]) -> list[Shape]:
    """Label each plot once, skipping labels that would cover one already placed."""
    boxes: list[tuple[float, float, float, float]] = []
    placed = []
    seen: set[str] = set()
    for s in shapes:
        box = (s.label_x, s.label_y - 9, s.label_x + 5.6 * len(s.code), s.label_y + 2)
        free = s.code not in seen and not any(_overlap(box, b) for b in boxes)
        if free:
            boxes.append(box)
            seen.add(s.code)
        placed.append(replace(s, labelled=free))
    return placed


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _shape(code: str, pts: list, colour: str, group: str) -> Shape:
    kind = "point" if len(pts) == 1 else "polygon"
    xs, ys = [x for x, _ in pts], [y for _, y in pts]
    small = (
        kind == "polygon" and max(max(xs) - min(xs), max(ys) - min(ys)) < MIN_SHAPE_PX
    )
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    return Shape(code, kind, text, colour, group, max(xs) + 4, min(ys) + 4, small)


def _projection(coords: list):
    lon = (min(c[0] for c in coords) + max(c[0] for c in coords)) / 2
    lat = (min(c[1] for c in coords) + max(c[1] for c in coords)) / 2
    crs = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    to_plane = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return lambda c: to_plane.transform(c[0], c[1])


def _scale_bar(px_per_m: float) -> tuple[float, str]:
    """The longest 1-2-5 round distance that fits in a quarter of the map width."""
    target = WIDTH / 4 / px_per_m
    step = 1.0
    while step * 10 <= target:
        step *= 10
    length = max((m * step for m in (1, 2, 5) if m * step <= target), default=step)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return length * px_per_m, text


def _rings(geometry: dict) -> list[list]:
    if geometry.get("type") == "Point":
        return [[geometry["coordinates"][:2]]]
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    return []
