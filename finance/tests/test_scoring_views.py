# ruff: noqa: F811  (fixtures imported from test_scoring_fixtures)
"""Eco-credit pages: the party's credit page, recompute, eco-behaviour list / form / revoke, the
scores list with its XLSX export, and the scorecards page."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from directory.models import User
from finance.models import ApplicationStatus, CreditScore, EcoBehaviourRecord, Scorecard
from finance.services import scoring

from .test_scoring_fixtures import (  # noqa: F401  (fixtures)
    days_ago,
    household_card,
    other_county,
    other_village_clerk,
    record,
    village_clerk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_party_credit_page_for_staff_banks_and_strangers(
    household_card,
    households,
    record,
    login,
    county_staff,
    bank_officer,
    other_village_clerk,
    make_application,
):
    party = households[0]
    record(party, "standard_pilot", "8")
    scoring.recompute_credit_score(party.pk)
    url = reverse("finance:party-credit", args=[party.pk])
    page = login(county_staff).get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "616.00" in html and "credit-factors" in html and "按每分 2 分计 16 分" in html
    assert "vendor/echarts/echarts.min.js" in html and 'id="credit-series"' in html
    assert "eco-records" in html and "重新评分" in html
    assert login(other_village_clerk).get(url).status_code == 404
    assert login(bank_officer).get(url).status_code == 404  # no application sent to the bank yet
    make_application(applicant=party, status=ApplicationStatus.APPROVED)
    bank_page = login(bank_officer).get(url).content.decode()
    assert "616.00" in bank_page and "credit-factors" in bank_page
    assert "eco-records" not in bank_page and "重新评分" not in bank_page  # banks read, never act


def test_recompute_button(household_card, households, login, county_staff, bank_officer, make_application):
    party = households[1]
    url = reverse("finance:party-credit-recompute", args=[party.pk])
    assert (
        "尚未评分"
        in login(county_staff).get(reverse("finance:party-credit", args=[party.pk])).content.decode()
    )
    response = login(county_staff).post(url)
    assert response.status_code == 302 and CreditScore.objects.get(party=party).score == 600
    make_application(applicant=party, status=ApplicationStatus.APPROVED)
    assert login(bank_officer).post(url).status_code == 403
    assert CreditScore.objects.filter(party=party).count() == 1


def test_record_form_checks_polarity_and_records(
    households, village, login, village_clerk, bank_officer, django_capture_on_commit_callbacks
):
    party = households[0]
    url = reverse("finance:eco-behaviour-create")
    client = login(village_clerk)
    form_page = client.get(url, {"party": party.pk}).content.decode()
    assert f'<option value="{party.pk}" selected>' in form_page
    data = {
        "party": party.pk,
        "division": village.pk,
        "category": "illegal_discharge",
        "points": "3",
        "occurred_on": str(days_ago(2)),
        "description": "生活污水直排",
        "source_document": "评议记录",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and "该类别是扣分项，分值须为负数。" in refused.content.decode()
    assert EcoBehaviourRecord.objects.count() == 0
    with django_capture_on_commit_callbacks() as callbacks:
        done = client.post(url, {**data, "points": "-3"})
    assert done.status_code == 302 and done["Location"] == reverse("finance:party-credit", args=[party.pk])
    assert EcoBehaviourRecord.objects.get().points == -3 and len(callbacks) == 1
    assert login(bank_officer).get(url).status_code == 403


def test_revoke_form(households, record, login, county_staff, other_village_clerk):
    made = record(households[0], "garbage_sorting", "1")
    url = reverse("finance:eco-behaviour-revoke", args=[made.pk])
    assert login(other_village_clerk).get(url).status_code == 404
    client = login(county_staff)
    blank = client.post(url, {"reason": ""})
    assert blank.status_code == 200 and "is-invalid" in blank.content.decode()
    assert client.post(url, {"reason": "重复登记"}).status_code == 302
    made.refresh_from_db()
    assert made.revoked_at is not None
    again = client.post(url, {"reason": "重复登记"}, follow=True)
    assert "该记录已于" in again.content.decode()


def test_lists_and_export(
    household_card, households, record, login, county_staff, django_assert_max_num_queries
):
    for party in households:
        record(party, "garbage_sorting", "1")
        scoring.recompute_credit_score(party.pk)
    client = login(county_staff)
    with django_assert_max_num_queries(12):
        scores = client.get(reverse("finance:credit-score-list"))
    html = scores.content.decode()
    assert html.count("602.00") == 3
    assert reverse("finance:party-credit", args=[households[0].pk]) in html
    export = client.get(reverse("finance:credit-score-list"), {"export": "xlsx"})
    sheet = load_workbook(BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert (
        rows[0][0] == "主体"
        and len(rows) == 4
        and {row[0] for row in rows[1:]} == {"张山林", "李秀竹", "王青溪"}
    )
    with django_assert_max_num_queries(12):
        records = client.get(reverse("finance:eco-behaviour-list"), {"category": "garbage_sorting"})
    assert records.content.decode().count(reverse("finance:party-credit", args=[households[1].pk])) == 1
    assert reverse("finance:eco-behaviour-create") in records.content.decode()


def test_scorecards_page_and_defaults(login, city_admin, county_staff, bank_officer, demo_region):
    url = reverse("finance:scorecard-list")
    assert "创建默认评分卡" not in login(county_staff).get(url).content.decode()
    assert login(county_staff).post(reverse("finance:scorecard-defaults")).status_code == 403
    page = login(city_admin).get(url).content.decode()
    assert "尚无评分卡" in page and "创建默认评分卡" in page
    login(city_admin).post(reverse("finance:scorecard-defaults"))
    assert Scorecard.objects.filter(is_active=True).count() == 3
    bank_page = login(bank_officer).get(url).content.decode()
    assert "农户生态信用评分卡" in bank_page and "雾溪" in bank_page and "AAA ≥ 850" in bank_page
    assert login(User.objects.get(username="investor")).get(url).status_code == 403
