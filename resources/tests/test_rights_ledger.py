import datetime
from fractions import Fraction

import pytest

from resources import services
from resources.models import Right, RightStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition

D = datetime.date


def test_shares_of_one_kind_never_exceed_one_at_any_time(make_asset, county_staff, household, collective):
    asset = make_asset()
    grant = dict(actor=county_staff, asset=asset, kind="contract", source_document="承包合同 2026-01")
    services.grant_right(holder=household, share="1/2", start=D(2026, 1, 1), end=D(2056, 1, 1), **grant)
    services.grant_right(holder=collective, share="1/3", start=D(2026, 1, 1), end=D(2036, 1, 1), **grant)
    with pytest.raises(ConflictError, match="份额合计将超过1"):
        services.grant_right(holder=household, share="1/4", start=D(2030, 1, 1), end=D(2031, 1, 1), **grant)
    # After the 1/3 ends in 2036, another 1/2 fits.
    services.grant_right(holder=collective, share="1/2", start=D(2036, 1, 1), end=D(2056, 1, 1), **grant)
    shares = [Fraction(r.share_numerator, r.share_denominator) for r in Right.objects.filter(asset=asset)]
    assert shares == [Fraction(1, 2), Fraction(1, 3), Fraction(1, 2)]


@pytest.mark.parametrize(
    ("share", "message"), [("3/2", "不超过1"), ("0", "大于0"), ("abc", "格式不正确"), ("1/0", "格式不正确")]
)
def test_bad_shares_are_refused(make_asset, county_staff, household, share, message):
    with pytest.raises(DomainError, match=message):
        services.grant_right(
            actor=county_staff,
            asset=make_asset(),
            holder=household,
            kind="contract",
            share=share,
            start=D(2026, 1, 1),
            source_document="x",
        )
    assert not Right.objects.exists()


def test_management_rights_never_overlap_in_time(make_asset, county_staff, household, collective):
    asset = make_asset()
    grant = dict(actor=county_staff, asset=asset, kind="management", source_document="流转合同")
    services.grant_right(holder=household, start=D(2026, 1, 1), end=D(2031, 1, 1), **grant)
    with pytest.raises(ConflictError, match="不能重叠"):
        services.grant_right(holder=collective, start=D(2030, 6, 1), end=D(2035, 1, 1), **grant)
    services.grant_right(
        holder=collective, start=D(2031, 1, 1), end=D(2035, 1, 1), **grant
    )  # back to back is fine
    assert Right.objects.filter(asset=asset, kind="management").count() == 2


def test_a_right_is_ended_and_superseded_never_edited(make_asset, county_staff, household, collective):
    asset = make_asset()
    right = services.grant_right(
        actor=county_staff,
        asset=asset,
        holder=household,
        kind="management",
        start=D(2026, 1, 1),
        end=D(2046, 1, 1),
        source_document="合同 A",
        certificate_number="浙(2026)莲都区不动产权第0000001号",
    )
    successor = services.supersede_right(
        actor=county_staff,
        right=right,
        reason="经营权转让",
        holder=collective,
        start=D(2027, 1, 1),
        end=D(2046, 1, 1),
        source_document="转让合同 B",
    )
    right.refresh_from_db()
    assert right.status == RightStatus.ENDED and right.end_reason == "经营权转让"
    assert successor.supersedes == right and successor.holder == collective
    with pytest.raises(InvalidTransition):
        services.end_right(actor=county_staff, right=right, reason="再次终止")
    events = Right.pgh_event_model.objects.filter(pgh_obj_id=right.pk).order_by("pgh_id")
    assert [e.status for e in events] == ["active", "ended"]
    assert events.last().pgh_context.metadata["reason"] == "end right: 经营权转让"


def test_duplicate_certificate_number(make_asset, county_staff, household):
    asset = make_asset()
    kwargs = dict(
        actor=county_staff,
        asset=asset,
        holder=household,
        kind="contract",
        share="1/2",
        start=D(2026, 1, 1),
        source_document="x",
        certificate_number="浙(2026)莲都区不动产权第0000009号",
    )
    services.grant_right(**kwargs)
    with pytest.raises(ConflictError, match="证书编号已被使用"):
        services.grant_right(**kwargs)


def test_leases_never_overlap(make_asset, county_staff, collective, household):
    asset = make_asset()
    services.add_lease(
        actor=county_staff,
        asset=asset,
        holder=collective,
        start=D(2026, 1, 1),
        end=D(2036, 1, 1),
        source_document="租赁合同 1",
    )
    with pytest.raises(ConflictError, match="已出租给"):
        services.add_lease(
            actor=county_staff,
            asset=asset,
            holder=household,
            start=D(2035, 1, 1),
            end=D(2040, 1, 1),
            source_document="租赁合同 2",
        )


def test_pledges_rank_pledgeability_amount_and_term(make_asset, county_staff, household, collective):
    asset = make_asset()
    right = services.grant_right(
        actor=county_staff,
        asset=asset,
        holder=household,
        kind="management",
        start=D(2026, 1, 1),
        end=D(2036, 1, 1),
        source_document="合同",
    )
    pledge = dict(
        actor=county_staff,
        right=right,
        holder=collective,
        secured_amount="500000.00",
        start=D(2026, 2, 1),
        end=D(2029, 2, 1),
        source_document="质押合同",
    )
    services.add_pledge(rank=1, **pledge)
    with pytest.raises(ConflictError, match="第1顺位已设有"):
        services.add_pledge(rank=1, **pledge)
    services.add_pledge(rank=2, **pledge)
    with pytest.raises(DomainError, match="超出权利的有效期"):
        services.add_pledge(rank=3, **{**pledge, "end": D(2040, 1, 1)})
    with pytest.raises(DomainError, match="金额"):
        services.add_pledge(rank=3, **{**pledge, "secured_amount": "0.001"})
    with pytest.raises(ConflictError, match="须先解除"):
        services.end_right(actor=county_staff, right=right, reason="到期")
    ownership = services.grant_right(
        actor=county_staff,
        asset=asset,
        holder=collective,
        kind="ownership",
        start=D(2026, 1, 1),
        source_document="集体土地所有权证",
    )
    with pytest.raises(DomainError, match="不能设立抵质押"):
        services.add_pledge(rank=1, **{**pledge, "right": ownership})


def test_released_lease_frees_the_period_and_needs_a_reason(make_asset, county_staff, collective, household):
    asset = make_asset()
    lease = services.add_lease(
        actor=county_staff,
        asset=asset,
        holder=collective,
        start=D(2026, 1, 1),
        end=D(2036, 1, 1),
        source_document="租赁合同 1",
    )
    with pytest.raises(DomainError, match="解除原因"):
        services.release_restriction(actor=county_staff, restriction=lease, reason=" ")
    services.release_restriction(actor=county_staff, restriction=lease, reason="协议解除")
    with pytest.raises(InvalidTransition):
        services.release_restriction(actor=county_staff, restriction=lease, reason="再次解除")
    services.add_lease(
        actor=county_staff,
        asset=asset,
        holder=household,
        start=D(2027, 1, 1),
        end=D(2030, 1, 1),
        source_document="租赁合同 2",
    )
