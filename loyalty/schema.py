"""The canonical data model (DESIGN section 2): one spec drives the DDL, the mapping and the importer."""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("orders", "customers", "tickets", "surveys")
KIND_LABELS = {
    "orders": "Orders (shop, ERP or CRM export)",
    "customers": "Customers (CRM export)",
    "tickets": "Support tickets (help-desk export)",
    "surveys": "Surveys (NPS / CSAT answers)",
}

# Value kinds a canonical column can have; the importer parses each kind the same way everywhere.
TEXT, ID, DATE, TIMESTAMP, MONEY, NUMBER, INTEGER, BOOL, CHANNEL, TICKET_KIND = (
    "text", "id", "date", "timestamp", "money", "number", "integer", "bool", "channel", "ticket_kind",
)

SQL_TYPES = {
    TEXT: "VARCHAR", ID: "VARCHAR", DATE: "DATE", TIMESTAMP: "TIMESTAMP", MONEY: "DECIMAL(18,2)",
    NUMBER: "DECIMAL(18,3)", INTEGER: "SMALLINT", BOOL: "BOOLEAN", CHANNEL: "VARCHAR",
    TICKET_KIND: "VARCHAR",
}

CHANNELS = ("email", "phone", "web", "in_person", "edi", "other")
TICKET_KINDS = ("complaint", "inquiry", "praise", "outreach", "other")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    stored: bool = True  # False: an import-only helper column (for example a line's unit price)
    low: int | None = None  # inclusive range for INTEGER and NUMBER columns
    high: int | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class TableSpec:
    kind: str
    columns: tuple[Column, ...]
    key: str  # the stored key column: a natural id or a fingerprint
    natural_id: str | None  # the canonical column that is the key when present
    # A batch's current rows are written in order of this column, so a query over a date range skips the
    # storage blocks of other dates (DuckDB's zone maps): with monthly batches the whole table stays in order.
    stored_by: str | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.stored)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


SPECS: dict[str, TableSpec] = {
    "orders": TableSpec(
        "orders",
        (
            Column("customer_id", ID, required=True),
            Column("order_date", DATE, required=True),
            Column("amount", MONEY, required=True),
            Column("order_id", TEXT),
            Column("quantity", NUMBER),
            Column("product", TEXT),
            Column("channel", CHANNEL),
            Column("discount", MONEY),
            Column("sales_rep", TEXT),
            Column("promised_date", DATE),
            Column("delivered_date", DATE),
            Column("status", TEXT),
            Column("unit_price", MONEY, stored=False),
        ),
        key="order_key",
        natural_id="order_id",
        stored_by="order_date",
    ),
    "customers": TableSpec(
        "customers",
        (
            Column("customer_id", ID, required=True),
            Column("name", TEXT),
            Column("region", TEXT),
            Column("industry", TEXT),
            Column("created_at", DATE),
            Column("on_maintenance_plan", BOOL),
            Column("reference_willing", BOOL),
            Column("referred_by", ID),
            Column("account_team", TEXT),
        ),
        key="customer_key",
        natural_id="customer_id",
    ),
    "tickets": TableSpec(
        "tickets",
        (
            Column("customer_id", ID, required=True),
            Column("opened_at", TIMESTAMP, required=True),
            Column("ticket_id", TEXT),
            Column("first_response_at", TIMESTAMP),
            Column("resolved_at", TIMESTAMP),
            Column("channel", CHANNEL),
            Column("kind", TICKET_KIND),
            Column("csat", INTEGER, low=1, high=5),
            Column("reopened", BOOL),
            # durations: at most 100 years (52,560,000 minutes), so opened_at + minutes stays computable
            Column("first_response_minutes", NUMBER, stored=False, low=0, high=52_560_000),
            Column("resolution_minutes", NUMBER, stored=False, low=0, high=52_560_000),
        ),
        key="ticket_key",
        natural_id="ticket_id",
        stored_by="opened_at",
    ),
    "surveys": TableSpec(
        "surveys",
        (
            Column("customer_id", ID, required=True),
            Column("answered_at", TIMESTAMP, required=True),
            Column("nps", INTEGER, low=0, high=10),
            Column("csat", INTEGER, low=1, high=5),
        ),
        key="survey_key",
        natural_id=None,
        stored_by="answered_at",
    ),
}


def spec(kind: str) -> TableSpec:
    """The spec of one kind, with a clear error for an unknown kind."""
    if kind not in SPECS:
        raise ValueError(f"Unknown kind '{kind}': choose one of {', '.join(KINDS)}.")
    return SPECS[kind]
