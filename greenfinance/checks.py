"""The insurance requirement of a loan product (registered with finance.application_checks)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from finance.models import InsuranceKind

from .models import InsurancePolicy, PolicyStatus


def valid_policies(application, on):
    """Policies that count for `application` on date `on`: in force, insuring the applicant, and
    tied to this application or covering one of its collateral assets (any policy of the
    applicant counts for a loan without collateral)."""
    asset_ids = list(application.collateral.values_list("right__asset_id", flat=True))
    tie = Q(application=application)
    if asset_ids:
        tie |= Q(assets__in=asset_ids)
    else:
        tie = Q()
    return (
        InsurancePolicy.objects.filter(
            tie,
            insured=application.applicant,
            status=PolicyStatus.ACTIVE,
            start_date__lte=on,
            end_date__gt=on,
        )
        .distinct()
        .order_by("end_date")
    )


def insurance_requirement(application, on):
    required = list(application.product.required_insurance_kinds or [])
    if not required:
        return []
    held = set(valid_policies(application, on).values_list("kind", flat=True))
    return [
        _("贷款产品“%(product)s”要求投保%(kind)s，申请人尚无覆盖本次申请或抵质押物的有效保单。")
        % {"product": application.product.name, "kind": InsuranceKind(kind).label}
        for kind in required
        if kind not in held
    ]
