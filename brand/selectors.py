"""Reads of the brand desk, restricted to what the user may see: staff and auditors by division,
producers their own organization; banks only the trade volumes of producers that applied to them."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from directory.permissions import Capability, can, memberships_with
from directory.selectors import within_reach

from .models import Licence, ProductBatch, Sale


def licences_for(user):
    licences = Licence.objects.select_related("brand", "producer", "division")
    if user.is_superuser:
        return licences
    query = (
        within_reach(user, "division__code", Capability.MANAGE_BRAND)
        | within_reach(user, "division__code", Capability.VIEW_OVERSIGHT)
        # village clerks: the producers of their village; investors: their own enterprise
        | within_reach(user, "producer__division__code", Capability.RECORD_PRODUCTION)
        | Q(producer_id__in=[m.organization_id for m in memberships_with(user, Capability.RECORD_PRODUCTION)])
    )
    return licences.filter(query)


def batches_for(user):
    return ProductBatch.objects.filter(licence__in=licences_for(user)).select_related(
        "licence__brand", "producer"
    )


def producers_visible_to_bank(bank):
    """Producers (organizations) that applied for a loan at this bank."""
    from finance.models import LoanApplication

    return LoanApplication.objects.filter(product__bank=bank, applicant__organization__isnull=False).values(
        "applicant__organization"
    )


def may_read_trade(user, producer):
    if can(user, Capability.MANAGE_BRAND, division=producer.division) or can(
        user, Capability.VIEW_OVERSIGHT, division=producer.division
    ):
        return True
    if can(user, Capability.RECORD_PRODUCTION, organization=producer):
        return True
    for m in memberships_with(user, Capability.LEND):
        if producers_visible_to_bank(m.organization).filter(applicant__organization=producer.pk).exists():
            return True
    return False


def trade_volumes(producer, *, start=None, end=None):
    """Per month (Asia/Shanghai business dates): quantity per unit, amount, number of sales and of
    buyers, net of reversals; plus totals. Exact Decimals."""
    sales = Sale.objects.filter(producer=producer)
    if start:
        sales = sales.filter(sold_on__gte=start)
    if end:
        sales = sales.filter(sold_on__lte=end)
    by_month = sales.annotate(month=TruncMonth("sold_on"))
    quantities = by_month.values("month", "batch__unit").annotate(quantity=Sum("quantity")).order_by("month")
    months = {}
    for row in quantities:
        key = row["month"].strftime("%Y-%m")
        month = months.setdefault(key, {"period": key, "quantity": {}, "amount": 0, "sales": 0, "buyers": 0})
        month["quantity"][row["batch__unit"]] = row["quantity"]
    figures = by_month.values("month").annotate(
        amount=Sum("amount"),
        sales=Count("pk", filter=Q(reverses__isnull=True)) - Count("pk", filter=Q(reverses__isnull=False)),
        buyers=Count("buyer_name", distinct=True, filter=Q(reverses__isnull=True)),
    )
    for row in figures:
        months[row["month"].strftime("%Y-%m")].update(
            amount=row["amount"], sales=row["sales"], buyers=row["buyers"]
        )
    periods = [months[key] for key in sorted(months)]
    return {
        "producer": producer.name,
        "periods": periods,
        "total_amount": sum((p["amount"] for p in periods), start=0),
        "total_sales": sum(p["sales"] for p in periods),
    }
