"""Settings: KPI targets, metric definitions (SLA, churn window, super-customer threshold), segment rules.

Everyone sees them; only admins can edit and save (for other roles every control is disabled, with a
sentence saying why, and `save_setting` refuses anyway)."""
import pandas as pd
import streamlit as st

from loyalty.access import ADMIN, PermissionDenied, refusal
from loyalty.metrics.scorecard import KPIS
from loyalty.settings import get_settings, save_settings, segment_rule_problems
from loyalty.ui import cached, clear_caches, current_user, store

st.title("Settings")
st.caption("Targets and definitions are stored in the database and apply to every page, download and report.")
settings = cached(get_settings)
user = current_user()
refused = refusal(user, ADMIN, "Changing settings")
if refused:
    st.info(f"{refused} The values below are the ones in force.")
locked = refused is not None


def save(values: dict, message: str) -> None:
    """Store the settings (all or none) and say so."""
    try:
        with store() as con:
            save_settings(con, values, user=user)
    except (ValueError, PermissionDenied) as exc:
        st.error(str(exc))
        return
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
edited = st.data_editor(targets, hide_index=True, disabled=locked or ["name", "KPI", "unit", "better when"],
                        height=35 * 16 + 3,
                        column_config={"name": None, "target": st.column_config.NumberColumn("Target", format="%g")},
                        key="settings-targets")
if st.button("Save targets", key="save-targets", type="primary", disabled=locked):
    values = {row["name"]: (None if pd.isna(row["target"]) else float(row["target"])) for row in edited.to_dict("records")}
    save({"targets": values}, "Targets saved.")

st.subheader("Definitions")
left, right = st.columns(2)
first = left.number_input("First-response SLA (hours)", min_value=0.25, max_value=720.0,
                          value=float(settings["sla_first_response_hours"]), step=0.25, key="sla-first", disabled=locked)
resolution = left.number_input("Resolution SLA (hours)", min_value=1.0, max_value=2160.0,
                               value=float(settings["sla_resolution_hours"]), step=1.0, key="sla-resolution", disabled=locked)
window = right.number_input("Churn window (days without an order)", min_value=30, max_value=1825,
                            value=int(settings["churn_window_days"]), step=15, key="churn-window", disabled=locked)
own_gap = right.checkbox("Lapsed after 3× the customer's own median gap, when it has one",
                         value=bool(settings["lapsed_by_own_gap"]), key="own-gap", disabled=locked)
threshold = right.number_input("Super customer: criteria to meet (of 4)", min_value=1, max_value=4,
                               value=int(settings["super_customer_threshold"]), key="super-threshold",
                               disabled=locked)
if st.button("Save definitions", key="save-definitions", disabled=locked):
    save({"sla_first_response_hours": first, "sla_resolution_hours": resolution, "churn_window_days": int(window),
          "lapsed_by_own_gap": bool(own_gap), "super_customer_threshold": int(threshold)}, "Definitions saved.")

st.subheader("RFM segment rules")
st.caption("Each rule names the R and F score ranges (1–5) of a segment. The rules must cover each of the 25 "
           "(R, F) cells exactly once; a rule set with gaps or overlaps is not saved.")
rules = pd.DataFrame([{"segment": r["name"], "R from": r["r"][0], "R to": r["r"][1], "F from": r["f"][0],
                       "F to": r["f"][1]} for r in settings["segment_rules"]])
edited_rules = st.data_editor(rules, hide_index=True, num_rows="fixed" if locked else "dynamic", disabled=locked,
                              key="settings-rules")
if st.button("Save segment rules", key="save-rules", disabled=locked):
    proposed = [{"name": str(r["segment"]), "r": [int(r["R from"]), int(r["R to"])], "f": [int(r["F from"]), int(r["F to"])]}
                for r in edited_rules.dropna().to_dict("records")]
    problems = segment_rule_problems(proposed)
    if problems:
        st.error("Not saved: " + " ".join(problems))
    else:
        save({"segment_rules": proposed}, "Segment rules saved.")
