"""The demo finance desk loads on the demo region after the registry, valuation and trading demos,
through the services, and loads once."""

from django.core.management import call_command
from django.db.models import Sum

from finance.models import ApplicationStatus, Loan, LoanProduct, Pledge, PledgeStatus, Scorecard
from finance.services import loans, risk


def test_demo_finance_loads_once(demo_region, catalog, client):
    from finance.demo import load_demo_finance
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from valuation.demo import load_demo_valuation

    load_demo_assets()
    load_demo_valuation()
    load_demo_trading()
    loan = load_demo_finance()
    assert loan is not None, "the demo forest should be valued and pledgeable"
    assert Scorecard.objects.filter(is_active=True).count() == 3
    assert set(LoanProduct.objects.values_list("code", flat=True)) == {"GEP-01", "LSXY-01"}
    assert loan.application.status == ApplicationStatus.DISBURSED
    assert loan.application.checked_by != loan.application.prepared_by
    assert Pledge.objects.get(application=loan.application).status == PledgeStatus.ACTIVE
    assert loan.installments.aggregate(s=Sum("principal_due"))["s"] == loan.principal
    assert loan.repayments.count() == 2
    assert loans.position(loan).days_past_due > 0  # the third installment is left overdue
    fund = loan.product.risk_scheme.fund
    assert risk.fund_balance(fund) == 5_000_000
    assert load_demo_finance() is None
    call_command("load_demo_finance", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Loan.objects.count() == 1
