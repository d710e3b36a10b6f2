"""贷款逾期: unsettled installments of active loans past their due date → the lending bank's
officers and the loan desk. The body gives the days past due, what is left of the installment and
the loan's overdue totals with the penalty accrued (finance.services.loans.position, as of
today). Resolved when the installment is settled (or the loan leaves the active book: defaults are
worked through the default disposal desk)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from finance.models import Loan
from finance.services.loans import position, with_schedule

from ..models import MonitorJob
from . import CheckResult, Finding, Job, stable_key
from .installments_due import loan_audience, unsettled

CENT = Decimal("0.01")


def check(params, today, audience):
    overdue = list(
        unsettled()
        .filter(due_date__lt=today)
        .select_related("loan__bank", "loan__division")
        .order_by("loan_id", "seq")
    )
    loan_ids = {inst.loan_id for inst in overdue}
    # the loans' positions from their schedules and repayments: three queries for all of them
    positions = {
        loan.pk: position(loan, today) for loan in with_schedule(Loan.objects.filter(pk__in=loan_ids))
    }
    result = CheckResult(checked=unsettled().count())
    for inst in overdue:
        loan = inst.loan
        pos = positions[loan.pk]
        principal = inst.principal_due - inst.principal_paid
        interest = inst.interest_due - inst.interest_paid
        days = (today - inst.due_date).days
        result.findings.append(
            Finding(
                key=stable_key("installment", inst.pk, "overdue"),
                level="danger",
                title=_("贷款 %(number)s 第 %(seq)s 期逾期 %(days)s 天")
                % {"number": loan.number, "seq": inst.seq, "days": days},
                body=_(
                    "贷款 %(number)s（%(bank)s）第 %(seq)s 期应还日 %(due)s，已逾期 %(days)s 天，"
                    "本期未还本金 %(principal)s 元、利息 %(interest)s 元。该笔贷款逾期本金合计 "
                    "%(overdue_principal)s 元，逾期利息 %(overdue_interest)s 元，罚息 %(penalty)s 元，"
                    "五级分类：%(cls)s。"
                )
                % {
                    "number": loan.number,
                    "bank": loan.bank.name,
                    "seq": inst.seq,
                    "due": inst.due_date,
                    "days": days,
                    "principal": principal,
                    "interest": interest,
                    "overdue_principal": pos.overdue_principal,
                    "overdue_interest": pos.overdue_interest,
                    "penalty": pos.penalty_accrued.quantize(CENT, ROUND_HALF_UP),
                    "cls": pos.get_classification_display(),
                },
                link=loan.get_absolute_url(),
                division=loan.division,
                recipients=loan_audience(audience, loan),
            )
        )
    return result


JOB = Job(key=MonitorJob.INSTALLMENTS_OVERDUE, check=check)
