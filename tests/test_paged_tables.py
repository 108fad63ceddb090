"""loyalty.ui.show_table pages a long table: one page of TABLE_ROWS rows on screen, a selector and a
'Rows a–b of N' caption, the chosen row of the page shown, and downloads of every row; text reasons
are joined per row by loyalty.formatting.joined_texts; tables read with words for headers
(loyalty.formatting.header), the page's own labels first."""
from __future__ import annotations

import json

import pandas as pd
from streamlit.testing.v1 import AppTest

from loyalty.formatting import header, joined_texts


def paged_app():
    import pandas as pd
    import streamlit as st

    from loyalty.ui import show_table

    frame = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(1234)], "clv_12m": [i * 1.5 for i in range(1234)]})
    picked = show_table(frame, "customers", key="t", selectable=True)
    st.write("picked", "none" if picked is None else picked["customer_id"])


def test_a_long_table_shows_one_page_at_a_time():
    at = AppTest.from_function(paged_app).run()
    assert not at.exception
    assert at.pagination[0].num_pages == 3                               # ⌈1234 / 500⌉
    assert at.dataframe[0].value["customer_id"].tolist() == [f"C{i:04d}" for i in range(500)]
    assert at.caption[0].value.startswith("Rows 1–500 of 1,234,")
    at.pagination[0].set_value(3).run()
    assert at.dataframe[0].value["customer_id"].tolist() == [f"C{i:04d}" for i in range(1000, 1234)]
    assert at.caption[0].value.startswith("Rows 1,001–1,234 of 1,234,")
    assert {b.proto.label for b in at.get("download_button")} == {"Download all 1,234 rows as CSV",
                                                                  "Download all 1,234 rows as XLSX"}
    at.session_state["table-t-1000"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert "picked C1002" in [m.value for m in at.markdown]            # row 3 of page 3 = row 1,003


def short_app():
    import pandas as pd

    from loyalty.ui import show_table

    show_table(pd.DataFrame({"customer_id": ["A", "B"]}), "two", key="s")


def test_a_short_table_has_no_selector():
    at = AppTest.from_function(short_app).run()
    assert not at.exception and len(at.pagination) == 0 and not at.caption
    assert at.dataframe[0].value["customer_id"].tolist() == ["A", "B"]


def test_joined_texts_skips_missing_reasons():
    frame = pd.DataFrame({"a": ["late", None, None], "b": ["slow", "slow", None]})
    assert joined_texts(frame, ["a", "b"]).tolist() == ["late; slow", "slow", ""]


def test_headers_read_as_words():
    assert [header(c) for c in ("tenure_days", "criteria_met", "customer_id", "revenue_12m", "no_outreach_90d",
                                "customers", "r", "nps", "order_id", "first_response_sla_share", "Champions",
                                "Not yet known")] == [
        "Tenure (days)", "Criteria met", "Customer", "Revenue (12 months)", "No outreach (90 days)", "Customers", "R",
        "NPS", "Order ID", "First response SLA share", "Champions", "Not yet known"]


def headed_app():
    import pandas as pd
    import streamlit as st

    from loyalty.ui import show_frame, show_table

    frame = pd.DataFrame({"customer_id": ["A"], "tenure_days": [12], "revenue": [1500.0], "change": [-3.0],
                          "clv_12m": [9.0]})
    show_frame(frame, column_config={"change": st.column_config.NumberColumn(format="%+,.0f"), "tenure_days": "Days",
                                     "customer_id": st.column_config.TextColumn("", width="small")})
    show_table(frame, "headed", key="h")


def test_tables_show_readable_headers_and_keep_the_page_labels():
    at = AppTest.from_function(headed_app).run()
    assert not at.exception and len(at.dataframe) == 2
    framed, paged = (json.loads(table.proto.columns) for table in at.dataframe)
    words = {"customer_id": "Customer", "tenure_days": "Tenure (days)", "revenue": "Revenue", "change": "Change",
             "clv_12m": "12-month CLV"}
    assert {column: paged[column].get("label") for column in words} == words
    assert {column: framed[column].get("label") for column in words} == {**words, "tenure_days": "Days", "customer_id": ""}
    assert framed["change"]["type_config"]["format"] == "%+,.0f"     # the page's format, under the readable header
    assert paged["revenue"]["type_config"]["format"] == "%,.0f"      # the recurring money format kept
    assert all(list(table.value.columns) == list(words) for table in at.dataframe)   # the data keeps its names
