"""Targets and definitions, stored as key → JSON in the `settings` table, over documented defaults.

`get_settings(con)` gives every key: the stored value where there is one, else the default below
(targets merge name by name, so storing one target keeps the others' defaults). `save_settings(con,
{key: value, …}, user=…)` needs an admin (PermissionDenied otherwise) and checks every value before
storing any, raising ValueError with a sentence saying what to fix; segment rules are refused unless
they cover each of the 25 (R, F) cells exactly once.
"""
from __future__ import annotations

import json
import numbers
from datetime import datetime, timezone

import duckdb

from .access import ADMIN, User, require

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

TARGETS: dict[str, float | None] = {  # KPI name → target (None: no target); shares are fractions
    "revenue": None, "active_customers": None, "new_customers": None,
    "repeat_customer_rate": 0.6, "retention": 0.75, "churned_customers": None,
    "top20_revenue_share": 0.8, "csat": 4.2, "nps": 30, "maintenance_share": 0.3,
    "referrals": None, "reference_willing": None, "median_first_response_hours": 4,
    "sla_share": 0.9, "complaints_per_100": 5,
}

DEFAULTS: dict[str, object] = {
    "sla_first_response_hours": 4,     # a first response within this many hours meets the SLA
    "sla_resolution_hours": 48,        # a resolution within this many hours meets the SLA
    "churn_window_days": 365,          # lapsed: no order for longer than this
    "lapsed_by_own_gap": False,        # True: lapsed after 3× the customer's own median gap when it has one
    "super_customer_threshold": 3,     # criteria (of 4) a super customer meets
    "segment_rules": SEGMENT_RULES,
    "targets": TARGETS,
}


def get_settings(con: duckdb.DuckDBPyConnection) -> dict:
    """The defaults overlaid with what is stored (targets merge key by key)."""
    stored = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM settings").fetchall()}
    merged = {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}
    merged["targets"] = {**TARGETS, **stored.get("targets", {})}
    return merged


def segment_rule_problems(rules: list[dict]) -> list[str]:
    """Gaps and overlaps of a segment rule set over the 25 (R, F) cells; empty when the set is sound."""
    owners: dict[tuple[int, int], list[str]] = {(r, f): [] for r in range(1, 6) for f in range(1, 6)}
    problems = []
    names = [str(rule.get("name", "")).strip() for rule in rules]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"The segment name '{name}' is used by more than one rule.")
    for rule, name in zip(rules, names):
        try:
            (r_lo, r_hi), (f_lo, f_hi) = (int(v) for v in rule["r"]), (int(v) for v in rule["f"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"{name or 'A rule'}: give R and F each as a range of two scores from 1 to 5.")
            continue
        if not name:
            problems.append(f"The rule for R {r_lo}–{r_hi}, F {f_lo}–{f_hi} needs a segment name.")
        if not (1 <= r_lo <= r_hi <= 5 and 1 <= f_lo <= f_hi <= 5):
            problems.append(f"{name}: R and F ranges must lie within 1–5, low before high.")
            continue
        for r in range(r_lo, r_hi + 1):
            for f in range(f_lo, f_hi + 1):
                owners[(r, f)].append(name)
    for (r, f), cell_owners in owners.items():
        if not cell_owners:
            problems.append(f"R {r}, F {f} belongs to no segment.")
        elif len(cell_owners) > 1:
            problems.append(f"R {r}, F {f} belongs to {' and '.join(cell_owners)}.")
    return problems


def _number(value, low: float, high: float, what: str, integer: bool = False) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (integer and int(value) != value):
        return [f"{what} must be {'a whole number' if integer else 'a number'}."]
    if not low <= value <= high:
        return [f"{what} must lie between {low:g} and {high:g}."]
    return []


def setting_problems(key: str, value: object) -> list[str]:
    """What is wrong with a value for `key` (empty when it can be stored)."""
    if key not in DEFAULTS:
        return [f"Unknown setting '{key}' (known: {', '.join(DEFAULTS)})."]
    if key == "segment_rules":
        if not isinstance(value, list) or not all(isinstance(rule, dict) for rule in value):
            return ["Segment rules must be a list of rules (name, R range, F range)."]
        return segment_rule_problems(value)
    if key == "targets":
        if not isinstance(value, dict):
            return ["Targets must map KPI names to numbers (or empty)."]
        problems = [f"Unknown KPI '{name}'." for name in value if name not in TARGETS]
        problems += [f"The target of {name} must be a number or empty." for name, target in value.items()
                     if target is not None and (isinstance(target, bool) or not isinstance(target, numbers.Real))]
        return problems
    if key == "lapsed_by_own_gap":
        return [] if isinstance(value, bool) else ["lapsed_by_own_gap must be true or false."]
    if key == "super_customer_threshold":
        return _number(value, 1, 4, "The super-customer threshold", integer=True)
    if key == "churn_window_days":
        return _number(value, 1, 3650, "The churn window (days)", integer=True)
    return _number(value, 0.01, 24 * 365, f"{key.replace('_', ' ')}")


def save_setting(con: duckdb.DuckDBPyConnection, key: str, value: object, *, user: User) -> None:
    """Store one setting (see save_settings)."""
    save_settings(con, {key: value}, user=user)


def save_settings(con: duckdb.DuckDBPyConnection, values: dict[str, object], *, user: User) -> None:
    """Store settings after checking them all, in one transaction; settings are the admin's
    (PermissionDenied otherwise), and a value with problems raises ValueError with nothing stored."""
    require(user, ADMIN, "Changing settings")
    refused = [f"The setting {key} is not saved: " + " ".join(problems)
               for key, problems in ((k, setting_problems(k, v)) for k, v in values.items()) if problems]
    if refused:
        raise ValueError(" ".join(refused))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.executemany("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
                        [[key, json.dumps(value), now] for key, value in values.items()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
