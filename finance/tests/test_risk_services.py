# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from directory.models import Organization, OrganizationKind, PartyKind
from directory.services import ensure_party
from finance.models import RiskCompensationFund, RiskRole, RiskShare, RiskSharingScheme
from finance.services import risk
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import AccountKind, Movement, MovementKind, Posting

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    fund,
    funded,
    government,
    guarantor,
    scheme,
)

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 1)


def fund_postings_total(fund):
    total = Posting.objects.filter(
        account__kind=AccountKind.RISK_FUND, account__party__organization=fund.manager
    ).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


# --- funds ------------------------------------------------------------------------------------


def test_fund_is_created_for_a_government_department_or_cooperative(fund, government, county_staff):
    assert fund.manager == government and risk.fund_balance(fund) == Decimal("0.00")
    event = RiskCompensationFund.pgh_event_model.objects.filter(pgh_obj_id=fund.pk).latest("pgh_id")
    assert event.pgh_context.metadata["username"] == "coop_staff"
    with pytest.raises(ConflictError) as duplicate:
        risk.create_fund(
            actor=county_staff, name="第二个", manager=government, division=fund.division, source="x"
        )
    assert duplicate.value.code == "duplicate"


def test_fund_manager_must_be_government_or_cooperative(county_staff, bank, county_cooperative):
    with pytest.raises(DomainError) as refused:
        risk.create_fund(
            actor=county_staff,
            name="银行基金",
            manager=bank,
            division=county_cooperative.division,
            source="x",
        )
    assert "manager" in refused.value.fields
    with pytest.raises(DomainError) as blank:
        risk.create_fund(
            actor=county_staff,
            name=" ",
            manager=county_cooperative,
            division=county_cooperative.division,
            source="x",
        )
    assert "name" in blank.value.fields
    assert not RiskCompensationFund.objects.exists()


def test_only_the_loan_desk_creates_funds(bank_officer, government, county_cooperative):
    with pytest.raises(PermissionDeniedError):
        risk.create_fund(
            actor=bank_officer, name="x", manager=government, division=county_cooperative.division, source="x"
        )


def test_contribution_goes_through_the_ledger(fund, government, county_staff):
    movement = risk.contribute(
        actor=county_staff,
        fund=fund,
        contributor=government,
        amount="2500000.00",
        occurred_on=DAY,
        reference="财拨-001",
    )
    assert movement.kind == MovementKind.FUND_CONTRIBUTION and movement.occurred_on == DAY
    lines = {
        (p.account.kind, p.account.party_id): p.amount for p in movement.postings.select_related("account")
    }
    manager = ensure_party(government)
    assert lines == {
        (AccountKind.RISK_FUND, manager.pk): Decimal("2500000.00"),
        (AccountKind.FUND_CAPITAL, manager.pk): Decimal("-2500000.00"),
    }
    assert risk.fund_balance(fund) == Decimal("2500000.00") == fund_postings_total(fund)


def test_contribution_from_another_organization_credits_its_capital(fund, county_staff, city_cooperative):
    risk.contribute(
        actor=county_staff,
        fund=fund,
        contributor=city_cooperative,
        amount="100.00",
        occurred_on=DAY,
        reference="r",
    )
    capital = Posting.objects.get(account__kind=AccountKind.FUND_CAPITAL)
    assert capital.account.party == ensure_party(city_cooperative) and capital.amount == Decimal("-100.00")


def test_contribution_idempotency_key_counts_once(fund, government, county_staff):
    args = dict(actor=county_staff, fund=fund, contributor=government, occurred_on=DAY, reference="r1")
    first = risk.contribute(amount="1000.00", idempotency_key="bank-msg-1", **args)
    again = risk.contribute(amount="1000.00", idempotency_key="bank-msg-1", **args)
    assert again.pk == first.pk and first.idempotency_key == f"finance:fund:{fund.pk}:bank-msg-1"
    with pytest.raises(ConflictError) as reused:
        risk.contribute(amount="999.00", idempotency_key="bank-msg-1", **args)
    assert reused.value.code == "idempotency_key_reused"
    assert risk.fund_balance(fund) == Decimal("1000.00")
    assert Movement.objects.filter(kind=MovementKind.FUND_CONTRIBUTION).count() == 1


@pytest.mark.parametrize(
    ("amount", "day", "reference", "field"),
    [
        ("0", DAY, "r", "amount"),
        ("-5", DAY, "r", "amount"),
        ("1.005", DAY, "r", "amount"),
        ("abc", DAY, "r", "amount"),
        ("10", datetime.date(2099, 1, 1), "r", "occurred_on"),
        ("10", "2026-01-01", "r", "occurred_on"),
        ("10", DAY, "  ", "reference"),
    ],
)
def test_bad_contributions_are_refused_and_nothing_is_written(
    fund, government, county_staff, amount, day, reference, field
):
    with pytest.raises(DomainError) as refused:
        risk.contribute(
            actor=county_staff,
            fund=fund,
            contributor=government,
            amount=amount,
            occurred_on=day,
            reference=reference,
        )
    assert field in refused.value.fields
    assert not Movement.objects.exists()


def test_bank_cannot_contribute_through_the_desk(fund, government, bank_officer):
    with pytest.raises(PermissionDeniedError):
        risk.contribute(
            actor=bank_officer, fund=fund, contributor=government, amount="1", occurred_on=DAY, reference="r"
        )


# --- schemes ----------------------------------------------------------------------------------


def test_default_scheme_is_4_3_2_1_with_its_source(
    scheme, fund, guarantor, county_cooperative, bank, government
):
    shares = {s.role: (s.party, s.share) for s in scheme.shares.all()}
    assert shares == {
        RiskRole.GUARANTOR: (ensure_party(guarantor), Decimal("0.4")),
        RiskRole.COOPERATIVE: (ensure_party(county_cooperative), Decimal("0.3")),
        RiskRole.BANK: (ensure_party(bank), Decimal("0.2")),
        RiskRole.GOVERNMENT_FUND: (ensure_party(government), Decimal("0.1")),
    }
    assert scheme.fund == fund and "R25" in scheme.source and "4:3:2:1" in scheme.source
    assert sum(shares[r][1] for r in shares) == Decimal("1")


def _shares(guarantor_org, cooperative_org, bank_org, overrides):
    rows = {
        RiskRole.GUARANTOR: (ensure_party(guarantor_org), Decimal("0.4")),
        RiskRole.COOPERATIVE: (ensure_party(cooperative_org), Decimal("0.3")),
        RiskRole.BANK: (ensure_party(bank_org), Decimal("0.2")),
        RiskRole.GOVERNMENT_FUND: (None, Decimal("0.1")),
    }
    rows.update(overrides)
    return [(role, party, share) for role, (party, share) in rows.items() if share is not None]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({RiskRole.BANK: ("bank", Decimal("0.1"))}, "合计须恰好等于1"),
        ({RiskRole.BANK: ("bank", Decimal("0.3"))}, "合计须恰好等于1"),
        ({RiskRole.BANK: ("bank", None)}, "合计须恰好等于1"),
        ({RiskRole.BANK: ("bank", Decimal("0"))}, "须大于0且不超过1"),
        ({RiskRole.BANK: ("bank", Decimal("1.2"))}, "须大于0且不超过1"),
        ({RiskRole.BANK: ("bank", Decimal("0.2000001"))}, "最多保留六位小数"),
        ({RiskRole.BANK: ("bank", "二成")}, "不是有效数字"),
        ({RiskRole.GUARANTOR: ("bank", Decimal("0.4"))}, "担保机构"),
        ({RiskRole.BANK: ("guarantor", Decimal("0.2"))}, "银行"),
        ({RiskRole.COOPERATIVE: ("bank", Decimal("0.3"))}, "两山合作社"),
        ({RiskRole.COOPERATIVE: ("household", Decimal("0.3"))}, "须选择一个机构"),
        ({RiskRole.GOVERNMENT_FUND: ("bank", Decimal("0.1"))}, "管理机构"),
    ],
)
def test_bad_schemes_are_refused_in_chinese_and_nothing_is_written(
    county_staff, county_cooperative, fund, guarantor, bank, households, change, message
):
    parties = {"bank": ensure_party(bank), "guarantor": ensure_party(guarantor), "household": households[0]}
    overrides = {role: (parties[who], share) for role, (who, share) in change.items()}
    with pytest.raises(DomainError) as refused:
        risk.create_scheme(
            actor=county_staff,
            name="方案",
            division=county_cooperative.division,
            fund=fund,
            source="测试",
            shares=_shares(guarantor, county_cooperative, bank, overrides),
        )
    assert message in str(refused.value.detail) and "shares" in refused.value.fields
    assert not RiskSharingScheme.objects.exists() and not RiskShare.objects.exists()


def test_duplicate_role_unknown_role_and_missing_fund_are_refused(
    county_staff, county_cooperative, fund, guarantor, bank
):
    division = county_cooperative.division
    g, b = ensure_party(guarantor), ensure_party(bank)
    cases = [
        ([("guarantor", g, "0.5"), ("guarantor", g, "0.5")], fund, "重复"),
        ([("insurer", g, "1")], fund, "无效"),
        ([], fund, "至少"),
        ([("government_fund", None, "0.5"), ("bank", b, "0.5")], None, "须选择风险补偿基金"),
    ]
    for shares, scheme_fund, message in cases:
        with pytest.raises(DomainError) as refused:
            risk.create_scheme(
                actor=county_staff,
                name="方案",
                division=division,
                fund=scheme_fund,
                source="测试",
                shares=shares,
            )
        assert message in str(refused.value.detail)
    assert not RiskSharingScheme.objects.exists()


def test_scheme_fund_must_cover_the_division(city_admin, fund, guarantor, bank, lishui):
    with pytest.raises(DomainError) as refused:
        risk.create_scheme(
            actor=city_admin,
            name="全市方案",
            division=lishui,
            fund=fund,
            source="测试",
            shares=[("government_fund", None, "0.5"), ("bank", bank, "0.5")],
        )
    assert "fund" in refused.value.fields


def test_scheme_without_fund_and_organizations_given_directly(
    county_staff, county_cooperative, guarantor, bank
):
    created = risk.create_scheme(
        actor=county_staff,
        name="担保+银行",
        division=county_cooperative.division,
        source="协议",
        shares=[("guarantor", guarantor, "0.8"), ("bank", bank, "0.2")],
    )
    assert {(s.role, s.party.kind) for s in created.shares.all()} == {
        ("guarantor", PartyKind.ORGANIZATION),
        ("bank", PartyKind.ORGANIZATION),
    }


def test_bank_officer_cannot_create_schemes(bank_officer, county_cooperative, guarantor, bank):
    with pytest.raises(PermissionDeniedError):
        risk.create_scheme(
            actor=bank_officer,
            name="x",
            division=county_cooperative.division,
            source="x",
            shares=[("guarantor", guarantor, "0.8"), ("bank", bank, "0.2")],
        )


def test_third_shares_split_exactly(county_staff, county_cooperative, guarantor, bank):
    third = Decimal("0.333333")
    thirds = risk.create_scheme(
        actor=county_staff,
        name="三方",
        division=county_cooperative.division,
        source="测试",
        shares=[
            ("guarantor", guarantor, third),
            ("bank", bank, third),
            ("cooperative", county_cooperative, Decimal("0.333334")),
        ],
    )
    parts = risk.split_loss(thirds, Decimal("100.00"))
    assert [amount for _s, amount in parts] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert sum(amount for _s, amount in parts) == Decimal("100.00")
    assert risk.split_loss(thirds, Decimal("0.01"))[2][1] == Decimal("0.01")
    assert [a for _s, a in risk.split_loss(thirds, Decimal("0"))] == [0, 0, 0]


def test_default_scheme_splits_a_loss_exactly(scheme):
    parts = {share.role: amount for share, amount in risk.split_loss(scheme, Decimal("203185.37"))}
    assert parts == {
        RiskRole.GUARANTOR: Decimal("81274.15"),
        RiskRole.COOPERATIVE: Decimal("60955.61"),
        RiskRole.BANK: Decimal("40637.07"),
        RiskRole.GOVERNMENT_FUND: Decimal("20318.54"),
    }
    assert sum(parts.values()) == Decimal("203185.37")


def test_fund_balance_counts_only_its_own_account(fund, funded, government, county_staff, county_cooperative):
    funded(Decimal("500.00"))
    other_government = Organization.objects.create(
        name="另一财政局（测试）", kind=OrganizationKind.GOVERNMENT, division=county_cooperative.division
    )
    other = risk.create_fund(
        actor=county_staff, name="另一基金", manager=other_government, division=fund.division, source="x"
    )
    risk.contribute(
        actor=county_staff,
        fund=other,
        contributor=other_government,
        amount="7.00",
        occurred_on=DAY,
        reference="r",
    )
    assert risk.fund_balance(fund) == Decimal("500.00") == fund_postings_total(fund)
    assert risk.fund_balance(other) == Decimal("7.00") == fund_postings_total(other)
