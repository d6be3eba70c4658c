"""QR codes of public trace pages, drawn server-side as inline SVG by segno."""

from __future__ import annotations

import segno


def qr_svg(url: str) -> str:
    """An inline <svg> QR code of `url`, scaled by its viewBox to any width."""
    code = segno.make(url, error="m")
    # No xmldecl/namespace: it sits inside an HTML page; the caller gives it a label.
    return code.svg_inline(scale=4, border=2, omitsize=True, dark="#2b1d14")
