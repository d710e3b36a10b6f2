"""The finance desk's front page: what waits for whom, the loan book at a glance, by role.
Cooperative staff see their divisions; a bank sees only its own business."""

from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from directory.permissions import Capability, can
from directory.selectors import within_reach

from ..models import (
    ApplicationStatus,
    DefaultStatus,
    Installment,
    Loan,
    LoanApplication,
    LoanDefault,
    LoanStatus,
    Pledge,
    PledgeStatus,
)
from ..services.common import acting_bank


def _book(applications, loans, pledges, defaults, today):
    open_loans = loans.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.DEFAULTED])
    overdue = Installment.objects.filter(loan__in=open_loans, due_date__lt=today, settled_on__isnull=True)
    return {
        "applications": applications.aggregate(
            drafts=Count("pk", filter=Q(status__in=[ApplicationStatus.DRAFT, ApplicationStatus.RETURNED])),
            to_check=Count("pk", filter=Q(status=ApplicationStatus.SUBMITTED)),
            with_bank=Count("pk", filter=Q(status=ApplicationStatus.APPROVED)),
            to_disburse=Count("pk", filter=Q(status=ApplicationStatus.BANK_APPROVED)),
        ),
        "loans": open_loans.aggregate(n=Count("pk"), principal=Sum("principal")),
        "outstanding": Installment.objects.filter(loan__in=open_loans).aggregate(
            due=Sum("principal_due"), paid=Sum("principal_paid")
        ),
        "overdue_loans": overdue.values("loan").distinct().count(),
        "pledges": pledges.filter(status=PledgeStatus.ACTIVE).aggregate(
            n=Count("pk"), secured=Sum("secured_amount")
        ),
        "open_defaults": defaults.filter(status=DefaultStatus.DECLARED).count(),
    }


def index(request):
    today = timezone.localdate()
    bank = acting_bank(request.user)
    context = {"bank": bank}
    if bank is not None:
        context["book"] = _book(
            LoanApplication.objects.filter(
                product__bank=bank,
                status__in=[
                    ApplicationStatus.APPROVED,
                    ApplicationStatus.BANK_APPROVED,
                    ApplicationStatus.BANK_DECLINED,
                    ApplicationStatus.DISBURSED,
                ],
            ),
            Loan.objects.filter(bank=bank),
            Pledge.objects.filter(bank=bank),
            LoanDefault.objects.filter(loan__bank=bank),
            today,
        )
    elif can(request.user, Capability.MANAGE_LOANS):
        reach = within_reach(request.user, "division__code", Capability.MANAGE_LOANS)
        context["book"] = _book(
            LoanApplication.objects.filter(reach),
            Loan.objects.filter(reach),
            Pledge.objects.filter(
                within_reach(request.user, "application__division__code", Capability.MANAGE_LOANS)
            ),
            LoanDefault.objects.filter(
                within_reach(request.user, "loan__division__code", Capability.MANAGE_LOANS)
            ),
            today,
        )
    if context.get("book"):
        out = context["book"]["outstanding"]
        context["book"]["outstanding_principal"] = (out["due"] or 0) - (out["paid"] or 0)
    return render(request, "finance/index.html", context)


urlpatterns = [path("", index, name="index")]
