"""In a real browser on demo data: every page opens without an error, a filter change reaches the URL
and the figures, a drill-down from the at-risk list opens Customer 360, a table downloads as CSV and as XLSX; a screenshot of each page is
saved under test-output/screenshots/ for a person to look at."""
from __future__ import annotations

import csv
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from .conftest import settle

PAGES = {"": "Executive scorecard", "super_customers": "Super customers", "funnel": "Loyalty funnel",
         "responsiveness": "Responsiveness", "at_risk": "At-risk customers", "customer_360": "Customer 360",
         "predictions": "Predictions", "data": "Data", "settings": "Settings"}


@pytest.mark.parametrize("path", list(PAGES))
def test_page_opens(demo_server, page, shoot, path):
    page.goto(f"{demo_server}/{path}")
    page.get_by_role("heading", name=PAGES[path], exact=True).first.wait_for()
    settle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    shoot(page, path or "scorecard")


def test_filter_goes_to_the_url_and_changes_the_figures(demo_server, page, shoot):
    page.goto(demo_server)
    settle(page)
    revenue = page.locator("[data-testid=stMetric]").filter(has_text="Revenue").first
    before = revenue.locator("[data-testid=stMetricValue]").inner_text()
    page.get_by_label("Region").click()   # the sidebar multiselect
    page.get_by_role("option", name="North").click()
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"region=North"))
    settle(page)
    page.get_by_text("filtered to North").wait_for()
    value = revenue.locator("[data-testid=stMetricValue]")
    expect(value).not_to_have_text(before, timeout=60_000)   # North is a part of the whole
    after = value.inner_text()
    shoot(page, "scorecard_north")
    # The link reproduces the view in a new tab.
    link = page.url
    fresh = page.context.new_page()
    fresh.goto(link)
    fresh.get_by_text("filtered to North").wait_for()
    fresh.locator("[data-testid=stMetric]").filter(has_text="Revenue").first.get_by_text(after, exact=True).wait_for()
    fresh.close()


def test_at_risk_row_opens_customer_360(demo_server, page, shoot):
    page.goto(f"{demo_server}/at_risk")
    settle(page)
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)      # the first row's selection cell
    page.get_by_role("heading", name="Customer 360", exact=True).wait_for()
    settle(page)
    page.get_by_text("Why this segment:").wait_for()
    chosen = page.get_by_role("combobox", name="Customer").input_value()
    assert re.fullmatch(r"C\d+", chosen)
    shoot(page, "customer_360_from_at_risk")
    fresh = page.context.new_page()           # the link reproduces the view
    fresh.goto(page.url)
    fresh.get_by_text("Why this segment:").wait_for()
    assert fresh.get_by_role("combobox", name="Customer").input_value() == chosen
    fresh.close()


def test_a_table_downloads_as_csv_and_as_xlsx_with_the_same_rows(demo_server, page, tmp_path):
    page.goto(f"{demo_server}/at_risk")
    settle(page)
    page.get_by_text("Local single-user mode").wait_for()          # no [auth] in this server's secrets
    files = {}
    for kind in ("CSV", "XLSX"):
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile(rf"^Download all [\d,]+ rows as {kind}$")).click()
        files[kind] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[kind])
    assert files["XLSX"].name == "at_risk_customers.xlsx"
    with open(files["CSV"], newline="", encoding="utf-8") as fh:
        csv_rows = list(csv.reader(fh))
    sheet = load_workbook(files["XLSX"]).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in sheet[1]] == csv_rows[0]
    assert sheet.max_row == len(csv_rows) > 1
    assert [str(c.value) for c in sheet["A"]] == [row[0] for row in csv_rows]   # customer ids, in order


def test_every_page_of_a_short_table_has_its_button(demo_server, page):
    """The at-risk list of the demo store fills three pages: each has its button (beside the caption, Streamlit's
    selector showed "1 … 3"), and the second shows the second 500 rows."""
    page.goto(f"{demo_server}/at_risk")
    settle(page)
    caption = page.get_by_text(re.compile(r"^Rows 1–500 of [\d,]+, 500 a page"))
    caption.wait_for()
    total = int(re.search(r"of ([\d,]+),", caption.inner_text()).group(1).replace(",", ""))
    assert 1000 < total <= 1500
    for number in (1, 2, 3):
        expect(page.get_by_role("button", name=f"Page {number}", exact=True)).to_be_visible()
    page.get_by_role("button", name="Page 2", exact=True).click()
    page.get_by_text(re.compile(rf"^Rows 501–1,000 of {total:,}")).wait_for()
