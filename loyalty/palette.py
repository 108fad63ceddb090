"""One colour-blind-safe palette (Okabe–Ito) used the same way on every chart and in the briefing:
a segment, a stage or a status keeps its colour everywhere, and colour never carries meaning alone
(labels and symbols go with it)."""
from __future__ import annotations

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000", "#999999"]

STATUS = {  # colour, symbol, Streamlit badge colour
    "on target": ("#009E73", "✓", "green"),
    "within 10%": ("#E69F00", "≈", "orange"),
    "off": ("#D55E00", "✗", "red"),
    "no target": ("#999999", "–", "gray"),
    "no data": ("#999999", "?", "gray"),
}

SEGMENTS = {
    "Champions": "#0072B2", "Loyal Customers": "#56B4E9", "Potential Loyalists": "#009E73",
    "New Customers": "#CC79A7", "Promising": "#F0E442", "Need Attention": "#E69F00",
    "About to Sleep": "#999999", "At Risk": "#D55E00", "Can't Lose Them": "#000000", "Hibernating": "#BBBBBB",
}

STAGES = {"Prospect": "#BBBBBB", "First-time": "#56B4E9", "Repeat": "#0072B2", "Client": "#009E73",
          "Advocate": "#E69F00"}

SERIES = {"revenue": "#0072B2", "active": "#E69F00", "previous": "#999999", "nps": "#009E73", "csat": "#CC79A7",
          "complaints": "#D55E00"}


def segment_colour(name: str) -> str:
    """A segment's colour; segments of an edited rule set get palette colours by name."""
    return SEGMENTS.get(name, OKABE_ITO[sum(map(ord, name)) % len(OKABE_ITO)])


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a "#RRGGBB" colour (0 black, 1 white)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour(fill: str) -> str:
    """White or near-black, whichever contrasts more with the fill (WCAG contrast ratio): for labels drawn
    inside coloured marks."""
    light, dark = "#FFFFFF", "#1A1A1A"
    on_fill = _luminance(fill) + 0.05
    return light if (_luminance(light) + 0.05) / on_fill >= on_fill / (_luminance(dark) + 0.05) else dark
