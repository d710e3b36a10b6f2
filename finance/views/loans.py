"""Loan book pages: the list (staff within their divisions, a bank its own loans), the detail with
schedule, repayments, position and delinquency trend, booking a disbursement from a bank-approved
application, recording a repayment, the statement (page, PDF, XLSX) and the delinquency overview."""

from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from directory.models import AccessChannel
from directory.permissions import Capability, can
from directory.services import log_person_reads
from tmcs.audit import client_ip
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from transactions.pdf import amount_in_words, render_pdf

from ..forms.loans import DisburseForm, LoanFilter, RepaymentForm, StatementForm
from ..models import DelinquencyBucket, LoanStatus
from ..selectors_loans import (
    bank_organizations,
    delinquency_summary,
    disbursable_applications,
    loan_detail,
    loan_list,
    loan_repayments,
    loan_snapshots,
)
from ..services import loans as services


class BucketColumn(Column):
    def value(self, obj):
        code = super().value(obj)
        return DelinquencyBucket(code).label if code else ""


class LoanListView(ObjectListView):
    template_name = "finance/loans/list.html"
    title = gettext_lazy("贷款台账")
    filterset_class = LoanFilter
    export_name = "loans"
    default_sort = ("-disbursed_on", "-pk")
    columns = [
        Column(gettext_lazy("借据编号"), "number", sort="number", link=True),
        Column(gettext_lazy("借款人"), "borrower"),
        Column(gettext_lazy("贷款银行"), "bank.name", sort="bank__name"),
        Column(gettext_lazy("贷款产品"), "product.name", sort="product__name"),
        Column(gettext_lazy("本金（元）"), "principal", sort="principal"),
        Column(gettext_lazy("剩余本金（元）"), "outstanding", sort="outstanding"),
        Column(gettext_lazy("放款日"), "disbursed_on", sort="disbursed_on"),
        Column(gettext_lazy("逾期天数"), "days_past_due", sort="days_past_due"),
        BucketColumn(gettext_lazy("逾期分档"), "bucket", sort="days_past_due"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return loan_list(self.request.user)

    def get(self, request):
        response = super().get(request)
        shown = getattr(self, "shown", None)
        if shown:
            _log_bank_read(request, [loan.borrower for loan in shown])
        return response

    def get_extra_context(self):
        return {"to_disburse": list(disbursable_applications(self.request.user).order_by("-pk")[:20])}


def loan_list_page(request):
    return LoanListView.as_view()(request)


def _log_bank_read(request, parties):
    """Pages naming borrowers (persons) log a bank officer's read (PIPL); staff reads are not."""
    persons = [party.person for party in parties if party.person_id]
    if persons and bank_organizations(request.user):
        log_person_reads(
            actor=request.user, persons=persons, channel=AccessChannel.WEB, ip=client_ip(request)
        )


def percent(rate):
    """0.036000 → "3.6 %"."""
    return f"{(rate * 100).normalize():f} %"


def may_act_on(user, loan):
    """The lending bank's officers, or cooperative staff of the loan's division."""
    if loan.bank_id in bank_organizations(user):
        return True
    return can(user, Capability.MANAGE_LOANS, division=loan.division)


def _get_loan(request, pk):
    loan = get_object_or_404(loan_detail(request.user), pk=pk)
    _log_bank_read(request, [loan.borrower])
    return loan


def loan_detail_page(request, pk):
    loan = _get_loan(request, pk)
    today = timezone.localdate()
    position = services.position(loan, today)
    snapshots = loan_snapshots(loan)
    return render(
        request,
        "finance/loans/detail.html",
        {
            "loan": loan,
            "rate": percent(loan.annual_rate),
            "penalty_rate": percent(loan.penalty_rate),
            "position": position,
            "installments": list(loan.installments.all()),
            "repayments": list(loan_repayments(loan)),
            "snapshots": snapshots,
            "chart": [[s.as_of.isoformat(), s.days_past_due, str(s.overdue_principal)] for s in snapshots],
            "today": today,
            "may_repay": may_act_on(request.user, loan) and loan.status in services.OPEN_STATUSES,
            "may_declare": can(request.user, Capability.MANAGE_LOANS, division=loan.division),
            "statement_form": StatementForm(initial={"start": loan.disbursed_on, "end": today}),
        },
    )


def _form_page(request, form, title, action, *, back, template="finance/loans/form.html", **extra):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            for name in form.errors:  # add_error runs after full_clean marked the widgets
                if name in form.fields:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
            messages.error(request, str(exc.detail))
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


def loan_disburse(request):
    application = get_object_or_404(
        disbursable_applications(request.user), pk=request.GET.get("application") or 0
    )
    _log_bank_read(request, [application.applicant])
    form = DisburseForm(
        request.POST or None,
        initial={
            "principal": application.approved_amount or application.amount,
            "disbursed_on": timezone.localdate(),
        },
    )

    def disburse(data):
        loan = services.disburse(actor=request.user, application=application, **data)
        messages.success(request, _("已登记放款：%(number)s") % {"number": loan.number})
        return redirect(loan)

    return _form_page(
        request,
        form,
        _("登记放款：%(number)s") % {"number": application.number},
        disburse,
        back=reverse("finance:loan-list"),
        application=application,
        rate=percent(application.annual_rate),
    )


def loan_repay(request, pk):
    loan = _get_loan(request, pk)
    if not may_act_on(request.user, loan):
        raise PermissionDenied
    today = timezone.localdate()
    form = RepaymentForm(
        request.POST or None, initial={"paid_on": today, "prepayment": services.SHORTEN_TERM}
    )

    def repay(data):
        repayment = services.record_repayment(actor=request.user, loan=loan, **data)
        messages.success(
            request,
            _("已登记还款 %(amount)s 元（本金 %(p)s，利息 %(i)s，罚息 %(x)s）。")
            % {
                "amount": repayment.amount,
                "p": repayment.principal_part,
                "i": repayment.interest_part,
                "x": repayment.penalty_part,
            },
        )
        return redirect(loan)

    return _form_page(
        request,
        form,
        _("登记还款：%(number)s") % {"number": loan.number},
        repay,
        back=loan.get_absolute_url(),
        loan=loan,
        position=services.position(loan, today),
    )


def _statement(request, pk):
    loan = _get_loan(request, pk)
    today = timezone.localdate()
    form = StatementForm(request.GET or {"start": loan.disbursed_on, "end": today})
    if not form.is_valid():
        return loan, form, None
    return loan, form, services.statement(loan, form.cleaned_data["start"], form.cleaned_data["end"])


def loan_statement(request, pk):
    loan, form, statement = _statement(request, pk)
    query = request.GET.urlencode() if statement is not None else ""
    return render(
        request,
        "finance/loans/statement.html",
        {"loan": loan, "form": form, "statement": statement, "query": query},
    )


def loan_statement_pdf(request, pk):
    loan, _form, statement = _statement(request, pk)
    if statement is None:
        return loan_statement(request, pk)
    content = render_pdf(
        "finance/loans/statement_pdf.html",
        {
            "loan": statement.loan,
            "statement": statement,
            "closing_words": amount_in_words(statement.closing_balance),
            "penalty_rate": percent(statement.loan.penalty_rate),
            "printed_at": timezone.localtime(),
        },
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{loan.number}-statement.pdf"'
    return response


def loan_statement_xlsx(request, pk):
    loan, _form, statement = _statement(request, pk)
    if statement is None:
        return loan_statement(request, pk)
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(_("对账单"))
    summary.append([_("借据编号"), loan.number])
    summary.append([_("借款人"), str(statement.loan.borrower)])
    summary.append([_("贷款银行"), statement.loan.bank.name])
    summary.append([_("期间"), statement.start, statement.end])
    for label, value in (
        (_("期初本金余额（元）"), statement.opening_balance),
        (_("本期放款（元）"), statement.disbursed),
        (_("本期还本（元）"), statement.principal_paid),
        (_("本期付息（元）"), statement.interest_paid),
        (_("本期罚息（元）"), statement.penalty_paid),
        (_("期末本金余额（元）"), statement.closing_balance),
        (_("期末未还罚息（元）"), statement.position.penalty_accrued),
    ):
        summary.append([label, value])
    repayments = workbook.create_sheet(_("还款明细"))
    repayments.append(
        [_("还款日"), _("类型"), _("银行流水号"), _("金额"), _("期次"), _("本金"), _("利息"), _("罚息")]
    )
    for repayment in statement.repayments:
        for line in repayment.lines.all():
            repayments.append(
                [
                    repayment.paid_on,
                    repayment.get_kind_display(),
                    repayment.bank_reference,
                    repayment.amount,
                    line.installment.seq,
                    line.principal,
                    line.interest,
                    line.penalty,
                ]
            )
    scheduled = workbook.create_sheet(_("应还与实还"))
    scheduled.append(
        [_("期次"), _("应还日"), _("应还本金"), _("应还利息"), _("已还本金"), _("已还利息"), _("已还罚息")]
    )
    for inst, principal, interest, penalty in statement.scheduled:
        scheduled.append(
            [inst.seq, inst.due_date, inst.principal_due, inst.interest_due, principal, interest, penalty]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{loan.number}-statement.xlsx"'
    return response


def delinquency(request):
    summary = delinquency_summary(request.user)
    total = {
        "count": sum(row["count"] for row in summary),
        "outstanding": sum(row["outstanding"] for row in summary),
        "overdue_principal": sum(row["overdue_principal"] for row in summary),
    }
    return render(
        request,
        "finance/loans/delinquency.html",
        {
            "summary": summary,
            "total": total,
            "today": timezone.localdate(),
            "open_status": LoanStatus.ACTIVE,
        },
    )


urlpatterns = [
    path("loans/", loan_list_page, name="loan-list"),
    path("loans/new/", loan_disburse, name="loan-disburse"),
    path("loans/delinquency/", delinquency, name="loan-delinquency"),
    path("loans/<int:pk>/", loan_detail_page, name="loan-detail"),
    path("loans/<int:pk>/repay/", loan_repay, name="loan-repay"),
    path("loans/<int:pk>/statement/", loan_statement, name="loan-statement"),
    path("loans/<int:pk>/statement.pdf", loan_statement_pdf, name="loan-statement-pdf"),
    path("loans/<int:pk>/statement.xlsx", loan_statement_xlsx, name="loan-statement-xlsx"),
]
public_urlpatterns = []
