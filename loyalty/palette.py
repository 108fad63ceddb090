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
