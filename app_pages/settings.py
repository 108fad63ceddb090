"""Settings: KPI targets, metric definitions (SLA, churn window, super-customer threshold), segment rules."""
import pandas as pd
import streamlit as st

from loyalty.metrics.scorecard import KPIS
from loyalty.settings import get_settings, save_setting, segment_rule_problems
from loyalty.ui import cached, clear_caches, store

st.title("Settings")
st.caption("Targets and definitions are stored in the database and apply to every page, download and report.")
settings = cached(get_settings)


def saved(message: str) -> None:
    clear_caches()
    st.session_state["settings-flash"] = message
    st.rerun()


if "settings-flash" in st.session_state:
    st.success(st.session_state.pop("settings-flash"))

st.subheader("KPI targets")
st.caption("Leave a target empty for no target. Shares are fractions (0.75 = 75%), times are hours.")
targets = pd.DataFrame([{"name": k.name, "KPI": k.label, "unit": k.unit,
                         "better when": "higher" if k.higher_is_better else "lower",
                         "target": settings["targets"].get(k.name)} for k in KPIS])
edited = st.data_editor(targets, hide_index=True, disabled=["name", "KPI", "unit", "better when"], height=35 * 16 + 3,
                        column_config={"name": None, "target": st.column_config.NumberColumn("Target", format="%g")},
                        key="settings-targets")
if st.button("Save targets", key="save-targets", type="primary"):
    values = {row["name"]: (None if pd.isna(row["target"]) else float(row["target"])) for row in edited.to_dict("records")}
    with store() as con:
        save_setting(con, "targets", values)
    saved("Targets saved.")

st.subheader("Definitions")
left, right = st.columns(2)
first = left.number_input("First-response SLA (hours)", min_value=0.25, max_value=720.0,
                          value=float(settings["sla_first_response_hours"]), step=0.25, key="sla-first")
resolution = left.number_input("Resolution SLA (hours)", min_value=1.0, max_value=2160.0,
                               value=float(settings["sla_resolution_hours"]), step=1.0, key="sla-resolution")
window = right.number_input("Churn window (days without an order)", min_value=30, max_value=1825,
                            value=int(settings["churn_window_days"]), step=15, key="churn-window")
own_gap = right.checkbox("Lapsed after 3× the customer's own median gap, when it has one",
                         value=bool(settings["lapsed_by_own_gap"]), key="own-gap")
threshold = right.number_input("Super customer: criteria to meet (of 4)", min_value=1, max_value=4,
                               value=int(settings["super_customer_threshold"]), key="super-threshold")
if st.button("Save definitions", key="save-definitions"):
    with store() as con:
        for key, value in (("sla_first_response_hours", first), ("sla_resolution_hours", resolution),
                           ("churn_window_days", int(window)), ("lapsed_by_own_gap", bool(own_gap)),
                           ("super_customer_threshold", int(threshold))):
            save_setting(con, key, value)
    saved("Definitions saved.")

st.subheader("RFM segment rules")
st.caption("Each rule names the R and F score ranges (1–5) of a segment. The rules must cover each of the 25 "
           "(R, F) cells exactly once; a rule set with gaps or overlaps is not saved.")
rules = pd.DataFrame([{"segment": r["name"], "R from": r["r"][0], "R to": r["r"][1], "F from": r["f"][0],
                       "F to": r["f"][1]} for r in settings["segment_rules"]])
edited_rules = st.data_editor(rules, hide_index=True, num_rows="dynamic", key="settings-rules")
if st.button("Save segment rules", key="save-rules"):
    proposed = [{"name": str(r["segment"]), "r": [int(r["R from"]), int(r["R to"])], "f": [int(r["F from"]), int(r["F to"])]}
                for r in edited_rules.dropna().to_dict("records")]
    problems = segment_rule_problems(proposed)
    if problems:
        st.error("Not saved: " + " ".join(problems))
    else:
        with store() as con:
            save_setting(con, "segment_rules", proposed)
        saved("Segment rules saved.")
