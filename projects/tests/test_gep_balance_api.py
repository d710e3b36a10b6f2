# ruff: noqa: F811  (fixtures imported from fixtures_gep_balance)
"""`/api/v1/projects/gep-balances/` and `/gep-entries/`: reach (404 outside, 403 without the
capability), filters, pinned queries, the write actions and their {code, detail, fields} errors."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import ExitReason, GepBalanceEntry, GepEntryKind, KeyProject, ProjectStatus
from projects.services import gep_balance

from .fixtures_gep_balance import (  # noqa: F401  (fixtures)
    auditor,
    bare_asset,
    make_run,
    mixed_ledger,
    qingtian,
)

pytestmark = pytest.mark.django_db
BALANCES = "/api/v1/projects/gep-balances/"
ENTRIES = "/api/v1/projects/gep-entries/"
TODAY = timezone.localdate


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_error(response, status, code, field=None):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code and body["detail"]
    if field:
        assert field in body["fields"], body


# --- reads --------------------------------------------------------------------------------------


def test_balance_list_and_detail(mixed_ledger, county, county_staff, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        body = api(county_staff).get(BALANCES).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row == {
        "division": county.pk,
        "division_code": "331102000000",
        "division_name": county.name,
        "balance": "350.70",
        "warning": "500.00",
        "status": "warning",
        "offset_ratio": "1.000000",
        "entry_count": 4,
        "last_entry_on": TODAY().isoformat(),
    }
    with django_assert_max_num_queries(5):
        detail = api(county_staff).get(f"{BALANCES}{county.pk}/").json()
    assert [e["number"] for e in detail["entries"]] == [e.number for e in mixed_ledger["entries"]]
    assert detail["rules"][0]["categories"] == ["material", "regulating", "cultural"]
    restoration = detail["entries"][0]
    assert restoration["reversed_by"] == mixed_ledger["entries"][3].number
    assert restoration["run_year"] == 2025 and restoration["baseline_run_year"] == 2024
    assert restoration["calculation"]["declined_assets"] == [mixed_ledger["assets"][1].code]


def test_reach_and_capability(
    mixed_ledger, make_gep_rule, qingtian, county, county_staff, city_admin, auditor, investor, bank_officer
):
    make_gep_rule(division=qingtian)
    assert api(county_staff).get(f"{BALANCES}{qingtian.pk}/").status_code == 404
    assert api(city_admin).get(BALANCES).json()["count"] == 2
    assert api(auditor).get(f"{BALANCES}{county.pk}/").status_code == 200
    entry = mixed_ledger["entries"][0]
    for user in (investor, bank_officer):
        assert_error(api(user).get(BALANCES), 403, "permission_denied")
        assert_error(api(user).get(f"{ENTRIES}{entry.pk}/"), 403, "permission_denied")
    assert APIClient().get(BALANCES).status_code in (401, 403)


def test_entry_list_filters_and_pinned_queries(
    mixed_ledger, county, county_staff, gep_credit, django_assert_max_num_queries
):
    client = api(county_staff)
    with django_assert_max_num_queries(4):
        body = client.get(ENTRIES).json()
    assert body["count"] == 4
    for _n in range(10):
        gep_credit(Decimal("1"), division=county)
    with django_assert_max_num_queries(4):
        body = client.get(ENTRIES).json()
    assert body["count"] == 14
    kinds = client.get(ENTRIES, {"kind": "project_debit"}).json()["results"]
    assert [e["amount"] for e in kinds] == ["-449.70"]
    assert kinds[0]["project_number"] == mixed_ledger["project"].number
    by_project = client.get(ENTRIES, {"project": mixed_ledger["project"].pk}).json()
    assert by_project["count"] == 1
    assert client.get(ENTRIES, {"division": county.pk}).json()["count"] == 14
    assert client.get(ENTRIES, {"division_code": "331121000000"}).json()["count"] == 0
    assert_error(client.get(ENTRIES, {"kind": "gift"}), 400, "invalid", "kind")


def test_entries_outside_reach_answer_404(mixed_ledger, make_gep_rule, qingtian, county_staff, city_admin):
    rule = make_gep_rule(division=qingtian)
    entry = GepBalanceEntry.objects.create(
        number="ZBQT000001",
        division=qingtian,
        kind=GepEntryKind.PROTECTION,
        amount=Decimal("5"),
        rule=rule,
        memo="青田",
        occurred_on=datetime.date(2026, 1, 15),
        balance_after=Decimal("5"),
        recorded_by=city_admin,
    )
    assert_error(api(county_staff).get(f"{ENTRIES}{entry.pk}/"), 404, "not_found")
    assert_error(api(county_staff).post(f"{ENTRIES}{entry.pk}/reverse/", {"reason": "x"}), 404, "not_found")
    assert api(city_admin).get(f"{ENTRIES}{entry.pk}/").json()["division_code"] == "331121000000"


# --- writes -------------------------------------------------------------------------------------


@pytest.fixture
def pair(gep_rule, bare_asset, make_run):
    a1, a2 = bare_asset(), bare_asset()
    base = make_run(2024, {a1: {"regulating": "100"}, a2: {"regulating": "100"}})
    run = make_run(2025, {a1: {"regulating": "175.25"}, a2: {"regulating": "95"}})
    return a1, a2, base, run


def restoration_body(a1, a2, base_run, accounting_run, **changes):
    body = {
        "assets": [a1.pk, a2.pk],
        "baseline_run": base_run.pk,
        "run": accounting_run.pk,
        "occurred_on": TODAY().isoformat(),
        "memo": "废弃矿山修复",
    }
    body.update(changes)
    return body


def test_restoration_action(pair, county, county_staff):
    a1, a2, _base, _run = pair
    response = api(county_staff).post(f"{ENTRIES}restoration/", restoration_body(*pair, division=county.pk))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "70.25"  # 75.25 − 5
    assert body["kind"] == "restoration" and body["division_code"] == "331102000000"
    assert sorted(body["assets"]) == sorted([a1.code, a2.code])
    again = api(county_staff).post(f"{ENTRIES}restoration/", restoration_body(*pair))
    assert_error(again, 409, "already_credited", "entries")
    assert again.json()["fields"]["entries"] == [body["number"]]
    assert GepBalanceEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"assets": []}, 400, "invalid", "assets"),
        ({"assets": [987654321]}, 400, "invalid", "assets"),
        ({"occurred_on": "2026-02-30"}, 400, "invalid", "occurred_on"),
        ({"occurred_on": "2099-01-01"}, 400, "invalid", "occurred_on"),
        ({"memo": ""}, 400, "invalid", "memo"),
        ({"run": "abc"}, 400, "invalid", "run"),
        ({"swap": True}, 400, "run_order", "run"),
        ({"project": 987654321}, 404, "not_found", None),
    ],
)
def test_restoration_action_bad_input(pair, county, county_staff, changes, status, code, field):
    a1, a2, base, run = pair
    if changes.pop("swap", False):
        base, run = run, base
    response = api(county_staff).post(
        f"{ENTRIES}restoration/", restoration_body(a1, a2, base, run, **changes)
    )
    assert_error(response, status, code, field)
    assert not GepBalanceEntry.objects.exists()


def test_restoration_action_unaccepted_run(pair, make_run, county_staff):
    a1, a2, base, _run = pair
    pending = make_run(2026, {a1: {"regulating": "300"}, a2: {"regulating": "300"}}, accepted=False)
    response = api(county_staff).post(f"{ENTRIES}restoration/", restoration_body(a1, a2, base, pending))
    assert_error(response, 400, "run_not_accepted", "run")
    assert not GepBalanceEntry.objects.exists()


def test_write_actions_need_manage_projects(pair, auditor, investor):
    for user in (auditor, investor):
        response = api(user).post(f"{ENTRIES}restoration/", restoration_body(*pair))
        assert_error(response, 403, "permission_denied")
    assert not GepBalanceEntry.objects.exists()


def test_protection_action(pair, county_staff):
    a1, _a2, _base, run = pair
    body = {
        "assets": [a1.pk],
        "run": run.pk,
        "occurred_on": TODAY().isoformat(),
        "memo": "划入公益林",
        "protection_document": "",
    }
    assert_error(api(county_staff).post(f"{ENTRIES}protection/", body), 400, "invalid", "protection_document")
    response = api(county_staff).post(
        f"{ENTRIES}protection/", {**body, "protection_document": "莲政发〔2026〕12号"}
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "175.25"
    assert response.json()["calculation"]["protection_document"] == "莲政发〔2026〕12号"


def test_release_and_reverse_actions(gep_rule, gep_credit, valued_asset, make_project, county, county_staff):
    gep_credit(Decimal("1000"))
    project = make_project(
        consumptions=[(valued_asset(gep=Decimal("2000")), "0.25")],
        status=ProjectStatus.ADMITTED,
        admitted_on=datetime.date(2026, 2, 1),
    )
    debit = gep_balance.post_project_debit(
        actor=county_staff, project=project, occurred_on=datetime.date(2026, 2, 1)
    )
    client = api(county_staff)
    body = {"project": project.pk, "reason": "业主撤回", "occurred_on": "2026-04-01"}
    assert_error(client.post(f"{ENTRIES}release/", body), 409, "project_not_closed")
    KeyProject.objects.filter(pk=project.pk).update(
        status=ProjectStatus.EXITED, exit_reason=ExitReason.OWNER_REQUEST, exited_on=datetime.date(2026, 3, 1)
    )
    assert_error(client.post(f"{ENTRIES}release/", {**body, "reason": ""}), 400, "invalid", "reason")
    released = client.post(f"{ENTRIES}release/", body)
    assert released.status_code == 201 and released.json()["amount"] == "500.00"
    assert_error(client.post(f"{ENTRIES}release/", body), 409, "already_released")
    credit = GepBalanceEntry.objects.get(kind=GepEntryKind.RESTORATION)
    reversed_ = client.post(f"{ENTRIES}{credit.pk}/reverse/", {"reason": "重复登记"})
    assert reversed_.status_code == 201 and reversed_.json()["amount"] == "-1000.00"
    assert reversed_.json()["reverses_number"] == credit.number
    assert_error(client.post(f"{ENTRIES}{credit.pk}/reverse/", {"reason": "再来"}), 409, "already_reversed")
    release_entry = GepBalanceEntry.objects.get(kind=GepEntryKind.RELEASE)
    shortfall = client.post(f"{ENTRIES}{release_entry.pk}/reverse/", {"reason": "返还有误"})
    assert_error(shortfall, 409, "gep_shortfall")
    assert shortfall.json()["fields"]["shortfall"] == "500.00"
    assert_error(client.post(f"{ENTRIES}{debit.pk}/reverse/", {}), 400, "invalid", "reason")
    assert gep_balance.balance_of(county) == Decimal("0.00")
    assert GepBalanceEntry.objects.count() == 4
