"""Reads of the brand desk, restricted to what the user may see: staff and auditors by division,
producers their own organization; banks only the trade volumes of producers that applied to them."""

import datetime
import json
from decimal import Decimal

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

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


# --- the public trace page ------------------------------------------------------------------------


def _gep_of(asset):
    """The origin's GEP in its latest accepted accounting run: total, per category, per mu."""
    from valuation.indicators.base import Category
    from valuation.selectors import latest_asset_valuation

    valuation = latest_asset_valuation(asset)
    if valuation is None:
        return None
    by_category = {}
    for result in valuation.results:
        by_category[result.category] = by_category.get(result.category, 0) + result.value
    area = asset.area_mu
    return {
        "year": valuation.run.year,
        "total": valuation.total.quantize(Decimal("0.01")),
        "per_mu": (valuation.total / area).quantize(Decimal("0.01")) if area else None,
        "categories": [
            {"key": c.value, "label": str(c.label), "value": by_category[c.value].quantize(Decimal("0.01"))}
            for c in Category
            if c.value in by_category
        ],
    }


def trace_view(trace_code):
    """Exactly what the public trace page and API show of a batch, or None. Organizations by name;
    never a person, an ID or phone number, a user, or who holds the origin's rights."""
    from journal.models import JournalEntry

    batch = (
        ProductBatch.objects.filter(trace_code=trace_code)
        .select_related("licence__brand", "producer__division", "standard")
        .first()
    )
    if batch is None:
        return None
    licence = batch.licence
    origins = list(
        batch.origin_assets.select_related("resource_type", "division__parent").annotate(
            shape=AsGeoJSON(Transform("geometry", 4326), precision=6)
        )
    )
    three_years_ago = timezone.localdate() - datetime.timedelta(days=3 * 366)
    entry = (
        JournalEntry.objects.filter(references__contains=[batch.number], seq__isnull=False)
        .order_by("seq")
        .values("seq", "entry_hash")
        .first()
    )
    return {
        "batch": {
            "number": batch.number,
            "product": batch.product_name,
            "category": str(batch.get_category_display()),
            "standard": f"{batch.standard.code} {batch.standard.title}",
            "harvest": [batch.harvest_start, batch.harvest_end],
            "produced_on": batch.produced_on,
            "quantity": batch.quantity.normalize(),
            "unit": str(batch.get_unit_display()),
            "status": batch.status,
            "status_label": str(batch.get_status_display()),
            "recall_reason": batch.recall_reason if batch.status == "recalled" else "",
        },
        "brand": licence.brand.name,
        "producer": {"name": batch.producer.name, "division": batch.producer.division.name},
        "licence": {
            "number": licence.number,
            "status": licence.status,
            "status_label": str(licence.get_status_display()),
            "term": [licence.valid_from, licence.valid_to],
        },
        "origins": [
            {
                "code": asset.code,
                "type": asset.resource_type.name,
                "place": " ".join(
                    name
                    for name in (
                        asset.division.parent.name if asset.division.parent else "",
                        asset.division.name,
                    )
                    if name
                ),
                "area_mu": asset.area_mu,
                "geometry": json.loads(asset.shape) if asset.shape else None,
                "gep": _gep_of(asset),
            }
            for asset in origins
        ],
        "tests": [
            {
                "tested_on": t.tested_on,
                "laboratory": t.laboratory,
                "report_number": t.report_number,
                "passed": t.passed,
                "items": t.items,
            }
            for t in batch.tests.order_by("tested_on", "pk")
        ],
        "certificates": [
            {
                "kind": str(c.get_kind_display()),
                "number": c.number,
                "issuer": c.issuer,
                "valid_to": c.valid_to,
            }
            for c in batch.certificates.order_by("kind", "pk")
        ],
        "inspections": [
            {
                "inspected_on": i.inspected_on,
                "kind": str(i.get_kind_display()),
                "inspector": i.inspector,
                "result": i.result,
                "result_label": str(i.get_result_display()),
                "findings": i.findings,
            }
            for i in licence.inspections.filter(inspected_on__gte=three_years_ago).order_by(
                "-inspected_on", "-pk"
            )
        ],
        "journal": entry,
    }


def as_json(value):
    """For the API: Decimals as exact strings (money, areas, quantities), dates ISO; geometry floats
    stay numbers."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
