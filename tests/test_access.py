"""Roles: the role map, and every library function that writes refusing a role too low, with nothing written."""
from __future__ import annotations

import getpass

import pytest

from loyalty.access import ADMIN, LOCAL_USER, UPLOADER, VIEWER, PermissionDenied, RoleMap, User, operator
from loyalty.cli import main
from loyalty.demo import load_demo
from loyalty.importer import import_files, undo_batch
from loyalty.mapping import save_mapping, saved_mappings
from loyalty.settings import get_settings, save_setting, save_settings

VIEWER_USER = User("vic@example.com", VIEWER)
ANNA = User("anna@example.com", UPLOADER)
BOB = User("bob@example.com", UPLOADER)
BOSS = User("boss@example.com", ADMIN)
ORDERS = "order id,customer,date,amount\nA1,c1,2024-01-01,10\nA2,c2,2024-01-02,20\n"
TABLES = ("orders", "orders_history", "import_batches", "rejected_rows", "settings", "saved_mappings")


def counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


# ------------------------------------------------------------------------------------------- role map

def test_role_map_exact_address_beats_domain_beats_default():
    roles = RoleMap.from_config({"default": "viewer", "admin": ["Boss@Example.com"],
                                 "uploader": ["@example.com", "ops@partner.example"]})
    assert roles.role_of("boss@example.com") == ADMIN            # exact, whatever the case
    assert roles.role_of("ANNA@example.com") == UPLOADER         # by domain
    assert roles.role_of("ops@partner.example") == UPLOADER
    assert roles.role_of("someone@partner.example") == VIEWER    # domain not listed: the default
    assert roles.role_of("x@sub.example.com") == VIEWER          # a domain does not cover its subdomains
    assert roles.user("anna@example.com") == User("anna@example.com", UPLOADER)


def test_role_map_default_is_viewer_and_can_be_changed():
    assert RoleMap.from_config({}).role_of("a@b.c") == VIEWER
    assert RoleMap.from_config(None).role_of("a@b.c") == VIEWER
    assert RoleMap.from_config({"default": "uploader"}).role_of("a@b.c") == UPLOADER


@pytest.mark.parametrize("config, message", [
    ({"owner": ["a@b.c"]}, "unknown role 'owner'"),
    ({"default": "superuser"}, "unknown role 'superuser'"),
    ({"admin": "a@b.c"}, "must be a list"),
    ({"admin": ["a@b.c"], "viewer": ["A@B.C"]}, "lists A@B.C as both admin and viewer"),
])
def test_role_map_refuses_unclear_configuration(config, message):
    with pytest.raises(ValueError, match=message):
        RoleMap.from_config(config)


def test_roles_are_ordered_and_described():
    assert [BOSS.has(r) for r in (VIEWER, UPLOADER, ADMIN)] == [True, True, True]
    assert [ANNA.has(r) for r in (VIEWER, UPLOADER, ADMIN)] == [True, True, False]
    assert [VIEWER_USER.has(r) for r in (VIEWER, UPLOADER, ADMIN)] == [True, False, False]
    assert LOCAL_USER == User("local user", ADMIN)
    assert operator() == User(getpass.getuser(), ADMIN)
    with pytest.raises(ValueError, match="Unknown role"):
        User("a@b.c", "owner")


# ---------------------------------------------------------------------------------------- guarded writes

def test_viewer_cannot_import_not_even_a_dry_run(con, write):
    path = write("orders.csv", ORDERS)
    before = counts(con)
    for dry_run in (False, True):
        with pytest.raises(PermissionDenied) as refused:
            import_files(con, "orders", [path], dry_run=dry_run, user=VIEWER_USER)
        assert str(refused.value) == "Importing needs the uploader role; you are signed in as vic@example.com as a viewer."
    assert counts(con) == before


def test_uploader_imports_and_is_recorded_as_the_uploader(con, write):
    [batch] = import_files(con, "orders", [write("orders.csv", ORDERS)], user=ANNA)
    assert batch.inserted == 2
    assert con.execute("SELECT id, uploaded_by FROM import_batches").fetchall() == [(batch.batch_id, "anna@example.com")]


def test_undo_own_batch_yes_anothers_no_admin_any(con, write):
    [anna] = import_files(con, "orders", [write("a.csv", ORDERS)], user=ANNA)
    [bob] = import_files(con, "orders", [write("b.csv", ORDERS.replace("A1", "B1").replace("A2", "B2"))], user=BOB)
    before = counts(con)
    with pytest.raises(PermissionDenied) as refused:
        undo_batch(con, bob.batch_id, user=ANNA)
    assert str(refused.value) == (f"Batch {bob.batch_id} was uploaded by bob@example.com: undoing another person's "
                                  "batch needs the admin role; you are signed in as anna@example.com as an uploader.")
    with pytest.raises(PermissionDenied, match="Undoing a batch needs the uploader role; you are signed in as "
                                               "vic@example.com as a viewer."):
        undo_batch(con, anna.batch_id, user=VIEWER_USER)
    assert counts(con) == before
    assert con.execute("SELECT count(*) FROM import_batches WHERE status = 'committed'").fetchone() == (2,)

    assert undo_batch(con, anna.batch_id, user=User("Anna@Example.com", UPLOADER))["removed"] == 2
    assert undo_batch(con, bob.batch_id, user=BOSS)["removed"] == 2
    assert con.execute("SELECT id, status FROM import_batches ORDER BY id").fetchall() == [
        (anna.batch_id, "undone"), (bob.batch_id, "undone")]
    assert counts(con)["orders"] == 0


@pytest.mark.parametrize("user, role", [(VIEWER_USER, "a viewer"), (ANNA, "an uploader")])
def test_only_admins_change_settings(con, user, role):
    before, stored = counts(con), get_settings(con)
    sentence = f"Changing settings needs the admin role; you are signed in as {user.email} as {role}."
    with pytest.raises(PermissionDenied) as refused:
        save_setting(con, "churn_window_days", 200, user=user)
    assert str(refused.value) == sentence
    for key, value in (("targets", {"revenue": 5}), ("segment_rules", stored["segment_rules"][::-1])):
        with pytest.raises(PermissionDenied, match="needs the admin role"):
            save_settings(con, {key: value}, user=user)
    assert counts(con) == before and get_settings(con) == stored
    save_setting(con, "churn_window_days", 200, user=BOSS)
    assert get_settings(con)["churn_window_days"] == 200


def test_settings_with_a_problem_store_nothing(con):
    with pytest.raises(ValueError, match="The setting churn_window_days is not saved"):
        save_settings(con, {"sla_first_response_hours": 2, "churn_window_days": 0}, user=BOSS)
    assert counts(con)["settings"] == 0


def test_saving_a_mapping_needs_the_uploader_role(con):
    with pytest.raises(PermissionDenied, match="^Saving a column mapping needs the uploader role; you are signed in "
                                               "as vic@example.com as a viewer.$"):
        save_mapping(con, "ERP", "orders", {"customer_id": "Kunde"}, user=VIEWER_USER)
    assert counts(con)["saved_mappings"] == 0
    save_mapping(con, "ERP", "orders", {"customer_id": "Kunde"}, user=ANNA)
    assert saved_mappings(con, "orders") == {"ERP": {"customer_id": "Kunde"}}


@pytest.mark.parametrize("user", [VIEWER_USER, ANNA])
def test_only_admins_load_the_demo(con, user):
    before = counts(con)
    with pytest.raises(PermissionDenied, match="^Loading the demo data needs the admin role"):
        load_demo(con, customers=20, seed=1, user=user)
    assert counts(con) == before


def test_the_command_line_acts_as_the_os_account(db_file, write, capsys):
    assert main(["import", "orders", str(write("orders.csv", ORDERS)), "--db", str(db_file)]) == 0
    assert main(["undo", "1", "--db", str(db_file)]) == 0
    capsys.readouterr()
    assert main(["batches", "--db", str(db_file)]) == 0
    assert f'"uploaded_by": "{getpass.getuser()}"' in capsys.readouterr().out
