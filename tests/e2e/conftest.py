"""A real app server on a free localhost port and Debian's chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db: Path, log_path: Path):
    """Run `streamlit run app.py` against `db` on a free port; yield its base URL."""
    port = _free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "LOYALTY_DB": str(db)}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the app did not start: " + log_path.read_text()[-2000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def app_server(tmp_path):
    """The app on a fresh, empty database; yields (base URL, database path)."""
    db = tmp_path / "e2e.duckdb"
    with serve(db, tmp_path / "server.log") as url:
        yield url, db


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The app on a database holding a small demo data set (1,500 customers)."""
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "loyalty", "demo", "--customers", "1500", "--db", str(db)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    with serve(db, folder / "server.log") as url:
        yield url


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 2200})
        tab = context.new_page()
        tab.set_default_timeout(60_000)   # CI has two cores: be patient, not flaky
        yield tab
        context.close()
        browser.close()


# The script run has ended (the app's own flag; the toolbar's status widget is hidden in minimal mode),
# no element is still a placeholder, and every chart and every visible grid has drawn. The DOM is asked
# afresh on each poll, so a rerun replacing elements mid-wait is no problem.
SETTLED = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    const visible = g => g.checkVisibility({contentVisibilityAuto: true});   // closed expanders never draw
    return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && document.querySelectorAll('[data-testid=stSkeleton]').length === 0
        && [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(c => c.querySelector('.main-svg'))
        && [...document.querySelectorAll('[data-testid=stDataFrame]')].filter(visible).every(g => g.querySelector('canvas'));
}"""


def settle(tab) -> None:
    """Wait until Streamlit has finished running the script and drawn what it sent."""
    tab.wait_for_timeout(500)          # a rerun set off by the last action has started by now
    tab.wait_for_function(SETTLED, timeout=60_000)


def screenshot(tab, name: str) -> Path:
    """Save a full-page screenshot under test-output/screenshots/ for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Streamlit scrolls inside its main container, not the document: the tall viewport of the `page`
    # fixture shows most pages whole. Resizing here would make the data grids redraw mid-shot.
    settle(tab)
    tab.wait_for_timeout(1000)
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shoot():
    return screenshot
