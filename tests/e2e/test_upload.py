"""In a real browser: upload a CSV on the Data page, validate, import, see the batch in the history, and
see the scorecard change."""
from __future__ import annotations

from pathlib import Path

from ..helpers import stored

CSV = "Order #,Cust ID,Order Date,Total\nW-1,0042,2024-01-05,$100.00\nW-2,0042,01/31/2024,\"1,250.00\"\nW-3,0007,2024-01-20,oops\n"


def test_upload_through_the_browser(app_server, page, shoot, tmp_path):
    url, db = app_server
    upload = tmp_path / "january_orders.csv"
    upload.write_text(CSV)

    page.goto(url)
    page.get_by_text("The database holds no orders yet").wait_for()
    page.get_by_role("link", name="Data").first.click()
    page.get_by_text("No batches yet").wait_for()
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("1 · Preview").wait_for()
    page.get_by_role("button", name="Check the files").click()
    page.get_by_text("amount: not a number").first.wait_for(state="attached")  # a data-grid cell
    page.get_by_role("button", name="Import 2 records").click()
    page.get_by_text("Imported january_orders.csv as batch 1 (2 new, 0 changed, 1 rejected)").wait_for()
    # The history offers the new batch, and its rejected row for download.
    assert page.get_by_role("combobox", name="Batch").input_value() == "1 · january_orders.csv (committed)"
    page.get_by_role("button", name="Download rejected rows (1) as CSV").wait_for()
    shoot(page, "data_after_upload")

    # opened as the product opens it, waiting while the app holds the file after its run (loyalty.db.hold_open)
    assert stored(db, "SELECT order_key, amount::VARCHAR FROM orders ORDER BY 1") == [
        ("W-1", "100.00"), ("W-2", "1250.00")]

    # The scorecard now shows the imported month: the period is the 12 months to 31 Jan 2024.
    page.get_by_role("link", name="Executive scorecard").click()
    page.get_by_text("01 Feb 2023 – 31 Jan 2024, as of 31 Jan 2024").wait_for()
    revenue = page.locator("[data-testid=stMetric]").filter(has_text="Revenue").first
    revenue.get_by_text("1,350", exact=True).wait_for()
    shoot(page, "scorecard_after_upload")
    # The briefing downloads as a PDF with the same revenue.
    with page.expect_download() as download:
        page.get_by_role("button", name="Briefing as PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
