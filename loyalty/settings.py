"""Targets and definitions, stored as key → JSON in the `settings` table, over documented defaults."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb

SEGMENT_RULES = [  # the widely used RFM map on (R, F); every one of the 25 cells in exactly one segment
    {"name": "Champions", "r": [5, 5], "f": [4, 5]},
    {"name": "Loyal Customers", "r": [3, 4], "f": [4, 5]},
    {"name": "Potential Loyalists", "r": [4, 5], "f": [2, 3]},
    {"name": "New Customers", "r": [5, 5], "f": [1, 1]},
    {"name": "Promising", "r": [4, 4], "f": [1, 1]},
    {"name": "Need Attention", "r": [3, 3], "f": [3, 3]},
    {"name": "About to Sleep", "r": [3, 3], "f": [1, 2]},
    {"name": "At Risk", "r": [1, 2], "f": [3, 4]},
    {"name": "Can't Lose Them", "r": [1, 2], "f": [5, 5]},
    {"name": "Hibernating", "r": [1, 2], "f": [1, 2]},
]

DEFAULTS: dict[str, object] = {
    "sla_first_response_hours": 4,
    "sla_resolution_hours": 48,
    "churn_window_days": 365,
    "lapsed_by_own_gap": False,        # True: lapsed after 3× the customer's own median gap instead
    "super_customer_threshold": 3,
    "segment_rules": SEGMENT_RULES,
    "targets": {
        "revenue": None, "active_customers": None, "new_customers": None,
        "repeat_customer_rate": 0.6, "retention": 0.75, "churned_customers": None,
        "top20_revenue_share": 0.8, "csat": 4.2, "nps": 30, "maintenance_share": 0.3,
        "referrals": None, "reference_willing": None, "median_first_response_hours": 4,
        "sla_share": 0.9, "complaints_per_100": 5,
    },
}


def get_settings(con: duckdb.DuckDBPyConnection) -> dict:
    """The defaults overlaid with what is stored (targets merge key by key)."""
    stored = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM settings").fetchall()}
    merged = {**DEFAULTS, **stored}
    merged["targets"] = {**DEFAULTS["targets"], **stored.get("targets", {})}
    return merged


def segment_rule_problems(rules: list[dict]) -> list[str]:
    """Gaps and overlaps of a segment rule set over the 25 (R, F) cells; empty when the set is sound."""
    owners: dict[tuple[int, int], list[str]] = {(r, f): [] for r in range(1, 6) for f in range(1, 6)}
    problems = []
    for rule in rules:
        (r_lo, r_hi), (f_lo, f_hi) = rule["r"], rule["f"]
        if not (1 <= r_lo <= r_hi <= 5 and 1 <= f_lo <= f_hi <= 5):
            problems.append(f"{rule['name']}: R and F ranges must lie within 1–5, low before high.")
            continue
        for r in range(r_lo, r_hi + 1):
            for f in range(f_lo, f_hi + 1):
                owners[(r, f)].append(rule["name"])
    for (r, f), names in owners.items():
        if not names:
            problems.append(f"R {r}, F {f} belongs to no segment.")
        elif len(names) > 1:
            problems.append(f"R {r}, F {f} belongs to {' and '.join(names)}.")
    return problems


def save_setting(con: duckdb.DuckDBPyConnection, key: str, value: object) -> None:
    """Store one setting; segment rules are refused unless they cover every cell exactly once."""
    if key not in DEFAULTS:
        raise ValueError(f"Unknown setting '{key}' (known: {', '.join(DEFAULTS)}).")
    if key == "segment_rules":
        problems = segment_rule_problems(value)  # type: ignore[arg-type]
        if problems:
            raise ValueError("The segment rules are not saved: " + " ".join(problems))
    con.execute(
        "INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
        [key, json.dumps(value), datetime.now(timezone.utc).replace(tzinfo=None)],
    )
