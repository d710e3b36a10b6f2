"""The green finance front page: what needs attention (policies ending soon, open claims, funds'
cash) and where to go, by role. Staff see their divisions; a bank sees the policies tied to its own
applications and loans."""

import datetime

from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from directory.permissions import Capability, can

from ..models import ClaimStatus, FundStatus, GreenFund, InsuranceClaim, InsurancePolicy, PolicyStatus
from ..selectors_funds import funds_for
from ..selectors_insurance import policies_for

EXPIRING_DAYS = 30
OPEN_CLAIMS = (ClaimStatus.REPORTED, ClaimStatus.ASSESSING, ClaimStatus.APPROVED)


def _policies(user):
    return InsurancePolicy.objects.filter(pk__in=policies_for(user).values("pk"))


def _policy_counts(user, today):
    policies = _policies(user).filter(status=PolicyStatus.ACTIVE)
    return policies.aggregate(
        active=Count("pk", distinct=True),
        expiring=Count(
            "pk", distinct=True, filter=Q(end_date__lte=today + datetime.timedelta(days=EXPIRING_DAYS))
        ),
        sum_insured=Sum("sum_insured"),
    )


def _fund_counts(user):
    if not (can(user, Capability.MANAGE_GREEN_FINANCE) or can(user, Capability.VIEW_OVERSIGHT)):
        return None
    return GreenFund.objects.filter(pk__in=funds_for(user).values("pk")).aggregate(
        active=Count("pk", filter=Q(status=FundStatus.ACTIVE)),
        raising=Count("pk", filter=Q(status=FundStatus.RAISING)),
        size=Sum("size", filter=~Q(status=FundStatus.CLOSED)),
    )


def index(request):
    user = request.user
    today = timezone.localdate()
    policies = _policies(user)
    return render(
        request,
        "greenfinance/index.html",
        {
            "policies": _policy_counts(user, today),
            "open_claims": InsuranceClaim.objects.filter(policy__in=policies, status__in=OPEN_CLAIMS).count(),
            "funds": _fund_counts(user),
            "expiring_days": EXPIRING_DAYS,
            "can_manage": can(user, Capability.MANAGE_GREEN_FINANCE),
            "can_manage_loans": can(user, Capability.MANAGE_LOANS),
        },
    )


urlpatterns = [path("", index, name="index")]
