# ruff: noqa: F811  (fixtures imported from test_contracts_fixtures)
"""Two clerks pressing “sign” at once: the contract row lock lets exactly one through."""

import threading

import pytest
from django.db import connection

from resources.models import Restriction, RestrictionKind
from tmcs.errors import DomainError
from transactions.models import ContractStatus, Movement, MovementKind, PaymentFrequency
from transactions.services import contracts

from .test_contracts_fixtures import (  # noqa: F401  (fixtures)
    collected_assets,
    sold_listing,
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_signing_signs_once(sold_listing, county_staff, city_admin):
    contract = contracts.create_trade_contract(
        actor=county_staff, listing=sold_listing(), payment_frequency=PaymentFrequency.ANNUAL
    )
    barrier, outcomes = threading.Barrier(2), []

    def sign(actor):
        try:
            barrier.wait()
            contracts.sign_trade_contract(actor=actor, contract=contract)
            outcomes.append("signed")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(user,)) for user in (county_staff, city_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invalid_transition", "signed"]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED
    assert Movement.objects.filter(trade_contract=contract, kind=MovementKind.PRICE_DUE).count() == 1
    assert Restriction.objects.filter(kind=RestrictionKind.LEASE).count() == 2
