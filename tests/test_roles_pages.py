"""Roles in the app (AppTest with an [auth] section and a seeded st.user): sign-in before any page, who
is signed in, and no page letting a viewer import, undo or change settings."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loyalty.access import UPLOADER, User
from loyalty.db import session
from loyalty.importer import import_files

from .helpers import stored
from .test_pages import PAGES
from .test_scorecard_page import load_shop

APP = str(Path(__file__).resolve().parent.parent / "app.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-secret",
        "client_id": "test-client", "client_secret": "test-client-secret",
        "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}
ROLES = {"default": "viewer", "admin": ["boss@example.com"], "uploader": ["@example.com"]}
ORDERS = "order id,customer,date,amount\nA1,c1,2024-01-01,10\nA2,c2,2024-01-02,20\n"
WRITE_BUTTONS = ("load-demo", "data-validate", "data-import", "data-undo")


def app_as(email: str | None, page: str | None = None, roles: dict = ROLES) -> AppTest:
    """The app with sign-in configured; `email` None: nobody signed in."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = AUTH
    at.secrets["loyalty"] = {"roles": roles}
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email, "name": email}
    if page:
        at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def import_as(db: Path, email: str, name: str, text: str) -> int:
    path = db.parent / name
    path.write_text(text)
    with session(db) as con:
        return import_files(con, "orders", [path], user=User(email, UPLOADER))[0].batch_id


def sidebar_captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", ["scorecard", "data", "settings"])
def test_nobody_sees_a_page_before_signing_in(db_file, page):
    load_shop(db_file)
    at = app_as(None, page)
    assert at.button(key="sign-in").label == "Sign in"
    assert [t.value for t in at.title] == ["Loyalty Lens"]          # the sign-in screen, not the page
    assert not at.metric and not at.dataframe and not at.get("file_uploader")


def test_signed_in_user_and_role_in_the_sidebar(db_file):
    at = app_as("anna@example.com", "data")
    assert "Signed in as anna@example.com · uploader" in sidebar_captions(at)
    assert at.sidebar.button(key="sign-out").label == "Sign out"
    at.sidebar.button(key="sign-out").click().run()                  # st.logout: back to the sign-in screen
    assert at.button(key="sign-in")


def test_without_auth_the_app_says_local_single_user_mode(db_file):
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("app_pages/data.py").run()
    assert "Local single-user mode" in sidebar_captions(at)
    assert not [b for b in at.sidebar.button if b.key == "sign-out"]
    assert at.get("file_uploader")                                  # the local user is an admin


def test_a_broken_role_map_stops_with_its_sentence(db_file):
    at = app_as("anna@example.com", "data", roles={"owner": ["anna@example.com"]})
    assert "unknown role 'owner'" in at.error[0].value and "[loyalty.roles]" in at.error[0].value
    assert not at.get("file_uploader")


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_finds_no_write_control_on_any_page(db_file, page):
    load_shop(db_file)
    import_as(db_file, "anna@example.com", "a.csv", ORDERS)
    at = app_as("vic@partner.example", page)
    assert "vic@partner.example · viewer" in sidebar_captions(at)
    assert not at.get("file_uploader")
    assert not [b for b in at.button if b.key in WRITE_BUTTONS]
    assert all(b.disabled for b in at.button if b.key and b.key.startswith("save-"))
    assert not [c for c in at.checkbox if c.key == "data-undo-confirm"]


def test_a_viewer_on_the_data_page_is_told_why(db_file):
    batch = import_as(db_file, "anna@example.com", "a.csv", ORDERS)
    at = app_as("vic@partner.example", "data")
    assert ("Importing needs the uploader role; you are signed in as vic@partner.example as a viewer."
            in " ".join(i.value for i in at.info))
    assert ("Undoing a batch needs the uploader role; you are signed in as vic@partner.example as a viewer."
            in " ".join(c.value for c in at.caption))
    assert at.selectbox(key="data-batch").value == batch
    assert stored(db_file, "SELECT status FROM import_batches") == [("committed",)]


def test_an_uploader_undoes_only_their_own_batch(db_file):
    anna = import_as(db_file, "anna@example.com", "a.csv", ORDERS)
    bob = import_as(db_file, "bob@example.com", "b.csv", ORDERS.replace("A1", "B1").replace("A2", "B2"))
    at = app_as("anna@example.com", "data")
    assert at.selectbox(key="data-batch").value == bob                # newest first
    assert (f"Batch {bob} was uploaded by bob@example.com: undoing another person's batch needs the admin role"
            in " ".join(c.value for c in at.caption))
    assert not [b for b in at.button if b.key == "data-undo"]
    at.selectbox(key="data-batch").set_value(anna).run()
    at.checkbox(key="data-undo-confirm").check().run()
    at.button(key="data-undo").click().run()
    assert stored(db_file, "SELECT id, status FROM import_batches ORDER BY id") == [(anna, "undone"), (bob, "committed")]


def test_an_admin_undoes_anyones_batch(db_file):
    bob = import_as(db_file, "bob@example.com", "b.csv", ORDERS)
    at = app_as("boss@example.com", "data")
    at.checkbox(key="data-undo-confirm").check().run()
    at.button(key="data-undo").click().run()
    assert stored(db_file, "SELECT id, status FROM import_batches") == [(bob, "undone")]


def test_a_viewer_cannot_change_settings(db_file):
    at = app_as("vic@partner.example", "settings")
    assert ("Changing settings needs the admin role; you are signed in as vic@partner.example as a viewer."
            in at.info[0].value)
    assert at.number_input(key="churn-window").disabled and at.checkbox(key="own-gap").disabled
    assert all(at.button(key=key).disabled for key in ("save-targets", "save-definitions", "save-rules"))


def test_a_click_from_a_page_opened_before_the_role_was_withdrawn_is_refused(db_file):
    at = app_as("boss@example.com", "settings")
    at.number_input(key="churn-window").set_value(300).run()
    at.secrets["loyalty"] = {"roles": {"default": "viewer"}}        # boss is no longer an admin
    at.button(key="save-definitions").click().run()
    assert not at.exception
    assert ("Changing settings needs the admin role; you are signed in as boss@example.com as a viewer."
            in at.info[0].value)
    assert stored(db_file, "SELECT count(*) FROM settings") == [(0,)]


def test_an_admin_changes_settings(db_file):
    at = app_as("boss@example.com", "settings")
    at.number_input(key="churn-window").set_value(300).run()
    at.button(key="save-definitions").click().run()
    assert stored(db_file, "SELECT value FROM settings WHERE key = 'churn_window_days'") == [("300",)]


def test_only_an_admin_is_offered_the_demo(db_file):
    at = app_as("anna@example.com", "scorecard")
    assert not [b for b in at.button if b.key == "load-demo"]
    assert any("Loading the demo data needs the admin role; you are signed in as anna@example.com as an uploader."
               in c.value for c in at.caption)
    assert app_as("boss@example.com", "scorecard").button(key="load-demo")


def test_a_sign_in_without_an_e_mail_address_gets_no_role(db_file):
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "name": "No Mail"}
    at.switch_page("app_pages/data.py").run()
    assert "did not share an e-mail address" in at.error[0].value
    assert not at.get("file_uploader") and not at.dataframe
    assert at.button(key="sign-out")
