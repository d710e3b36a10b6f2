# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""The red-line pages: overview, a cooperative's dashboard with recompute, the readings list with
XLSX export, and the thresholds; reach and capabilities."""

import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from directory.services import ensure_party
from projects.models import RedLine, RedLineReading
from projects.services import red_lines

from .fixtures_red_lines import (  # noqa: F401  (fixtures)
    PAST,
    auditor,
    borrow,
    capital,
    coop_scheme,
    invest,
    lend,
    lender,
    red_line_defaults,
    township_cooperative,
    village_clerk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("red_line_defaults")]


@pytest.fixture
def breached(capital, borrow, invest, lend, investor_org, county_cooperative):
    """The county cooperative with a debt-ratio breach and a loan to a firm it holds a stake in."""
    capital("1000000")
    borrow("4000000")
    invest("200000")
    loan = lend("100000", ensure_party(investor_org), share="0.3")
    red_lines.compute_red_lines(county_cooperative)
    return loan


def test_overview_lists_cooperatives_in_reach(
    client,
    breached,
    county_staff,
    city_admin,
    auditor,
    county_cooperative,
    city_cooperative,
    township_cooperative,
    django_assert_max_num_queries,
):
    url = reverse("projects:red-lines")
    client.force_login(county_staff)
    with django_assert_max_num_queries(8):
        page = client.get(url).content.decode()
    assert county_cooperative.name in page and township_cooperative.name in page
    assert city_cooperative.name not in page
    assert "突破红线" in page and "80.00%" in page
    assert reverse("projects:red-line-cooperative", args=[county_cooperative.pk]) in page
    assert reverse("projects:books", args=[county_cooperative.pk]) in page
    for user in (city_admin, auditor):
        client.force_login(user)
        assert city_cooperative.name in client.get(url).content.decode()


def test_outsiders_are_refused(client, breached, village_clerk, investor, bank_officer, county_cooperative):
    pages = [
        reverse("projects:red-lines"),
        reverse("projects:red-line-cooperative", args=[county_cooperative.pk]),
        reverse("projects:red-line-readings"),
        reverse("projects:red-line-thresholds"),
        reverse("projects:books", args=[county_cooperative.pk]),
    ]
    for user in (village_clerk, investor, bank_officer):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 403, (user, url)


def test_dashboard_cards_numbers_and_history(
    client, breached, county_staff, county_cooperative, city_cooperative
):
    client.force_login(county_staff)
    url = reverse("projects:red-line-cooperative", args=[county_cooperative.pk])
    response = client.get(url)
    page = response.content.decode()
    assert page.count('class="card h-100 border-') == 5
    assert 'data-key="debt_ratio" data-status="breach"' in page
    assert 'data-key="investee_lending" data-status="breach"' in page
    assert "4000000.00 ÷ 5000000.00" in page  # the numbers behind the debt ratio
    assert breached.number in page and reverse("finance:loan-detail", args=[breached.pk]) in page
    assert "75.00%" in page and "65.00%" in page  # limit and warning
    assert reverse("projects:red-line-recompute", args=[county_cooperative.pk]) in page
    assert "vendor/echarts/echarts.min.js" in page
    series = json.loads(page.split('id="red-line-series" type="application/json">')[1].split("</script>")[0])
    assert series["debt_ratio"]["points"][0][1] == "0.800000" and series["debt_ratio"]["percent"] is True
    assert series["liquidity"]["limit"] == "1.000000"
    # another county's staff cannot open it; the city's page is outside the county's reach
    assert client.get(reverse("projects:red-line-cooperative", args=[city_cooperative.pk])).status_code == 404


def test_dashboard_without_readings(client, county_staff, county_cooperative):
    client.force_login(county_staff)
    page = client.get(reverse("projects:red-line-cooperative", args=[county_cooperative.pk])).content.decode()
    assert "尚未计算" in page and page.count('data-status="no_data"') == 5


def test_recompute_button(client, capital, county_staff, auditor, county_cooperative):
    capital("1000000")
    url = reverse("projects:red-line-recompute", args=[county_cooperative.pk])
    client.force_login(auditor)  # may look, may not recompute
    page = client.get(reverse("projects:red-line-cooperative", args=[county_cooperative.pk])).content.decode()
    assert url not in page
    assert client.post(url).status_code == 403
    assert RedLineReading.objects.count() == 0
    client.force_login(county_staff)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "已重新计算" in response.content.decode()
    assert RedLineReading.objects.filter(cooperative=county_cooperative).count() == 5
    client.post(url)
    assert RedLineReading.objects.filter(cooperative=county_cooperative).count() == 5


def test_readings_list_filters_and_exports(
    client,
    breached,
    county_staff,
    city_admin,
    county_cooperative,
    city_cooperative,
    django_assert_max_num_queries,
):
    red_lines.compute_red_lines(city_cooperative)
    url = reverse("projects:red-line-readings")
    client.force_login(county_staff)
    with django_assert_max_num_queries(10):
        page = client.get(url, {"status": "breach"}).content.decode()
    assert "<td>资产负债率</td>" in page and "<td>为参股企业提供借款或分担风险</td>" in page
    assert "<td>流动比率</td>" not in page and page.count("<td>突破红线</td>") == 2
    assert city_cooperative.name not in client.get(url).content.decode()
    sheet = load_workbook(io.BytesIO(client.get(url, {"key": "debt_ratio", "export": "xlsx"}).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "合作社" and len(rows) == 2
    assert rows[1][0] == county_cooperative.name and Decimal(str(rows[1][3])) == Decimal("0.8")
    assert rows[1][9] == "突破红线" and "4000000.00 ÷ 5000000.00" in rows[1][10]
    client.force_login(city_admin)
    assert (
        len(list(load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content)).active.iter_rows()))
        == 11
    )


def test_thresholds_page_and_edit(client, county_staff, city_admin, county_cooperative):
    url = reverse("projects:red-line-thresholds")
    client.force_login(county_staff)
    page = client.get(url).content.decode()
    assert "资产负债率" in page and "非工业企业 75%" in page
    edit = reverse("projects:red-line-edit")
    assert f"{edit}?key=" not in page
    assert client.get(edit, {"key": "debt_ratio"}).status_code == 403
    client.force_login(city_admin)
    assert f"{edit}?key=debt_ratio" in client.get(url).content.decode()
    assert client.get(edit, {"key": "cash_ratio"}).status_code == 404
    form = client.get(edit, {"key": "liquidity", "cooperative": county_cooperative.pk}).content.decode()
    assert "不低于" in form and "平台默认值" in form
    bad = client.post(
        f"{edit}?key=liquidity&cooperative={county_cooperative.pk}",
        {"limit": "1.2", "warning": "1.1", "source": "本社制度"},
    )
    assert (
        bad.status_code == 200
        and "is-invalid" in bad.content.decode()
        and "不能低于红线" in bad.content.decode()
    )
    assert not RedLine.objects.filter(cooperative=county_cooperative).exists()
    good = client.post(
        f"{edit}?key=liquidity&cooperative={county_cooperative.pk}",
        {"limit": "1.1", "warning": "1.3", "source": "本社制度"},
    )
    assert good.status_code == 302
    line = RedLine.objects.get(cooperative=county_cooperative, key="liquidity")
    assert (line.limit, line.warning, line.updated_by) == (Decimal("1.1"), Decimal("1.3"), city_admin)
    page = client.get(url).content.decode()
    assert "本社制度" in page and reverse("projects:red-line-clear") in page
    client.post(
        reverse("projects:red-line-clear"), {"cooperative": county_cooperative.pk, "key": "liquidity"}
    )
    assert not RedLine.objects.filter(cooperative=county_cooperative).exists()
    default = client.post(
        f"{edit}?key=debt_ratio", {"limit": "0.7", "warning": "0.6", "source": "市国资委通知"}
    )
    assert default.status_code == 302
    assert RedLine.objects.get(cooperative=None, key="debt_ratio").limit == Decimal("0.7")


def test_clear_and_edit_refused_to_staff(client, county_staff, county_cooperative, city_admin):
    red_lines.set_red_line(
        actor=city_admin,
        cooperative=county_cooperative,
        key="debt_ratio",
        direction="max",
        limit="0.7",
        warning="0.6",
        source="s",
    )
    client.force_login(county_staff)
    response = client.post(
        reverse("projects:red-line-clear"), {"cooperative": county_cooperative.pk, "key": "debt_ratio"}
    )
    assert response.status_code == 404  # not in the staff member's oversight reach
    assert RedLine.objects.filter(cooperative=county_cooperative).exists()
