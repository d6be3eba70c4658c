"""Quantities as people read them: the one place weights are formatted, edge and hub."""

from __future__ import annotations


def kg_value(grams: float | None) -> str:
    """Grams as a kilogram figure: `1,650`, `12.5`; a decimal only when needed."""
    value = round((grams or 0) / 1000, 1)
    return f"{value:,.1f}" if value % 1 else f"{value:,.0f}"


def kg(grams: float | None) -> str:
    """Grams as kilograms with the unit: `1,650 kg`, `12.5 kg`."""
    return f"{kg_value(grams)} kg"
