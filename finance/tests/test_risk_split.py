# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
"""Any loss and any valid shares: the parts add up to the loss exactly and none is a cent or more
off its exact quota (amount × share)."""

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.services import ensure_party
from finance.models import RiskRole
from finance.services import risk

from .test_risk_fixtures import fund, government  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
MICRO = 1_000_000  # shares have 6 decimal places


@st.composite
def valid_shares(draw):
    """1–4 roles with shares in micro-units (each ≥ 1) summing to exactly 1."""
    roles = draw(st.permutations(list(RiskRole)))
    count = draw(st.integers(min_value=1, max_value=len(roles)))
    cuts = sorted(
        draw(st.sets(st.integers(min_value=1, max_value=MICRO - 1), min_size=count - 1, max_size=count - 1))
    )
    bounds = [0, *cuts, MICRO]
    micros = [b - a for a, b in itertools.pairwise(bounds)]
    return [(role, Decimal(m) / MICRO) for role, m in zip(roles[:count], micros, strict=True)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shares=valid_shares(),
    cents=st.one_of(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=10**13)),
)
def test_split_is_exact_and_within_a_cent_of_each_quota(
    shares, cents, county_staff, county_cooperative, guarantor_bank_cooperative, fund
):
    parties = guarantor_bank_cooperative
    scheme = risk.create_scheme(
        actor=county_staff,
        name="性质测试",
        division=county_cooperative.division,
        fund=fund,
        source="hypothesis",
        shares=[(role, parties[role], share) for role, share in shares],
    )
    amount = Decimal(cents) / 100
    parts = risk.split_loss(scheme, amount)
    assert sum(part for _share, part in parts) == amount
    for share, part in parts:
        assert part == part.quantize(Decimal("0.01")) and part >= 0
        assert abs(part - amount * share.share) < Decimal("0.01")


@pytest.fixture
def guarantor_bank_cooperative(demo_region, bank, county_cooperative):
    from directory.models import Organization, OrganizationKind

    return {
        RiskRole.GUARANTOR: ensure_party(Organization.objects.get(kind=OrganizationKind.GUARANTOR)),
        RiskRole.BANK: ensure_party(bank),
        RiskRole.COOPERATIVE: ensure_party(county_cooperative),
        RiskRole.GOVERNMENT_FUND: None,  # the fund manager's party
    }
