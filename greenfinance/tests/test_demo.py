"""The green finance and data exchange demos load on top of the earlier demos, through the
services, once: a savings slip backing a disbursed savings loan that needed homestay insurance, a
paid forest claim, an eco fund backing the showcase project, a harvest permit imported by the
forestry bureau and a credit report that carries only the consenting household."""

from decimal import Decimal

from django.db.models import Sum

from exchange.models import CreditExport, Dataset, Direction, ExchangeLog, ExchangeStatus, HarvestPermit
from finance.models import InsuranceKind, Loan, PledgeStatus
from greenfinance.models import ClaimStatus, FundMovement, GreenFund, InsurancePolicy
from greenfinance.services.funds import fund_position
from projects.models import MonitorAlert, MonitorJob
from transactions.models import SavingsSlip, SlipStatus
from transactions.services import ledger


def test_demo_green_finance_and_exchange_load_once(demo_region, catalog):
    from exchange.demo import load_demo_exchange
    from finance.demo import load_demo_finance
    from greenfinance.demo import load_demo_greenfinance
    from projects.demo import load_demo_projects
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from valuation.demo import load_demo_valuation

    load_demo_assets()
    load_demo_valuation()
    load_demo_trading()
    load_demo_finance()
    load_demo_projects()
    slip = load_demo_greenfinance()
    assert slip is not None
    consent = load_demo_exchange()
    assert consent is not None

    # the slip: 5,600 元 a year, pledged once for the savings loan that needed homestay insurance
    slip.refresh_from_db()
    assert slip.status == SlipStatus.ACTIVE and slip.guaranteed_annual_amount == Decimal("5600.00")
    [pledge] = slip.income_right.finance_pledges.all()
    assert pledge.status == PledgeStatus.ACTIVE
    loan = Loan.objects.get(application=pledge.application)
    assert loan.application.product.required_insurance_kinds == [InsuranceKind.HOMESTAY]
    homestay = InsurancePolicy.objects.get(kind=InsuranceKind.HOMESTAY)
    assert homestay.application_id == loan.application_id and homestay.insured_id == slip.holder_id

    # the forest policy's claim was paid in full, and the ending homestay policy raised an alert
    forest = InsurancePolicy.objects.get(kind=InsuranceKind.FOREST)
    [claim] = forest.claims.all()
    assert claim.status == ClaimStatus.PAID and claim.paid_amount == claim.approved_amount
    assert (
        MonitorAlert.objects.filter(job=MonitorJob.POLICIES_EXPIRING, resolved_at__isnull=True).count() == 1
    )

    # the eco fund: cash = Σ movements = the ledger, and it backs the showcase project
    fund = GreenFund.objects.get(kind="eco_fund")
    cash = FundMovement.objects.filter(fund=fund).aggregate(s=Sum("cash_effect"))["s"]
    position = fund_position(fund)
    assert position["cash"] == cash == ledger.balance("green_fund_cash", fund.manager.party, fund.number)
    assert FundMovement.objects.filter(fund=fund, project__isnull=False).exists()

    # the exchange: a permit imported by the forestry bureau; one party reported, one withheld
    assert HarvestPermit.objects.count() == 1
    imported = ExchangeLog.objects.get(dataset=Dataset.HARVEST_PERMITS)
    assert (imported.direction, imported.status, imported.rows_created) == (
        Direction.IMPORT,
        ExchangeStatus.SUCCEEDED,
        1,
    )
    report = CreditExport.objects.get()
    assert [line.party_id for line in report.lines.all()] == [consent.party_id]
    assert report.parties_withheld == report.parties_requested - 1 >= 1

    # loading again changes nothing
    counts = (SavingsSlip.objects.count(), InsurancePolicy.objects.count(), FundMovement.objects.count())
    assert load_demo_greenfinance() is None and load_demo_exchange() is None
    assert counts == (
        SavingsSlip.objects.count(),
        InsurancePolicy.objects.count(),
        FundMovement.objects.count(),
    )
    assert ExchangeLog.objects.count() == 3

    # the brand demo on top: a traced tea batch whose trace page shows its origin and tests, sold
    # in three months; and everything the demos did is in the journal, in one chain
    from brand.demo import load_demo_brand
    from brand.selectors import trace_view, trade_volumes
    from journal.models import EntryKind, JournalEntry
    from journal.services import sequence_pending
    from journal.verification import verify_chain
    from transactions.models import Movement

    batch = load_demo_brand()
    assert batch is not None and load_demo_brand() is None
    traced = trace_view(batch.trace_code)
    assert traced["origins"][0]["type"] == "茶园" and traced["tests"][0]["passed"] is True
    assert trade_volumes(batch.producer)["total_amount"] == Decimal("105000.00")
    sequence_pending()
    vouchers = JournalEntry.objects.filter(kind=EntryKind.PAYMENT, references__0__startswith="JZ")
    assert vouchers.count() == Movement.objects.count()  # the other payments are claim payouts
    assert JournalEntry.objects.filter(
        kind=EntryKind.BATCH_REGISTERED, references__contains=[batch.number]
    ).exists()
    assert verify_chain().ok
