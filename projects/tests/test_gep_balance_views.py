# ruff: noqa: F811  (fixtures imported from fixtures_gep_balance)
"""GEP balance pages: who sees what, the ledger page (order, links, calculation, chart, XLSX,
pinned queries), and the forms with good and bad input (nothing written when refused)."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from projects.models import (
    ExitReason,
    GepBalanceEntry,
    GepBalanceRule,
    GepEntryKind,
    ProjectStatus,
)
from projects.services import gep_balance

from .fixtures_gep_balance import (  # noqa: F401  (fixtures)
    auditor,
    bare_asset,
    make_run,
    mixed_ledger,
    qingtian,
    village_clerk,
)

pytestmark = pytest.mark.django_db
LIST = reverse("projects:gep-balance-list")


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def detail_url(division):
    return reverse("projects:gep-balance-detail", args=[division.pk])


# --- who sees it --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["county_staff", "city_admin", "auditor"])
def test_balances_list_for_readers(client, mixed_ledger, county, request, who):
    response = page(client, request.getfixturevalue(who), LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-division="331102000000"' in html
    assert "350.70" in html and "500.00" in html
    assert 'data-status="warning"' in html


def test_balances_list_queries_do_not_grow_with_divisions(
    client, mixed_ledger, make_gep_rule, qingtian, city_admin, django_assert_max_num_queries
):
    client.force_login(city_admin)
    client.get(LIST)
    with django_assert_max_num_queries(6):
        assert len(client.get(LIST).context["divisions"]) == 1
    make_gep_rule(division=qingtian)
    make_gep_rule(division=qingtian.parent)
    with django_assert_max_num_queries(6):
        assert len(client.get(LIST).context["divisions"]) == 3


@pytest.mark.parametrize("who", ["investor", "bank_officer", "village_clerk"])
def test_others_see_nothing(client, mixed_ledger, county, request, who):
    user = request.getfixturevalue(who)
    entry = mixed_ledger["entries"][0]
    assert page(client, user, LIST).status_code == 403
    assert page(client, user, detail_url(county)).status_code == 403
    assert page(client, user, entry.get_absolute_url()).status_code == 403


def test_divisions_outside_reach_answer_404(
    client, mixed_ledger, make_gep_rule, qingtian, county_staff, city_admin
):
    make_gep_rule(division=qingtian)
    html = page(client, county_staff, LIST).content.decode()
    assert 'data-division="331121000000"' not in html
    assert page(client, county_staff, detail_url(qingtian)).status_code == 404
    assert page(client, city_admin, detail_url(qingtian)).status_code == 200
    assert 'data-division="331121000000"' in page(client, city_admin, LIST).content.decode()


def test_a_division_without_a_rule_has_no_ledger_page(client, mixed_ledger, village, county_staff):
    assert page(client, county_staff, detail_url(village)).status_code == 404


# --- the ledger page ----------------------------------------------------------------------------


def test_ledger_page_shows_entries_in_order_with_runs_project_and_calculation(
    client, mixed_ledger, county, county_staff
):
    response = page(client, county_staff, detail_url(county))
    assert response.status_code == 200
    html = response.content.decode()
    restoration, protection, debit, reversal = mixed_ledger["entries"]
    positions = [html.index(f">{e.number}</a>") for e in (restoration, protection, debit, reversal)]
    assert positions == sorted(positions)
    base, run = mixed_ledger["runs"]
    assert base.get_absolute_url() in html and run.get_absolute_url() in html
    assert mixed_ledger["project"].get_absolute_url() in html
    assert f'id="calc-{restoration.pk}"' in html
    assert "下降合计 -49.90 元" in html  # the restoration's decliner is explained
    assert "莲政发〔2026〕12号" in html
    assert response.context["chart"] == [
        ["", "0.00"],
        *[[f"{e.occurred_on:%Y-%m-%d} {e.number}", str(e.balance_after)] for e in mixed_ledger["entries"]],
    ]
    assert 'id="gep-balance-series"' in html and "echarts.min.js" in html
    assert reverse("projects:gep-restoration-create", args=[county.pk]) in html


def test_auditor_reads_the_ledger_without_write_buttons(client, mixed_ledger, county, auditor):
    html = page(client, auditor, detail_url(county)).content.decode()
    assert mixed_ledger["entries"][0].number in html
    assert reverse("projects:gep-restoration-create", args=[county.pk]) not in html
    entry_html = page(client, auditor, mixed_ledger["entries"][1].get_absolute_url()).content.decode()
    assert reverse("projects:gep-entry-reverse", args=[mixed_ledger["entries"][1].pk]) not in entry_html


def test_ledger_page_queries_do_not_grow_with_entries(
    client, mixed_ledger, county, county_staff, gep_credit, django_assert_max_num_queries
):
    client.force_login(county_staff)
    url = detail_url(county)
    client.get(url)  # warm the session and caches
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    for _n in range(15):
        gep_credit(Decimal("10"), division=county)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert len(response.context["entries"]) == 19


def test_ledger_exports_xlsx(client, mixed_ledger, county, county_staff):
    response = page(client, county_staff, detail_url(county), export="xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("编号", "业务日期", "类型", "金额（元）", "记账后余额（元）")
    restoration, _protection, _debit, reversal = mixed_ledger["entries"]
    assert [r[0] for r in rows[1:]] == [e.number for e in mixed_ledger["entries"]]
    assert [Decimal(str(r[3])) for r in rows[1:]] == [
        Decimal("199.85"),
        Decimal("800.40"),
        Decimal("-449.70"),
        Decimal("-199.85"),
    ]
    assert rows[1][11] == reversal.number and rows[4][10] == restoration.number
    assert rows[3][5] == str(mixed_ledger["project"])


def test_entry_page_explains_the_calculation(client, mixed_ledger, county_staff):
    _restoration, _protection, debit, reversal = mixed_ledger["entries"]
    html = page(client, county_staff, debit.get_absolute_url()).content.decode()
    assert "占用比例" in html and "-449.70" in html
    assert reverse("projects:gep-entry-reverse", args=[debit.pk]) in html
    html = page(client, county_staff, reversal.get_absolute_url()).content.decode()
    assert "验收未通过" in html
    assert reverse("projects:gep-entry-reverse", args=[reversal.pk]) not in html  # a reversal is final


# --- rule form ----------------------------------------------------------------------------------

RULE_URL = reverse("projects:gep-rule-create")


def rule_post(**changes):
    data = {
        "division": "",
        "offset_ratio": "1.2",
        "categories": ["regulating", "material"],
        "warning_balance": "1000",
        "effective_from": "2025-01-01",
        "source": "丽水市 GEP 占补平衡管理办法（试行）",
    }
    data.update(changes)
    return data


def test_rule_form_publishes_a_version(client, city_admin, county):
    client.force_login(city_admin)
    response = client.post(RULE_URL, rule_post(division=county.pk))
    assert response.status_code == 302 and response["Location"] == detail_url(county)
    rule = GepBalanceRule.objects.get(division=county)
    assert (rule.offset_ratio, rule.categories) == (Decimal("1.2"), ["material", "regulating"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"offset_ratio": "0.8"}, "offset_ratio"),
        ({"offset_ratio": "x"}, "offset_ratio"),
        ({"categories": []}, "categories"),
        ({"categories": ["supporting"]}, "categories"),
        ({"warning_balance": "-5"}, "warning_balance"),
        ({"effective_from": "2025-02-30"}, "effective_from"),
        ({"source": ""}, "source"),
    ],
)
def test_rule_form_bad_input(client, city_admin, county, changes, field):
    client.force_login(city_admin)
    response = client.post(RULE_URL, rule_post(division=county.pk, **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not GepBalanceRule.objects.exists()


def test_rule_form_duplicate_date_shown_in_place(client, city_admin, county, make_gep_rule):
    make_gep_rule(effective_from=datetime.date(2025, 1, 1))
    client.force_login(city_admin)
    response = client.post(RULE_URL, rule_post(division=county.pk))
    assert response.status_code == 200
    assert "规则发布后不可修改" in response.context["form"].errors["effective_from"][0]
    assert GepBalanceRule.objects.count() == 1


def test_rule_form_is_for_city_admins(client, county_staff, auditor):
    assert page(client, county_staff, RULE_URL).status_code == 403
    assert page(client, auditor, RULE_URL).status_code == 403


# --- credit forms -------------------------------------------------------------------------------


@pytest.fixture
def valued_pair(gep_rule, bare_asset, make_run):
    a1, a2 = bare_asset(), bare_asset()
    base = make_run(2024, {a1: {"regulating": "100"}, a2: {"regulating": "100"}})
    run = make_run(2025, {a1: {"regulating": "160.50"}, a2: {"regulating": "90"}})
    later = bare_asset()
    make_run(2026, {later: {"regulating": "5"}})  # offered on the plain list, not for 2024 → 2025
    return a1, a2, base, run, later


def restoration_post(base, run, chosen, **changes):
    data = {
        "baseline_run": base.pk,
        "run": run.pk,
        "assets": [a.pk for a in chosen],
        "project": "",
        "occurred_on": timezone.localdate().isoformat(),
        "memo": "矿山修复",
    }
    data.update(changes)
    return data


def test_restoration_form_narrows_assets_previews_then_records(client, valued_pair, county, county_staff):
    a1, a2, base, run, later = valued_pair
    url = reverse("projects:gep-restoration-create", args=[county.pk])
    narrowed = page(client, county_staff, url, baseline_run=base.pk, run=run.pk)
    offered = set(narrowed.context["form"].fields["assets"].queryset)
    assert offered == {a1, a2}
    assert later in set(page(client, county_staff, url).context["form"].fields["assets"].queryset)
    preview = client.post(url, {**restoration_post(base, run, [a1, a2]), "preview": "1"})
    assert preview.status_code == 200
    assert preview.context["preview"]["calculation"]["amount"] == "50.50"  # 60.50 − 10
    assert "预览（尚未登记）" in preview.content.decode()
    assert not GepBalanceEntry.objects.exists()
    recorded = client.post(url, restoration_post(base, run, [a1, a2]))
    entry = GepBalanceEntry.objects.get()
    assert recorded.status_code == 302 and recorded["Location"] == entry.get_absolute_url()
    assert entry.amount == Decimal("50.50")
    again = client.post(url, restoration_post(base, run, [a1]))
    assert again.status_code == 200
    assert entry.number in again.content.decode()
    assert GepBalanceEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"assets": []}, "assets"),
        ({"occurred_on": "2099-01-01"}, "occurred_on"),
        ({"memo": ""}, "memo"),
        ({"baseline_run": "999999"}, "baseline_run"),
    ],
)
def test_restoration_form_bad_input(client, valued_pair, county, county_staff, changes, field):
    a1, a2, base, run, _later = valued_pair
    client.force_login(county_staff)
    url = reverse("projects:gep-restoration-create", args=[county.pk])
    response = client.post(url, restoration_post(base, run, [a1, a2], **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not GepBalanceEntry.objects.exists()


def test_restoration_form_wrong_year_order(client, valued_pair, county, county_staff):
    a1, a2, base, run, _later = valued_pair
    client.force_login(county_staff)
    url = reverse("projects:gep-restoration-create", args=[county.pk])
    response = client.post(url, restoration_post(run, base, [a1, a2]))
    assert "run" in response.context["form"].errors
    assert not GepBalanceEntry.objects.exists()


def test_credit_forms_are_for_the_projects_desk(client, valued_pair, county, auditor, investor):
    for name in ("gep-restoration-create", "gep-protection-create", "gep-release-create"):
        url = reverse(f"projects:{name}", args=[county.pk])
        assert page(client, auditor, url).status_code == 403
        assert page(client, investor, url).status_code == 403


def test_protection_form_records(client, valued_pair, county, county_staff):
    a1, _a2, _base, run, _later = valued_pair
    client.force_login(county_staff)
    url = reverse("projects:gep-protection-create", args=[county.pk])
    data = {
        "run": run.pk,
        "assets": [a1.pk],
        "protection_document": "莲政发〔2026〕12号",
        "occurred_on": timezone.localdate().isoformat(),
        "memo": "划入公益林",
    }
    missing = client.post(url, {**data, "protection_document": ""})
    assert "protection_document" in missing.context["form"].errors
    assert client.post(url, data).status_code == 302
    assert GepBalanceEntry.objects.get().amount == Decimal("160.50")


def test_release_form_offers_closed_projects_and_records(
    client, gep_rule, gep_credit, valued_asset, make_project, county, county_staff
):
    gep_credit(Decimal("1000"))
    project = make_project(
        consumptions=[(valued_asset(gep=Decimal("1000")), "0.2")],
        status=ProjectStatus.ADMITTED,
        admitted_on=datetime.date(2026, 2, 1),
    )
    gep_balance.post_project_debit(actor=county_staff, project=project, occurred_on=datetime.date(2026, 2, 1))
    url = reverse("projects:gep-release-create", args=[county.pk])
    assert list(page(client, county_staff, url).context["form"].fields["project"].queryset) == []
    KeyProjectModel = type(project)
    KeyProjectModel.objects.filter(pk=project.pk).update(
        status=ProjectStatus.EXITED, exit_reason=ExitReason.OWNER_REQUEST, exited_on=datetime.date(2026, 3, 1)
    )
    assert list(page(client, county_staff, url).context["form"].fields["project"].queryset) == [project]
    blank = client.post(url, {"project": project.pk, "occurred_on": "2026-03-02", "reason": ""})
    assert "reason" in blank.context["form"].errors
    early = client.post(url, {"project": project.pk, "occurred_on": "2026-02-15", "reason": "未开工"})
    assert "occurred_on" in early.context["form"].errors
    done = client.post(url, {"project": project.pk, "occurred_on": "2026-03-02", "reason": "未开工"})
    assert done.status_code == 302
    assert GepBalanceEntry.objects.get(kind=GepEntryKind.RELEASE).amount == Decimal("200.00")
    assert gep_balance.balance_of(county) == Decimal("1000.00")


def test_reverse_form(client, mixed_ledger, county, county_staff, auditor):
    _restoration, protection, _debit, _reversal = mixed_ledger["entries"]
    url = reverse("projects:gep-entry-reverse", args=[protection.pk])
    assert page(client, auditor, url).status_code == 403
    client.force_login(county_staff)
    blank = client.post(url, {"reason": ""})
    assert "reason" in blank.context["form"].errors
    spent = client.post(url, {"reason": "文件作废"})  # 800.40 back would leave −449.70
    assert spent.status_code == 200
    assert "缺口 449.70 元" in spent.content.decode()
    assert GepBalanceEntry.objects.count() == 4
    debit = mixed_ledger["entries"][2]
    done = client.post(reverse("projects:gep-entry-reverse", args=[debit.pk]), {"reason": "占用比例有误"})
    assert done.status_code == 302
    assert gep_balance.balance_of(county) == Decimal("800.40")
