"""Column mapping: match a file's headers to canonical columns, let the user correct it, save it by name.

A mapping is a dict {canonical column: source header}. Headers match a canonical column when they are
equal after lower-casing and dropping everything but letters and digits, either to the column's name
or to one of its synonyms below. The first header that matches wins; a header is used once.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import duckdb

from .access import UPLOADER, User, require
from .schema import spec

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "orders": {
        "customer_id": ("customer id", "customerid", "cust id", "cust no", "customer", "customer number",
                        "customer no", "account", "account id", "account number", "client", "client id",
                        "email", "e-mail", "customer email", "buyer", "debtor", "kundennummer", "kunde"),
        "order_date": ("order date", "orderdate", "invoice date", "invoicedate", "date", "created at",
                       "paid at", "purchase date", "transaction date", "sale date", "order created",
                       "booking date", "datum", "created"),
        "amount": ("amount", "total", "sales", "revenue", "net amount", "net revenue", "order total",
                   "total amount", "net sales", "value", "order value", "invoice amount", "net total",
                   "grand total", "betrag", "umsatz", "total price"),
        "order_id": ("order id", "orderid", "order", "order #", "order no", "order number", "invoice",
                     "invoiceno", "invoice no", "invoice number", "invoice id", "name", "transaction id",
                     "document number", "receipt", "belegnummer", "id"),
        "quantity": ("quantity", "qty", "units", "lineitem quantity", "quantity ordered", "menge"),
        "product": ("product", "sku", "item", "stockcode", "stock code", "product name", "description",
                    "lineitem name", "lineitem sku", "article", "product id"),
        "channel": ("channel", "sales channel", "order channel", "source", "order source"),
        "discount": ("discount", "discount amount", "discounts", "rebate"),
        "sales_rep": ("sales rep", "salesrep", "rep", "sales person", "salesperson", "account manager",
                      "owner", "seller", "sales agent"),
        "promised_date": ("promised date", "promised", "due date", "requested date", "promise date",
                          "requested delivery date"),
        "delivered_date": ("delivered date", "delivered", "delivery date", "shipped date", "ship date",
                           "fulfilled at", "actual delivery date"),
        "status": ("status", "order status", "financial status", "state"),
        "unit_price": ("unit price", "unitprice", "price", "lineitem price", "price each", "item price"),
    },
    "customers": {
        "customer_id": ("customer id", "customerid", "cust id", "customer", "account", "account id",
                        "customer number", "client id", "id", "email", "e-mail"),
        "name": ("name", "customer name", "company", "company name", "account name", "client name"),
        "region": ("region", "territory", "area", "country", "state"),
        "industry": ("industry", "sector", "segment", "vertical"),
        "created_at": ("created at", "created", "since", "customer since", "first contact", "signup date",
                       "signed up", "prospect since", "date added"),
        "on_maintenance_plan": ("on maintenance plan", "maintenance plan", "maintenance", "service plan",
                                "service contract", "support plan", "subscription"),
        "reference_willing": ("reference willing", "reference", "referenceable", "reference customer",
                              "willing to be reference", "reference ok"),
        "referred_by": ("referred by", "referrer", "referral from", "referred by customer", "referral"),
        "account_team": ("account team", "team", "reps", "sales team", "account reps", "account owners"),
    },
    "tickets": {
        "customer_id": ("customer id", "customerid", "customer", "requester", "requester email",
                        "account", "email", "contact email", "organization"),
        "opened_at": ("opened at", "opened", "created at", "created", "created date", "submitted at",
                      "date opened", "open date"),
        "ticket_id": ("ticket id", "ticketid", "ticket", "id", "ticket number", "case id", "case number"),
        "first_response_at": ("first response at", "first response", "first reply at", "first replied at",
                              "responded at"),
        "resolved_at": ("resolved at", "resolved", "solved at", "closed at", "closed", "resolution date"),
        "channel": ("channel", "via", "source", "contact channel"),
        "kind": ("kind", "type", "ticket type", "category", "case type"),
        "csat": ("csat", "satisfaction", "satisfaction score", "rating", "csat score"),
        "reopened": ("reopened", "reopens", "was reopened"),
        "first_response_minutes": ("first reply time in minutes", "first response time in minutes",
                                   "first reply time minutes", "first response minutes",
                                   "first reply time (min)"),
        "resolution_minutes": ("full resolution time in minutes", "resolution time in minutes",
                               "full resolution time minutes", "resolution minutes",
                               "first resolution time in minutes"),
    },
    "surveys": {
        "customer_id": ("customer id", "customerid", "customer", "account", "email", "respondent",
                        "respondent email"),
        "answered_at": ("answered at", "answered", "date", "submitted at", "response date", "created at",
                        "completed at", "survey date"),
        "nps": ("nps", "score", "nps score", "likelihood to recommend", "recommend", "how likely"),
        "csat": ("csat", "satisfaction", "satisfaction score", "csat score"),
    },
}


def normalise(header: str) -> str:
    """Lower-case letters and digits only: 'Order #' -> 'order', 'Cust. ID' -> 'custid'."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


def auto_map(kind: str, headers: list[str]) -> dict[str, str]:
    """Propose a mapping {canonical: header} for one file's headers."""
    columns = [c.name for c in spec(kind).columns]
    candidates = {c: [normalise(c)] + [normalise(s) for s in SYNONYMS[kind].get(c, ())] for c in columns}
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise(header), header)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    # Exact names first, then synonyms in their listed order (most specific first).
    for rank in range(max(len(v) for v in candidates.values())):
        for column in columns:
            names = candidates[column]
            if column in mapping or rank >= len(names):
                continue
            header = by_norm.get(names[rank])
            if header is not None and header not in used:
                mapping[column] = header
                used.add(header)
    return mapping


def merge(kind: str, headers: list[str], override: dict[str, str] | None) -> dict[str, str]:
    """The automatic mapping corrected by the user's choices: a header mapped by the user is taken
    away from any other column; an empty value unmaps the column."""
    mapping = auto_map(kind, headers)
    known = [c.name for c in spec(kind).columns]
    for column, header in (override or {}).items():
        if column not in known:
            raise ValueError(f"The mapping names '{column}', which is not one of the {kind} columns ({', '.join(known)}).")
        if header:
            if header not in headers:
                raise ValueError(
                    f"The mapping names the column '{header}' for {column}, but the file has no such "
                    f"column (it has: {', '.join(headers)})."
                )
            mapping = {c: h for c, h in mapping.items() if h != header}
            mapping[column] = header
        else:
            mapping.pop(column, None)
    return mapping


def load_mapping_json(text: str) -> dict[str, str]:
    """A mapping given as JSON text {canonical: header}, checked for shape."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The mapping is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, (str, type(None))) for k, v in value.items()):
        raise ValueError('The mapping must be a JSON object such as {"customer_id": "Cust ID", "amount": "Total"}.')
    return value


def save_mapping(con: duckdb.DuckDBPyConnection, name: str, kind: str, mapping: dict[str, str], *,
                 user: User) -> None:
    """Store a mapping under a name for this kind (replacing one of the same name); needs the uploader role."""
    require(user, UPLOADER, "Saving a column mapping")
    if not name.strip():
        raise ValueError("Give the mapping a name.")
    con.execute(
        "INSERT OR REPLACE INTO saved_mappings (name, kind, mapping, saved_at) VALUES (?, ?, ?, ?)",
        [name.strip(), kind, json.dumps(mapping), datetime.now(timezone.utc).replace(tzinfo=None)],
    )


def saved_mappings(con: duckdb.DuckDBPyConnection, kind: str) -> dict[str, dict[str, str]]:
    """Saved mappings of one kind by name."""
    rows = con.execute(
        "SELECT name, mapping FROM saved_mappings WHERE kind = ? ORDER BY name", [kind]
    ).fetchall()
    return {name: json.loads(mapping) for name, mapping in rows}
