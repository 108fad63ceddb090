"""The rules of thumb the product is built on, tested on the data in scope: each one's figure, sample
size and a plain-words verdict.

- 80/20: the top 20% of the period's customers bring 80% of its revenue (`concentration.revenue_concentration`).
  Verdict "holds" at 75% or more, "partly" from 60%, else "does not hold".
- Bad experiences: of the customers active in the previous period, those with 2 or more bad experiences
  in the year to its end leave (no order in this period) more often than the others
  (`experience.churn_by_experience`).
- Engagement: of the customers active in the previous period, the engaged ones (an outreach ticket in
  the previous period, or at least one request in it and every one first-answered within the SLA)
  leave less often than the others.
The two comparisons "hold" when the difference goes the rule's way and a two-sided two-proportion
z-test puts it below 5% (so small samples do not produce confident verdicts); with fewer than
`MIN_GROUP` customers in a group there is no verdict.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
from scipy.stats import norm

from ..metrics.activity import activity
from ..metrics.concentration import revenue_concentration
from ..metrics.experience import churn_by_experience
from ..metrics.responsiveness import _sla
from ..metrics.scope import frame, records
from ..period import Period

MIN_GROUP = 20
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    figure: str       # the measured figure in words
    sample: str       # who it was measured on
    verdict: str      # holds / partly / does not hold / cannot tell, with one sentence
    holds: bool | None


def two_proportion_p_value(left: int, left_n: int, right: int, right_n: int) -> float:
    """Two-sided p-value of the two-proportion z-test (pooled), 1.0 when there is no variation."""
    pooled = (left + right) / (left_n + right_n)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / left_n + 1 / right_n))
    if spread == 0:
        return 1.0
    return float(2 * norm.sf(abs(left / left_n - right / right_n) / spread))


def compare_leaving(rule: str, group: str, others: str, counts: tuple[int, int, int, int], more: bool) -> RuleCheck:
    """A verdict on "`group` leave more (`more`) or less often than `others`" from (left, customers) of each."""
    left, n, other_left, other_n = counts
    sample = f"{n:,} {group} and {other_n:,} {others}, active in the previous period"
    if min(n, other_n) < MIN_GROUP:
        return RuleCheck(rule, "—", sample, f"Cannot tell: fewer than {MIN_GROUP} customers in a group.", None)
    rate, other = left / n, other_left / other_n
    ratio = f"{rate / other:.1f}× as often" if other else "while none of the others did"
    figure = f"{rate:.0%} of {group} did not order again, against {other:.0%} of {others} ({ratio})"
    p = two_proportion_p_value(left, n, other_left, other_n)
    goes_the_rule_way = rate > other if more else rate < other
    if goes_the_rule_way and p < SIGNIFICANCE:
        chance = "less than 0.1%" if p < 0.001 else f"{p:.1%}"
        return RuleCheck(rule, figure, sample, f"Holds on your data (a difference this large arises by chance "
                                               f"with probability {chance}).", True)
    if goes_the_rule_way:
        return RuleCheck(rule, figure, sample, f"Not shown: the difference goes the rule's way but could be chance "
                                               f"(p = {p:.2f}).", None)
    return RuleCheck(rule, figure, sample, "Does not hold on your data: the difference goes the other way or is nil.",
                     False)


def pareto_rule(con: duckdb.DuckDBPyConnection, period: Period) -> RuleCheck:
    rule = "The top 20% of customers bring 80% of revenue"
    share, active = revenue_concentration(con, period).top20_share, activity(con, period)["active"]
    sample = f"{active:,} customers active in the period"
    if share is None:
        return RuleCheck(rule, "—", sample, "Cannot tell: no revenue in the period.", None)
    figure = f"the top 20% brought {share:.0%} of the period's revenue"
    if share >= 0.75:
        return RuleCheck(rule, figure, sample, "Holds on your data.", True)
    if share >= 0.6:
        return RuleCheck(rule, figure, sample, "Partly: revenue is concentrated, though less than 80/20.", None)
    return RuleCheck(rule, figure, sample, "Does not hold: revenue is spread more evenly.", False)


def bad_experience_rule(con: duckdb.DuckDBPyConnection, period: Period) -> RuleCheck:
    table = {r["customers_with"]: r for r in records(churn_by_experience(con, period))}
    bad, rest = table.get("2 or more bad experiences", {}), table.get("fewer than 2", {})
    counts = (bad.get("churned", 0), bad.get("customers", 0), rest.get("churned", 0), rest.get("customers", 0))
    return compare_leaving("Customers with 2 or more bad experiences leave more often",
                           "customers with 2+ bad experiences", "other customers", counts, more=True)


ENGAGEMENT = """
contacts AS (  -- per customer: outreach and requests in the previous period, and requests answered within the SLA
    SELECT customer_id, count(*) FILTER (WHERE kind = 'outreach') AS outreach,
           count(*) FILTER (WHERE kind IS DISTINCT FROM 'outreach') AS requests,
           count(*) FILTER (WHERE kind IS DISTINCT FROM 'outreach'
                              AND first_response_at <= opened_at + to_seconds($sla_first * 3600)) AS answered_in_time
    FROM tickets_in_scope WHERE opened_at >= $prev_start AND opened_at < $start GROUP BY customer_id
),
engagement AS (
    SELECT p.active_now, coalesce(c.outreach > 0 OR (c.requests > 0 AND c.answered_in_time = c.requests), FALSE) AS engaged
    FROM previous_customers p LEFT JOIN contacts c USING (customer_id)
)
SELECT count(*) FILTER (WHERE engaged AND NOT active_now) AS engaged_left, count(*) FILTER (WHERE engaged) AS engaged,
       count(*) FILTER (WHERE NOT engaged AND NOT active_now) AS others_left, count(*) FILTER (WHERE NOT engaged) AS others
FROM engagement
"""


def engagement_rule(con: duckdb.DuckDBPyConnection, period: Period) -> RuleCheck:
    counts = frame(con, ENGAGEMENT, period, **_sla(con))
    figures = records(counts)[0]
    return compare_leaving("Engaged customers (outreach, or requests answered within the SLA) stay longer",
                           "engaged customers", "other customers",
                           tuple(int(figures[k] or 0) for k in ("engaged_left", "engaged", "others_left", "others")),
                           more=False)


def rules_of_thumb(con: duckdb.DuckDBPyConnection, period: Period) -> list[RuleCheck]:
    """The three rules of thumb checked on the period (see the module docstring)."""
    return [pareto_rule(con, period), bad_experience_rule(con, period), engagement_rule(con, period)]
