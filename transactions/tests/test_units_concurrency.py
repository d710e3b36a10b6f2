"""Two movements of the same serial units at once, on real connections: exactly one wins and the
live blocks still cover 1..N exactly once, each serial owned by one party."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from directory.services import ensure_party
from resources.models import ResourceType, RightKind
from tmcs.errors import ConflictError
from transactions.models import UnitBlockStatus, UnitTransferKind
from transactions.services import units

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def issuance(catalog, registered_asset, county_staff, household):
    asset = registered_asset(
        [(household, 1)],
        kind=RightKind.CARBON_SINK,
        resource_type=ResourceType.objects.get(code="forest_carbon"),
        attributes={"methodology": "CCER-14-001-V01"},
        quantity=Decimal("1000"),
    )
    return units.issue_units(
        actor=county_staff, right=asset.rights.get(), vintage_year=2024, quantity=100, methodology="CCER"
    )


def race(*actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            outcomes[i] = action()
        except Exception as exc:  # the outcome is what the test inspects
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def assert_cover(issuance):
    blocks = list(issuance.blocks.exclude(status=UnitBlockStatus.SPLIT).order_by("first_serial"))
    serials = [s for b in blocks for s in range(b.first_serial, b.last_serial + 1)]
    assert serials == list(range(1, issuance.quantity + 1))
    return blocks


def test_two_transfers_of_the_same_units(issuance, county_staff, household, investor_org, second_investor):
    first, second = ensure_party(investor_org), ensure_party(second_investor.memberships.get().organization)
    outcomes = race(
        lambda: units.transfer_units(
            actor=county_staff, issuance=issuance, from_party=household, to_party=first, quantity=100
        ),
        lambda: units.transfer_units(
            actor=county_staff, issuance=issuance, from_party=household, to_party=second, quantity=100
        ),
    )
    wins = [o for o in outcomes if isinstance(o, list)]
    losses = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    assert "可用数量不足，持有 0" in str(losses[0].detail)
    [block] = assert_cover(issuance)
    assert block.owner_id in (first.pk, second.pk) and block.status == UnitBlockStatus.HELD
    assert issuance.transfers.filter(kind=UnitTransferKind.TRANSFER).count() == 1


def test_retire_against_transfer(issuance, county_staff, household, investor_org):
    buyer = ensure_party(investor_org)
    outcomes = race(
        lambda: units.retire_units(
            actor=county_staff, issuance=issuance, party=household, quantity=100, reason="抵消"
        ),
        lambda: units.transfer_units(
            actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=100
        ),
    )
    assert sum(isinstance(o, list) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1, outcomes
    [block] = assert_cover(issuance)
    retired = block.status == UnitBlockStatus.RETIRED
    assert (block.owner_id, retired) in ((household.pk, True), (buyer.pk, False))
    assert issuance.transfers.exclude(kind=UnitTransferKind.ISSUE).count() == 1


def test_partial_transfers_at_once_both_succeed(issuance, county_staff, household, investor_org):
    buyer = ensure_party(investor_org)
    outcomes = race(
        *[
            (
                lambda: units.transfer_units(
                    actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=40
                )
            )
            for _ in range(2)
        ]
    )
    assert all(isinstance(o, list) for o in outcomes), outcomes
    blocks = assert_cover(issuance)
    held = {}
    for block in blocks:
        held[block.owner_id] = held.get(block.owner_id, 0) + block.quantity
    assert held == {buyer.pk: 80, household.pk: 20}
