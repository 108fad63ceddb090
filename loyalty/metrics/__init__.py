"""The analytics engine (DESIGN section 4): one module per concept, each a few named, parameterized
DuckDB queries over the scope defined in `scope`. Pages, reports and the CLI call only these."""
