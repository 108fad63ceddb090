"""The analytics engine (DESIGN section 4): one module per concept, each a few named, parameterized
DuckDB queries over the shared scope of `scope` (the period, as-of date and filters of `loyalty.period`).
Pages, reports and the CLI call only these functions, so their figures agree.

Conventions
- Every function takes (con, period[, options]) and returns a small DataFrame, a dict or a list;
  all aggregation happens in DuckDB, pandas only carries the (small) results out.
- Money: amounts are exact decimals in the store and are summed as decimals; figures leave the engine
  as Python floats (DOUBLE), rounded only for display and the report (to the cent).
- Shares are fractions (0.75 = 75%), times are hours, NPS is on −100…100.
- Missing inputs are explicit: a figure whose input columns hold no value at all is a
  `scope.Unavailable` ("not available: needs tickets.first_response_at"), and the `*_availability`
  functions say which parts of a table cannot be judged; None means "nothing to measure in this
  period" (for example a rate over zero customers). Neither is ever shown as 0.
- Several periods at once: the `*_by_window` functions compute a figure for a list of periods in one
  query (the scorecard's period, previous period and trend); the single-period functions are the
  one-window case of the same SQL.
"""
