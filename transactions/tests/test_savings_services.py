# ruff: noqa: F811  (fixtures imported from fixtures_savings are parameters here)
"""生态资源储蓄单 services: issuing (one per beneficiary × asset, exact amounts, income rights,
idempotent, all-or-nothing), cancelling (refused while pledged), maturity and verification."""

import datetime
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from django.utils import timezone

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from resources import services as registry
from resources.models import Right, RightKind, RightStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.models import DocumentCounter, RevenueModel, SavingsSlip, SlipStatus
from transactions.services import savings

from .fixtures_savings import (  # noqa: F401  (fixtures)
    ANNUAL,
    END,
    START,
    issued_slips,
    make_savings_contract,
    savings_contract,
    savings_parcels,
)


def income_rights():
    return Right.objects.filter(kind=RightKind.INCOME)


def counter(prefix="CX"):
    row = DocumentCounter.objects.filter(prefix=prefix).first()
    return row.last if row else 0


def pledge(staff, slip, amount="10000", end=datetime.date(2029, 2, 1)):
    """A pledge of the slip's income right straight in the registry (finance is tested apart)."""
    bank = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")
    return registry.add_pledge(
        actor=staff,
        right=slip.income_right,
        holder=ensure_party(bank),
        rank=1,
        secured_amount=amount,
        start=datetime.date(2026, 2, 1),
        end=end,
        source_document="抵质押登记 ZY-TEST（贷款申请 SQ-TEST）",
    )


# --- issuing ---------------------------------------------------------------------------------------


def test_issue_one_slip_per_beneficiary_and_asset_with_exact_amounts(
    issued_slips, savings_contract, savings_parcels, households, county_staff
):
    slips = issued_slips
    h1, h2, h3 = households
    assert [(s.asset_id, s.holder_id) for s in slips] == [
        (savings_parcels[0].pk, h1.pk),
        (savings_parcels[0].pk, h2.pk),
        (savings_parcels[1].pk, h3.pk),
    ]
    assert sum(s.guaranteed_annual_amount for s in slips) == ANNUAL
    weights = {item.asset_id: Fraction(str(item.weight)) for item in savings_contract.items.all()}
    total = sum(weights.values())
    for slip in slips:
        share = Fraction(slip.share_numerator, slip.share_denominator)
        exact = Fraction(str(ANNUAL)) * weights[slip.asset_id] / total * share
        assert abs(Fraction(str(slip.guaranteed_annual_amount)) - exact) < Fraction(1, 100)
        assert slip.status == SlipStatus.ACTIVE and slip.issued_by == county_staff
        assert (slip.start_date, slip.end_date) == (START, END)
        assert slip.number.startswith(f"CX{timezone.localdate().year}")
        assert len(slip.verification_code) == 12 and slip.verification_code.isalnum()
        right = slip.income_right
        assert right.kind == RightKind.INCOME and right.holder_id == slip.holder_id
        assert right.pledge_once and right.certificate_number == slip.number
        assert Fraction(right.share_numerator, right.share_denominator) == share
        assert (right.period.lower, right.period.upper) == (START, END)
        assert savings_contract.number in right.source_document
        calc = slip.calculation
        assert calc["contract"] == savings_contract.number and calc["rounding"] == "largest_remainder"
        assert calc["right_share"] == f"{share.numerator}/{share.denominator}" or share == 1
        assert Fraction(calc["exact_amount"]) == exact
        assert calc["guaranteed_annual_amount"] == f"{slip.guaranteed_annual_amount:f}"
        assert "30%" in slip.dividend_rule and "储蓄分红" in slip.dividend_rule
    assert [(s.share_numerator, s.share_denominator) for s in slips] == [(1, 3), (2, 3), (1, 1)]
    assert len({s.verification_code for s in slips}) == 3


def test_issuing_again_creates_nothing(issued_slips, savings_contract, county_staff):
    rights, numbers = income_rights().count(), counter()
    again = savings.issue_slips(actor=county_staff, contract=savings_contract)
    assert [s.pk for s in again] == [s.pk for s in issued_slips]
    assert SavingsSlip.objects.count() == 3 and income_rights().count() == rights == 3
    assert counter() == numbers


def test_amounts_add_up_for_awkward_annual_amounts(
    make_savings_contract, registered_asset, households, county_staff
):
    h1, h2, h3 = households
    assets = [
        registered_asset([(h1, "1/7"), (h2, "3/7"), (h3, "3/7")], name="七分林地", dx=0.06),
        registered_asset([(h2, "1/3"), (h3, "2/3")], name="三分林地", dx=0.064),
        registered_asset([(h1, 1)], name="整林地", dx=0.068),
    ]
    contract = make_savings_contract(assets, annual="1000.01", rate="0")
    slips = savings.issue_slips(actor=county_staff, contract=contract)
    assert len(slips) == 6
    assert sum(s.guaranteed_annual_amount for s in slips) == Decimal("1000.01")
    assert all(s.dividend_rule.endswith("本储蓄单不参与经营收益分红。") for s in slips)


def test_issue_refuses_other_models_drafts_and_strangers(
    make_savings_contract, savings_parcels, county_staff, bank_officer
):
    rent = make_savings_contract(savings_parcels[:1], model=RevenueModel.FIXED_RENT, rate="0")
    with pytest.raises(DomainError) as refused:
        savings.issue_slips(actor=county_staff, contract=rent)
    assert refused.value.code == "not_savings"
    draft = make_savings_contract(savings_parcels[1:], sign=False)
    with pytest.raises(ConflictError) as refused:
        savings.issue_slips(actor=county_staff, contract=draft)
    assert refused.value.code == "not_signed"
    with pytest.raises(PermissionDeniedError):
        savings.issue_slips(actor=bank_officer, contract=draft)
    assert not SavingsSlip.objects.exists() and not income_rights().exists() and counter() == 0


def test_issue_refuses_a_contract_whose_term_has_ended(make_savings_contract, savings_parcels, county_staff):
    contract = make_savings_contract(
        savings_parcels, start=datetime.date(2024, 1, 1), end=datetime.date(2026, 11, 1)
    )
    with pytest.raises(ConflictError) as refused:
        savings.issue_slips(actor=county_staff, contract=contract)
    assert refused.value.code == "contract_ended"
    assert not SavingsSlip.objects.exists() and not income_rights().exists()


def test_issue_is_all_or_nothing(savings_contract, savings_parcels, county_staff):
    """The second asset is frozen by a dispute: its income right cannot be granted, so the first
    asset's slips are not issued either."""
    registry.freeze_for_dispute(
        actor=county_staff,
        asset=savings_parcels[1],
        reason="四至争议（测试）",
        source_document="调解申请书（测试）",
    )
    with pytest.raises(ConflictError):
        savings.issue_slips(actor=county_staff, contract=savings_contract)
    assert not SavingsSlip.objects.exists() and not income_rights().exists() and counter() == 0


# --- cancelling ------------------------------------------------------------------------------------


def test_cancel_ends_the_income_right_and_reissue_replaces_the_slip(
    issued_slips, savings_contract, county_staff
):
    slip = issued_slips[0]
    with pytest.raises(DomainError) as refused:
        savings.cancel_slip(actor=county_staff, slip=slip, reason="  ")
    assert refused.value.fields == {"reason": ["请填写注销原因。"]}
    slip.refresh_from_db()
    assert slip.status == SlipStatus.ACTIVE

    savings.cancel_slip(actor=county_staff, slip=slip, reason="储蓄单遗失，申请补发")
    slip.refresh_from_db()
    assert slip.status == SlipStatus.CANCELLED and slip.end_reason == "储蓄单遗失，申请补发"
    assert slip.ended_at is not None
    assert slip.income_right.status == RightStatus.ENDED
    with pytest.raises(InvalidTransition):
        savings.cancel_slip(actor=county_staff, slip=slip, reason="再次注销")

    live = savings.issue_slips(actor=county_staff, contract=savings_contract)
    assert len(live) == 3 and SavingsSlip.objects.count() == 4
    replacement = next(s for s in live if (s.holder_id, s.asset_id) == (slip.holder_id, slip.asset_id))
    assert replacement.number != slip.number and replacement.verification_code != slip.verification_code
    assert replacement.guaranteed_annual_amount == slip.guaranteed_annual_amount
    assert replacement.calculation["replaces"] == slip.number
    assert replacement.income_right.status == RightStatus.ACTIVE


def test_cancel_refused_while_pledged_naming_the_pledge(issued_slips, county_staff, bank_officer):
    slip = issued_slips[2]
    pledge(county_staff, slip)
    with pytest.raises(ConflictError) as refused:
        savings.cancel_slip(actor=county_staff, slip=slip, reason="储户退出")
    assert refused.value.code == "pledged" and "ZY-TEST" in str(refused.value.detail)
    slip.refresh_from_db()
    assert slip.status == SlipStatus.ACTIVE and slip.income_right.status == RightStatus.ACTIVE
    with pytest.raises(PermissionDeniedError):
        savings.cancel_slip(actor=bank_officer, slip=slip, reason="储户退出")


def test_cancel_slips_of_a_terminated_contract_all_or_none(issued_slips, savings_contract, county_staff):
    pledged = pledge(county_staff, issued_slips[2])
    with pytest.raises(ConflictError) as refused:
        savings.cancel_slips_of_contract(actor=county_staff, contract=savings_contract, reason="合同解除")
    assert refused.value.code == "pledged"
    assert set(SavingsSlip.objects.values_list("status", flat=True)) == {SlipStatus.ACTIVE}
    assert income_rights().filter(status=RightStatus.ACTIVE).count() == 3
    registry.release_restriction(actor=county_staff, restriction=pledged, reason="贷款已结清")
    assert (
        savings.cancel_slips_of_contract(actor=county_staff, contract=savings_contract, reason="合同解除")
        == 3
    )
    assert set(SavingsSlip.objects.values_list("status", flat=True)) == {SlipStatus.CANCELLED}
    assert not income_rights().filter(status=RightStatus.ACTIVE).exists()


# --- maturity --------------------------------------------------------------------------------------


def test_mature_slips_at_the_end_of_the_term(
    make_savings_contract, savings_parcels, county_staff, monkeypatch
):
    end = datetime.date(2026, 12, 1)
    contract = make_savings_contract(savings_parcels, start=datetime.date(2024, 1, 1), end=end)
    slips = savings.issue_slips(actor=county_staff, contract=contract)
    pledged = slips[2]
    pledge_row = pledge(county_staff, pledged, amount="500", end=end)
    assert savings.mature_slips(datetime.date(2026, 11, 23)) == 0
    with pytest.raises(DomainError):
        savings.mature_slips(datetime.date(2027, 1, 1))  # not in the future

    later = SimpleNamespace(localdate=lambda: end, now=timezone.now)
    monkeypatch.setattr(savings, "timezone", later)
    assert savings.mature_slips() == 2  # the pledged one waits for its release
    assert savings.mature_slips() == 0
    statuses = {s.pk: s.status for s in SavingsSlip.objects.all()}
    assert statuses == {slips[0].pk: "matured", slips[1].pk: "matured", pledged.pk: "active"}
    assert Right.objects.get(pk=slips[0].income_right_id).status == RightStatus.ENDED
    assert Right.objects.get(pk=pledged.income_right_id).status == RightStatus.ACTIVE

    registry.release_restriction(actor=county_staff, restriction=pledge_row, reason="贷款已结清")
    assert savings.mature_slips() == 1
    pledged.refresh_from_db()
    assert pledged.status == SlipStatus.MATURED and pledged.income_right.status == RightStatus.ENDED
    with pytest.raises(InvalidTransition):
        savings.cancel_slip(actor=county_staff, slip=pledged, reason="到期后注销")


# --- verification ----------------------------------------------------------------------------------


def test_verify_slip_by_code(issued_slips):
    slip = issued_slips[1]
    code = slip.verification_code
    assert savings.verify_slip(code) == slip
    assert savings.verify_slip(f"  {code[:6].lower()} {code[6:]} ") == slip
    assert savings.verify_slip("ABCDEFGHJKLM") is None
    assert savings.verify_slip("") is None and savings.verify_slip(None) is None
    assert savings.verify_slip("X" * 200) is None


def test_terminating_a_savings_contract_cancels_its_slips_or_is_refused_while_one_is_pledged(
    issued_slips, savings_contract, county_staff
):
    from transactions.models import ContractStatus
    from transactions.services import collection

    effective = savings_contract.start_date + datetime.timedelta(days=30)
    pledged = pledge(county_staff, issued_slips[0])
    with pytest.raises(ConflictError) as refused:
        collection.terminate_collection_contract(
            actor=county_staff, contract=savings_contract, reason="村民要求解除", effective_date=effective
        )
    assert refused.value.code == "pledged"
    savings_contract.refresh_from_db()
    assert savings_contract.status == ContractStatus.SIGNED  # nothing half-done
    assert set(SavingsSlip.objects.values_list("status", flat=True)) == {SlipStatus.ACTIVE}

    registry.release_restriction(actor=county_staff, restriction=pledged, reason="贷款已结清")
    collection.terminate_collection_contract(
        actor=county_staff, contract=savings_contract, reason="村民要求解除", effective_date=effective
    )
    savings_contract.refresh_from_db()
    assert savings_contract.status == ContractStatus.TERMINATED
    assert set(SavingsSlip.objects.values_list("status", flat=True)) == {SlipStatus.CANCELLED}
    assert not income_rights().filter(status=RightStatus.ACTIVE).exists()
