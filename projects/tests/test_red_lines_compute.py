# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""Each red line computed from the ledgers: ok → warning → breach with numbers built through the
real services, the investee-lending breach and its disappearance, idempotent recompute and pinned
query counts."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from finance.services import loans as loan_services
from projects.models import RedLine, RedLineKey, RedLineReading, RedLineStatus
from projects.services import books, red_lines
from tmcs.errors import DomainError

from .fixtures_red_lines import (  # noqa: F401  (fixtures)
    LATER,
    PAST,
    admitted_project,
    auditor,
    borrow,
    capital,
    coop_scheme,
    firm,
    invest,
    lend,
    lender,
    red_line_defaults,
    second_lender,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("red_line_defaults")]


def readings(cooperative, as_of=None):
    return {r.key: r for r in red_lines.compute_red_lines(cooperative, as_of)}


def reading(cooperative, key, as_of=None):
    return readings(cooperative, as_of)[key]


# --- debt ratio and liquidity -----------------------------------------------------------------


def test_empty_books_have_no_data(county_cooperative):
    got = readings(county_cooperative)
    assert got[RedLineKey.DEBT_RATIO].status == RedLineStatus.NO_DATA
    assert got[RedLineKey.DEBT_RATIO].value is None
    liquidity = got[RedLineKey.LIQUIDITY]
    assert liquidity.status == RedLineStatus.NO_DATA
    assert "无短期负债" in liquidity.details["explanation"]
    for key in (
        RedLineKey.BORROWER_CONCENTRATION,
        RedLineKey.PROJECT_CONCENTRATION,
        RedLineKey.INVESTEE_LENDING,
    ):
        assert got[key].value == 0 and got[key].status == RedLineStatus.OK


def test_debt_ratio_ok_warning_breach(capital, borrow, county_cooperative):
    capital("1000000")
    borrow("1000000")
    ok = reading(county_cooperative, RedLineKey.DEBT_RATIO)
    assert ok.value == Decimal("0.500000") and ok.status == RedLineStatus.OK
    assert ok.numerator == Decimal("1000000.00") and ok.denominator == Decimal("2000000.00")
    assert ok.limit == Decimal("0.75") and ok.warning == Decimal("0.65") and ok.direction == "max"
    assert {a["account"]: a["amount"] for a in ok.details["assets"]}["cash"] == "2000000.00"
    assert {a["account"]: a["amount"] for a in ok.details["liabilities"]}["borrowings"] == "1000000.00"
    assert "1000000.00 ÷ 2000000.00" in ok.details["explanation"]
    borrow("1000000")
    warning = reading(county_cooperative, RedLineKey.DEBT_RATIO)
    assert warning.value == Decimal("0.666667") and warning.status == RedLineStatus.WARNING
    borrow("2000000")
    breach = reading(county_cooperative, RedLineKey.DEBT_RATIO)
    assert breach.value == Decimal("0.800000") and breach.status == RedLineStatus.BREACH
    assert RedLineReading.objects.filter(cooperative=county_cooperative, key="debt_ratio").count() == 1


def test_liquidity_ok_warning_breach_and_boundary(capital, borrow, invest, firm, county_cooperative):
    capital("1000000")
    borrow("1000000")
    ok = reading(county_cooperative, RedLineKey.LIQUIDITY)
    assert ok.value == Decimal("2.000000") and ok.status == RedLineStatus.OK
    assert ok.direction == "min" and "借款按短期负债计" in ok.details["explanation"]
    invest("800000")  # cash 1.2M against 1M: exactly on the warning line is not a warning
    assert reading(county_cooperative, RedLineKey.LIQUIDITY).status == RedLineStatus.OK
    invest("100000", investee=firm)
    warning = reading(county_cooperative, RedLineKey.LIQUIDITY)
    assert warning.value == Decimal("1.100000") and warning.status == RedLineStatus.WARNING
    borrow("1000000")  # (1.1M + 1M) / 2M = 1.05: still a warning
    assert reading(county_cooperative, RedLineKey.LIQUIDITY).value == Decimal("1.050000")
    third = Organization.objects.create(
        name="第三家企业（测试）", kind=OrganizationKind.ENTERPRISE, division=county_cooperative.division
    )
    invest("400000", investee=third, share="0.1")  # (1.1M − 0.4M + 1M) / 2M
    breach = reading(county_cooperative, RedLineKey.LIQUIDITY)
    assert breach.value == Decimal("0.850000") and breach.status == RedLineStatus.BREACH
    # the debt ratio counts the stakes as assets: investing does not change it
    assert reading(county_cooperative, RedLineKey.DEBT_RATIO).value == Decimal("0.666667")


def test_investment_income_is_in_net_assets_not_an_asset_or_liability(
    capital, borrow, invest, county_staff, county_cooperative
):
    capital("1000000")
    stake = invest("200000")
    books.dispose_equity_stake(
        actor=county_staff, stake=stake, proceeds="260000", disposed_on=LATER, reference="TC"
    )  # 60,000 投资收益
    borrow("530000")
    got = readings(county_cooperative)
    debt = got[RedLineKey.DEBT_RATIO]
    assert debt.value == Decimal("0.333333")  # 530,000 ÷ (1,060,000 + 530,000)
    listed = {a["account"] for a in debt.details["assets"]} | {
        a["account"] for a in debt.details["liabilities"]
    }
    assert "investment_income" not in listed and debt.details["net_assets"] == "1060000.00"
    assert got[RedLineKey.BORROWER_CONCENTRATION].details["net_assets"] == "1060000.00"
    sheet = books.balance_sheet(county_cooperative)
    assert sheet["result"] == Decimal("60000.00") and sheet["paid_in_capital"] == Decimal("1000000.00")
    assert sheet["net_assets"] == sheet["paid_in_capital"] + sheet["result"]


def test_as_of_reads_the_books_of_that_day(capital, borrow, county_cooperative):
    capital("1000000", on=PAST)
    borrow("4000000", on=LATER)
    before = reading(county_cooperative, RedLineKey.DEBT_RATIO, as_of=LATER - datetime.timedelta(days=1))
    assert before.value == Decimal("0") and before.status == RedLineStatus.OK
    assert reading(county_cooperative, RedLineKey.DEBT_RATIO).status == RedLineStatus.BREACH
    assert RedLineReading.objects.filter(cooperative=county_cooperative, key="debt_ratio").count() == 2


# --- concentration ----------------------------------------------------------------------------


def test_borrower_concentration_ok_warning_breach(capital, lend, households, county_cooperative):
    capital("1000000")
    lend("140000", households[0])  # × 0.5 = 70,000 = 7 %
    lend("500000", households[1], share="0.1")  # 50,000 to another borrower
    ok = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION)
    assert ok.value == Decimal("0.070000") and ok.status == RedLineStatus.OK
    assert ok.numerator == Decimal("70000.00") and ok.denominator == Decimal("1000000.00")
    top = ok.details["largest_borrowers"]
    assert [row["exposure"] for row in top] == ["70000.00", "50000.00"]
    assert top[0]["party"] == households[0].pk and top[0]["name"] == str(households[0])
    assert ok.details["loans_counted"] == 2 and ok.details["total_exposure"] == "120000.00"
    lend("20000", households[0])  # 80,000 = 8 %: on the warning line
    assert reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION).status == RedLineStatus.OK
    lend("10000", households[0])  # 85,000
    warning = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION)
    assert warning.value == Decimal("0.085000") and warning.status == RedLineStatus.WARNING
    lend("40000", households[0])  # 105,000
    breach = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION)
    assert breach.value == Decimal("0.105000") and breach.status == RedLineStatus.BREACH
    assert breach.details["largest_borrowers"][0]["loans"] == 4


def test_exposure_follows_repayments_and_ignores_loans_outside(
    capital,
    lend,
    households,
    county_cooperative,
    bank_officer,
    make_product,
    make_application,
    make_loan,
    coop_scheme,
):
    capital("1000000")
    loan = lend("200000", households[0])  # 100,000 = 10 %
    # a loan without a risk scheme, and one under a scheme where the cooperative takes no share
    make_loan(make_application(applicant=households[1], product=make_product(), amount=Decimal("900000")))
    assert reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION).value == Decimal("0.100000")
    position = loan_services.position(loan)
    loan_services.record_repayment(
        actor=bank_officer, loan=loan, amount=position.payoff, paid_on=timezone.localdate()
    )
    loan.refresh_from_db()
    assert loan.status == "paid_off"
    after = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION)
    assert after.value == 0 and after.details["loans_counted"] == 0


def test_partial_repayment_reduces_outstanding(capital, lend, households, county_cooperative, bank_officer):
    capital("1000000")
    loan = lend("120000", households[0])  # 12 × 10,000 from February
    loan_services.record_repayment(
        actor=bank_officer, loan=loan, amount=Decimal("10500"), paid_on=datetime.date(2026, 2, 15)
    )
    loan.refresh_from_db()
    paid = sum(i.principal_paid for i in loan.installments.all())
    expected = ((Decimal("120000") - paid) * Decimal("0.5")).quantize(Decimal("0.01"))
    got = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION)
    assert got.numerator == expected and paid > 0
    # before the repayment the whole principal was outstanding
    early = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION, as_of=datetime.date(2026, 2, 1))
    assert early.numerator == Decimal("60000.00")


def test_concentration_with_no_net_assets_is_a_breach(borrow, lend, households, county_cooperative):
    borrow("100000")  # net assets 0
    lend("10000", households[0])
    got = reading(county_cooperative, RedLineKey.BORROWER_CONCENTRATION)
    assert got.status == RedLineStatus.BREACH and got.value is None
    assert "净资产 0.00 元不为正" in got.details["explanation"]


def test_project_concentration_ok_warning_breach(
    capital, invest, lend, households, investor_org, admitted_project, make_project, county_cooperative
):
    capital("1000000")
    project = admitted_project(owner=investor_org)
    make_project(owner=investor_org)  # a draft project counts for nothing
    invest("100000")  # a stake in the owner: 10 %
    ok = reading(county_cooperative, RedLineKey.PROJECT_CONCENTRATION)
    assert ok.value == Decimal("0.100000") and ok.status == RedLineStatus.OK
    assert ok.details["largest_projects"][0]["project"] == project.pk
    project.loans.add(lend("50000", households[0]))  # + 25,000
    warning = reading(county_cooperative, RedLineKey.PROJECT_CONCENTRATION)
    assert warning.value == Decimal("0.125000") and warning.status == RedLineStatus.WARNING
    row = warning.details["largest_projects"][0]
    assert (row["loan_exposure"], row["stake"], row["exposure"]) == ("25000.00", "100000.00", "125000.00")
    project.loans.add(lend("80000", households[1]))  # + 40,000
    breach = reading(county_cooperative, RedLineKey.PROJECT_CONCENTRATION)
    assert breach.value == Decimal("0.165000") and breach.status == RedLineStatus.BREACH
    # the households are not investees: no investee lending
    assert reading(county_cooperative, RedLineKey.INVESTEE_LENDING).status == RedLineStatus.OK


# --- investee lending -------------------------------------------------------------------------


def test_investee_lending_breach_gone_when_stake_disposed(
    capital, invest, lend, investor_org, county_cooperative, county_staff
):
    capital("1000000")
    stake = invest("200000")
    loan = lend("100000", ensure_party(investor_org), share="0.3")
    got = reading(county_cooperative, RedLineKey.INVESTEE_LENDING)
    assert got.status == RedLineStatus.BREACH and got.value == Decimal("30000.000000")
    assert got.numerator == Decimal("30000.00") and got.limit == 0
    [line] = got.details["loans"]
    assert line["loan"] == loan.pk and line["number"] == loan.number and line["exposure"] == "30000.00"
    assert line["borrower"] == investor_org.name and line["share"] == "0.300000"
    assert got.details["stakes"][0]["stake"] == stake.pk
    assert loan.number in got.details["explanation"]
    books.dispose_equity_stake(
        actor=county_staff,
        stake=stake,
        proceeds=Decimal("200000"),
        disposed_on=timezone.localdate(),
        reference="TC-1",
    )
    after = reading(county_cooperative, RedLineKey.INVESTEE_LENDING)
    assert after.status == RedLineStatus.OK and after.value == 0 and after.details["loans"] == []
    # the same day's reading was replaced, not duplicated
    assert RedLineReading.objects.filter(cooperative=county_cooperative, key="investee_lending").count() == 1


def test_investee_lending_gone_when_loan_paid(
    capital, invest, lend, investor_org, county_cooperative, bank_officer
):
    capital("1000000")
    invest("200000")
    loan = lend("100000", ensure_party(investor_org))
    assert reading(county_cooperative, RedLineKey.INVESTEE_LENDING).status == RedLineStatus.BREACH
    payoff = loan_services.position(loan).payoff
    loan_services.record_repayment(actor=bank_officer, loan=loan, amount=payoff, paid_on=timezone.localdate())
    assert reading(county_cooperative, RedLineKey.INVESTEE_LENDING).status == RedLineStatus.OK
    # yesterday it was still lent
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert (
        reading(county_cooperative, RedLineKey.INVESTEE_LENDING, as_of=yesterday).status
        == RedLineStatus.BREACH
    )


def test_investee_loan_without_cooperative_share_is_not_lending(
    capital, invest, investor_org, county_cooperative, make_product, make_application, make_loan
):
    capital("1000000")
    invest("200000")
    make_loan(make_application(applicant=ensure_party(investor_org), product=make_product()))
    got = reading(county_cooperative, RedLineKey.INVESTEE_LENDING)
    assert got.status == RedLineStatus.OK and "均无由本社分担风险的在贷贷款" in got.details["explanation"]


# --- thresholds, recompute, queries -----------------------------------------------------------


def test_cooperative_override_applies(capital, borrow, county_cooperative, city_admin):
    capital("1000000")
    borrow("1000000")
    red_lines.set_red_line(
        actor=city_admin,
        cooperative=county_cooperative,
        key="debt_ratio",
        direction="max",
        limit=Decimal("0.45"),
        warning=Decimal("0.40"),
        source="本社董事会决议（测试）",
    )
    got = reading(county_cooperative, RedLineKey.DEBT_RATIO)
    assert got.status == RedLineStatus.BREACH and got.limit == Decimal("0.45")
    assert (
        got.details["threshold"]["own"] is True
        and got.details["threshold"]["source"] == "本社董事会决议（测试）"
    )


def test_compute_all_covers_active_cooperatives_and_is_idempotent(
    capital, county_cooperative, city_cooperative, django_assert_max_num_queries
):
    capital("1000000")
    first = red_lines.compute_all()
    assert {r.cooperative_id for r in first} == {county_cooperative.pk, city_cooperative.pk}
    assert all(r.pk for r in first)
    second = red_lines.compute_all()
    assert sorted(r.pk for r in first) == sorted(r.pk for r in second)
    assert RedLineReading.objects.count() == 10


def test_missing_thresholds_and_future_dates_refused(county_cooperative):
    with pytest.raises(DomainError) as info:
        red_lines.compute_red_lines(county_cooperative, timezone.localdate() + datetime.timedelta(days=1))
    assert info.value.code == "invalid"
    RedLine.objects.filter(key="liquidity").delete()
    with pytest.raises(DomainError) as info:
        red_lines.compute_red_lines(county_cooperative)
    assert info.value.code == "no_red_line" and "流动比率" in str(info.value.detail)
    assert RedLineReading.objects.count() == 0


def test_query_count_does_not_grow_with_loans_and_movements(
    capital,
    borrow,
    invest,
    firm,
    lend,
    households,
    investor_org,
    admitted_project,
    county_cooperative,
    django_assert_num_queries,
):
    capital("1000000")
    project = admitted_project(owner=investor_org)
    project.loans.add(lend("10000", households[0]))
    invest("1000", investee=firm)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            red_lines.compute_red_lines(county_cooperative)
        return len(ctx.captured_queries)

    few = count()
    assert few <= 13
    for k in range(5):
        borrow(f"{1000 + k}")
        project.loans.add(lend(f"{20000 + k}", households[k % 3]))
    invest("2000", investee=investor_org)
    assert count() == few
    with django_assert_num_queries(few):
        red_lines.compute_red_lines(county_cooperative)
