"""Small inline SVG charts: weekly volumes and per-lot mass balance; no I/O."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.units import kg, kg_value

CHART_W, CHART_H = 640, 200
AXIS_L, AXIS_B, TOP = 52, 28, 24
BALANCE_W, BAR_H, LABEL_W = 640, 22, 150
# Colours of the mass-balance parts, legible on white and told apart without colour
# too: each part is also named in the bar's title and in the table beside it.
PARTS = (
    ("here", "used in this product", "#4a2c1a"),
    ("other", "used in products", "#a0724f"),
    ("lost", "lost before use (drying, transport)", "#d9a441"),
    ("left", "left in stock", "#8fbf7f"),
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: str


@dataclass
class BarChart:
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = CHART_W
    height: int = CHART_H
    total: str = ""

    @property
    def base(self) -> int:
        return self.height - AXIS_B


def weekly_kg(days: list[tuple[str, int]]) -> BarChart:
    """Bars of kg per ISO week (Monday first) from (YYYY-MM-DD, grams) per day."""
    weeks: dict[date, int] = defaultdict(int)
    for day, grams in days:
        d = date.fromisoformat(day[:10])
        weeks[d - timedelta(days=d.weekday())] += grams or 0
    chart = BarChart(total=kg(sum(weeks.values())))
    if not weeks:
        return chart

    first, last = min(weeks), max(weeks)
    span = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    top = _nice_top(max(weeks.values()) / 1000)
    plot_h = CHART_H - AXIS_B - TOP
    slot = (CHART_W - AXIS_L) / len(span)
    for i, monday in enumerate(span):
        grams = weeks.get(monday, 0)
        h = plot_h * grams / 1000 / top
        label = monday.strftime("%d %b") if _labelled(i, len(span)) else ""
        bar = Bar(
            AXIS_L + i * slot + slot * 0.15,
            TOP + plot_h - h,
            slot * 0.7,
            h,
            label,
            f"week of {monday.isoformat()}: {kg(grams)}",
        )
        chart.bars.append(bar)
    chart.ticks = [(TOP + plot_h * (1 - f), f"{top * f:,.0f}") for f in (0, 0.5, 1)]
    return chart


def _labelled(i: int, n: int) -> bool:
    # About eight labels at most, so dates never run into each other.
    return i % max(1, -(-n // 8)) == 0


def _nice_top(value: float) -> float:
    """The smallest 1-2-5 round number at or above `value` (1 at least)."""
    step = 1.0
    while step * 10 < value:
        step *= 10
    return next((m * step for m in (1, 2, 5, 10) if m * step >= value), 10 * step)


@dataclass(frozen=True)
class Segment:
    part: str
    colour: str
    x: float
    w: float
    title: str


@dataclass(frozen=True)
class BalanceRow:
    lot: str
    y: float
    kg_in: str
    kg_used: str
    kg_left: str
    segments: list[Segment]
    supplier: str = ""


@dataclass
class Balance:
    rows: list[BalanceRow] = field(default_factory=list)
    width: int = BALANCE_W
    height: int = 0
    legend: list = field(default_factory=list)


def mass_balance(lots: list[dict]) -> Balance:
    """A bar per lot: in = used here + used elsewhere + lost + left, to one scale."""
    top = max((lot["lot_quantity_g"] for lot in lots), default=0) or 1
    scale = (BALANCE_W - LABEL_W - 4) / top
    result = Balance(height=len(lots) * (BAR_H + 8) + 4)
    here = _any_here(lots)
    result.legend = [
        (key, "used in other products" if key == "other" and here else name, colour)
        for key, name, colour in PARTS
        if key != "here" or here
    ]
    for i, lot in enumerate(lots):
        parts = _parts(lot)
        x, segments = LABEL_W, []
        for key, name, colour in result.legend:
            grams = parts[key]
            if grams > 0:
                title = f"{lot['id']}: {kg(grams)} {name}"
                segments.append(Segment(key, colour, x, grams * scale, title))
                x += grams * scale
        result.rows.append(
            BalanceRow(
                lot["id"],
                4 + i * (BAR_H + 8),
                kg_value(lot["lot_quantity_g"]),
                kg_value(lot.get("used_g", 0)),
                kg_value(lot["remaining_g"]),
                segments,
                lot.get("supplier") or "",
            )
        )
    return result


def _any_here(lots: list[dict]) -> bool:
    return any("here_g" in lot for lot in lots)


def _parts(lot: dict) -> dict[str, int]:
    used_all = lot.get("used_g", 0)
    # `here_g`, on a product page only, is the part of the lot this product used.
    here = lot.get("here_g", 0)
    left = max(lot["remaining_g"], 0)
    return {
        "here": here,
        "other": max(used_all - here, 0),
        "lost": max(lot["lot_quantity_g"] - used_all - left, 0),
        "left": left,
    }
