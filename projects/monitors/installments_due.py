"""贷款即将到期还款: unsettled installments of active loans falling due within `days` (today
included; once past due they belong to installments_overdue) → the lending bank's officers and
the cooperative's loan desk over the loan's division. Borrowers are named by loan number only:
the alert goes to inboxes and e-mail, personal data stays on the loan page."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from finance.models import Installment, LoanStatus

from ..models import MonitorJob
from . import CheckResult, Finding, IntParam, Job, stable_key, union


def loan_audience(audience, loan):
    """The bank that lent and the loan desk of the cooperative over the loan's division."""
    return union(
        audience.members(Capability.LEND, loan.bank),
        audience.staff(Capability.MANAGE_LOANS, loan.division),
    )


def unsettled():
    return Installment.objects.filter(loan__status=LoanStatus.ACTIVE, settled_on__isnull=True)


def check(params, today, audience):
    horizon = today + datetime.timedelta(days=params["days"])
    candidates = unsettled().filter(due_date__gte=today)
    result = CheckResult(checked=candidates.count())
    due = (
        candidates.filter(due_date__lte=horizon)
        .select_related("loan__bank", "loan__division")
        .order_by("due_date", "loan_id", "seq")
    )
    for inst in due:
        loan = inst.loan
        principal = inst.principal_due - inst.principal_paid
        interest = inst.interest_due - inst.interest_paid
        days = (inst.due_date - today).days
        when = _("今天") if days == 0 else _("%(n)s 天后（%(day)s）") % {"n": days, "day": inst.due_date}
        result.findings.append(
            Finding(
                key=stable_key("installment", inst.pk, "due"),
                level="info" if days else "warning",
                title=_("贷款 %(number)s 第 %(seq)s 期即将到期") % {"number": loan.number, "seq": inst.seq},
                body=_(
                    "贷款 %(number)s（%(bank)s）第 %(seq)s 期 %(when)s 到期，应还本金 %(principal)s 元、"
                    "利息 %(interest)s 元，合计 %(total)s 元。"
                )
                % {
                    "number": loan.number,
                    "bank": loan.bank.name,
                    "seq": inst.seq,
                    "when": when,
                    "principal": principal,
                    "interest": interest,
                    "total": principal + interest,
                },
                link=loan.get_absolute_url(),
                division=loan.division,
                recipients=loan_audience(audience, loan),
            )
        )
    return result


JOB = Job(
    key=MonitorJob.INSTALLMENTS_DUE,
    check=check,
    params=(IntParam("days", gettext_lazy("提前天数"), default=7, minimum=0, maximum=90),),
)
