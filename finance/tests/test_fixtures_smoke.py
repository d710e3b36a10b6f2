"""The shared fixtures build a consistent upstream state (a failing fixture shows here first)."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from resources.models import RestrictionKind
from tmcs.errors import ConflictError
from valuation.selectors import latest_asset_valuation


def test_upstream_chain_builds(valued_right, make_application, make_appraisal, make_pledge, make_loan):
    right = valued_right()
    assert latest_asset_valuation(right.asset).total == Decimal("100000")
    application = make_application(rights=[right])
    appraisal = make_appraisal(right, application.product, application=application)
    pledge = make_pledge(application, appraisal, Decimal("300000"))
    assert pledge.restriction.kind == RestrictionKind.PLEDGE
    loan = make_loan(application)
    assert loan.installments.aggregate(total=Sum("principal_due"))["total"] == loan.principal


def test_pledges_beyond_the_appraised_value_are_refused(
    valued_right, make_application, make_appraisal, make_pledge
):
    right = valued_right()
    application = make_application(rights=[right])
    appraisal = make_appraisal(right, application.product, appraised_value=Decimal("500000"))
    make_pledge(application, appraisal, Decimal("400000"), rank=1)
    with pytest.raises(ConflictError) as exc:
        make_pledge(application, appraisal, Decimal("100000.01"), rank=2)
    assert exc.value.code == "over_capacity"
    make_pledge(application, appraisal, Decimal("100000.00"), rank=2)
