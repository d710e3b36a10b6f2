"""Loan application pages (list, detail with collateral, appraisals and timeline, prepare/edit,
submit, check, bank decision, withdraw) and collateral appraisal pages (list, new, detail with
the calculation step by step, PDF a bank can cite)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.models import AccessChannel
from directory.permissions import Capability, can
from directory.services import log_person_reads
from tmcs.audit import client_ip
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service
from transactions import pdf

from ..forms.applications import (
    ApplicationFilter,
    ApplicationForm,
    AppraisalFilter,
    AppraiseForm,
    CheckForm,
    DecideForm,
    WithdrawForm,
)
from ..models import ApplicationStatus
from ..selectors_applications import (
    application_timeline,
    applications_for,
    appraisals_for,
    bank_ids,
    collateral_of,
)
from ..services import applications as services
from ..services.appraisal import APPRAISABLE_APPLICATION_STATUSES, appraise, current_appraisal

EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)
WITHDRAWABLE = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.RETURNED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.BANK_APPROVED,
)


def _log_bank_reads(request, parties):
    """Banks' reads of borrowers (persons) are logged (PIPL); staff reads are not."""
    persons = [p.person for p in parties if p is not None and p.person_id]
    if persons:
        log_person_reads(
            actor=request.user, persons=persons, channel=AccessChannel.WEB, ip=client_ip(request)
        )


# --- applications ------------------------------------------------------------------------------


class ApplicationListView(ObjectListView):
    title = gettext_lazy("贷款申请")
    filterset_class = ApplicationFilter
    export_name = "loan-applications"
    default_sort = ("-pk",)
    columns = [
        Column(gettext_lazy("申请编号"), "number", sort="number", link=True),
        Column(gettext_lazy("申请人"), "applicant"),
        Column(gettext_lazy("贷款产品"), "product.name", sort="product__name"),
        Column(gettext_lazy("贷款银行"), "product.bank.name", sort="product__bank__name"),
        Column(gettext_lazy("申请金额（元）"), "amount", sort="amount"),
        Column(gettext_lazy("期限（月）"), "term_months", sort="term_months"),
        Column(gettext_lazy("受理区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("经办人"), "prepared_by"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("创建时间"), "created_at", sort="created_at"),
    ]

    def get_queryset(self):
        return applications_for(self.request.user)

    def get_create_url(self):
        if can(self.request.user, Capability.MANAGE_LOANS):
            return reverse("finance:application-create")
        return None

    def get(self, request):
        response = super().get(request)
        if bank_ids(request.user) and hasattr(self, "shown"):
            _log_bank_reads(request, [a.applicant for a in self.shown])
        return response

    def export(self, rows):
        if bank_ids(self.request.user):  # an export carries borrowers' names too
            _log_bank_reads(self.request, [a.applicant for a in rows[: self.export_row_limit]])
        return super().export(rows)


def _may_manage(user, application):
    return can(user, Capability.MANAGE_LOANS, division=application.division)


def application_detail(request, pk):
    application = get_object_or_404(applications_for(request.user), pk=pk)
    manage = _may_manage(request.user, application)
    own_bank = application.product.bank_id in bank_ids(request.user)
    collateral = list(collateral_of(application))
    rows = []
    total_max_loan = 0
    for row in collateral:
        current = current_appraisal(row.right, application.product)
        if current is not None:
            total_max_loan += current.max_loan
        rows.append({"row": row, "current": current})
    is_preparer = application.prepared_by_id == request.user.pk
    if own_bank:
        _log_bank_reads(request, [application.applicant])
    return render(
        request,
        "finance/applications/detail.html",
        {
            "application": application,
            "collateral": rows,
            "total_max_loan": total_max_loan,
            "timeline": application_timeline(application),
            "rate_percent": f"{(application.annual_rate * 100).normalize():f}",
            "may_edit": manage and is_preparer and application.status in EDITABLE,
            "may_check": manage and not is_preparer and application.status == ApplicationStatus.SUBMITTED,
            "maker_cannot_check": manage
            and is_preparer
            and application.status == ApplicationStatus.SUBMITTED,
            "may_decide": own_bank and application.status == ApplicationStatus.APPROVED,
            "may_withdraw": manage and application.status in WITHDRAWABLE,
            "may_appraise": manage and application.status in APPRAISABLE_APPLICATION_STATUSES,
        },
    )


def _form_page(request, form, title, action, *, back, template="finance/applications/form.html", **extra):
    """Run `action(form)` on a valid POST; a refusal's field errors go back next to the fields."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            if "annual_rate" in exc.fields and "annual_rate_percent" in form.fields:
                exc.fields["annual_rate_percent"] = exc.fields.pop("annual_rate")
            form.add_service_errors(exc)
            for name in form.errors:
                if name in form.fields:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
            messages.error(request, str(exc.detail))
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


def application_create(request):
    if not can(request.user, Capability.MANAGE_LOANS):
        raise PermissionDenied
    form = ApplicationForm(request.POST or None, user=request.user)

    def create(form):
        application = services.create_application(actor=request.user, **form.service_values())
        messages.success(request, _("贷款申请草稿已保存：%(number)s") % {"number": application.number})
        return redirect(application)

    return _form_page(request, form, _("新建贷款申请"), create, back=reverse("finance:application-list"))


def application_edit(request, pk):
    application = get_object_or_404(applications_for(request.user), pk=pk)
    if not _may_manage(request.user, application):
        raise PermissionDenied
    initial = {
        "product": application.product,
        "amount": application.amount,
        "term_months": application.term_months,
        "repayment_method": application.repayment_method,
        "payment_frequency": application.payment_frequency,
        "annual_rate_percent": f"{(application.annual_rate * 100).normalize():f}",
        "purpose": application.purpose,
        "rights": [row.right_id for row in application.collateral.all()],
        "consent_document": application.consent_document,
    }
    form = ApplicationForm(request.POST or None, user=request.user, editing=True, initial=initial)

    def save(form):
        services.update_application(actor=request.user, application=application, **form.service_values())
        messages.success(request, _("贷款申请已修改。"))
        return redirect(application)

    return _form_page(
        request,
        form,
        _("修改贷款申请：%(number)s") % {"number": application.number},
        save,
        back=application.get_absolute_url(),
        application=application,
    )


@require_POST
def application_submit(request, pk):
    application = get_object_or_404(applications_for(request.user), pk=pk)
    run_service(
        request,
        lambda: services.submit_application(actor=request.user, application=application),
        success=_("已提交复核，请由另一位工作人员复核。"),
    )
    return redirect(application)


def application_check(request, pk):
    application = get_object_or_404(applications_for(request.user), pk=pk)
    if not _may_manage(request.user, application):
        raise PermissionDenied

    def check(form):
        data = form.cleaned_data
        services.check_application(
            actor=request.user, application=application, approve=data["approve"], note=data["note"]
        )
        messages.success(
            request, _("已复核通过，已通知银行审批。") if data["approve"] else _("已退回经办人。")
        )
        return redirect(application)

    return _form_page(
        request,
        CheckForm(request.POST or None),
        _("复核贷款申请：%(number)s") % {"number": application.number},
        check,
        back=application.get_absolute_url(),
        application=application,
    )


def application_decide(request, pk):
    application = get_object_or_404(applications_for(request.user), pk=pk)
    if application.product.bank_id not in bank_ids(request.user):
        raise PermissionDenied

    def decide(form):
        data = form.cleaned_data
        services.bank_decide(
            actor=request.user,
            application=application,
            approve=data["approve"],
            note=data["note"],
            approved_amount=data["approved_amount"],
        )
        messages.success(request, _("已批准。") if data["approve"] else _("已拒绝。"))
        return redirect(application)

    return _form_page(
        request,
        DecideForm(request.POST or None),
        _("银行审批：%(number)s") % {"number": application.number},
        decide,
        back=application.get_absolute_url(),
        application=application,
    )


def application_withdraw(request, pk):
    application = get_object_or_404(applications_for(request.user), pk=pk)
    if not _may_manage(request.user, application):
        raise PermissionDenied

    def withdraw(form):
        services.withdraw_application(
            actor=request.user, application=application, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("申请已撤回。"))
        return redirect(application)

    return _form_page(
        request,
        WithdrawForm(request.POST or None),
        _("撤回贷款申请：%(number)s") % {"number": application.number},
        withdraw,
        back=application.get_absolute_url(),
        application=application,
    )


@require_POST
def application_appraise(request, pk, right_pk):
    """Appraise one collateral right of the application today, under the application's product."""
    application = get_object_or_404(applications_for(request.user), pk=pk)
    row = get_object_or_404(application.collateral.select_related("right"), right_id=right_pk)
    appraisal = run_service(
        request,
        lambda: appraise(
            actor=request.user, right=row.right, product=application.product, application=application
        ),
        success=_("评估完成。"),
    )
    if appraisal is not None:
        messages.info(
            request,
            _("评估编号 %(number)s，最高可贷 %(max)s 元。")
            % {
                "number": appraisal.number,
                "max": appraisal.max_loan,
            },
        )
    return redirect(application)


def application_list(request):
    return ApplicationListView.as_view()(request)


# --- appraisals --------------------------------------------------------------------------------


class AppraisalListView(ObjectListView):
    title = gettext_lazy("抵质押物评估")
    filterset_class = AppraisalFilter
    export_name = "collateral-appraisals"
    default_sort = ("-pk",)
    columns = [
        Column(gettext_lazy("评估编号"), "number", sort="number", link=True),
        Column(gettext_lazy("资源编号"), "asset.code", sort="asset__code"),
        Column(gettext_lazy("贷款产品"), "product.name", sort="product__name"),
        Column(gettext_lazy("贷款申请"), "application.number", sort="application__number"),
        Column(gettext_lazy("评估价值（元）"), "appraised_value", sort="appraised_value"),
        Column(gettext_lazy("最高可贷（元）"), "max_loan", sort="max_loan"),
        Column(gettext_lazy("评估基准日"), "appraised_on", sort="appraised_on"),
        Column(gettext_lazy("有效期至"), "valid_until", sort="valid_until"),
    ]
    # Appraisals have no get_absolute_url (the model is not ours to change): the list template
    # links the number to the detail page by primary key.

    def get_queryset(self):
        return appraisals_for(self.request.user)

    def get_create_url(self):
        if can(self.request.user, Capability.MANAGE_LOANS):
            return reverse("finance:appraisal-create")
        return None


def appraisal_list(request):
    return AppraisalListView.as_view()(request)


def appraisal_create(request):
    if not can(request.user, Capability.MANAGE_LOANS):
        raise PermissionDenied
    initial = {key: request.GET[key] for key in ("right", "product") if request.GET.get(key)}
    form = AppraiseForm(request.POST or None, user=request.user, initial=initial)

    def create(form):
        data = form.cleaned_data
        appraisal = appraise(
            actor=request.user,
            right=data["right"],
            product=data["product"],
            appraised_on=data["appraised_on"],
            appraiser_licence_no=data["appraiser_licence_no"],
        )
        messages.success(request, _("评估完成：%(number)s") % {"number": appraisal.number})
        return redirect("finance:appraisal-detail", appraisal.pk)

    return _form_page(request, form, _("抵质押物评估"), create, back=reverse("finance:appraisal-list"))


def _calculation_context(appraisal):
    calc = appraisal.calculation or {}
    return {
        "appraisal": appraisal,
        "calc": calc,
        "horizon": calc.get("horizon") or {},
        "income": calc.get("income"),
        "market": calc.get("market"),
        "current": current_appraisal(appraisal.right_id, appraisal.product_id),
    }


def appraisal_detail(request, pk):
    appraisal = get_object_or_404(appraisals_for(request.user), pk=pk)
    if appraisal.product.bank_id in bank_ids(request.user):
        _log_bank_reads(request, [appraisal.right.holder])
    return render(request, "finance/appraisals/detail.html", _calculation_context(appraisal))


def appraisal_pdf(request, pk):
    appraisal = get_object_or_404(appraisals_for(request.user), pk=pk)
    if appraisal.product.bank_id in bank_ids(request.user):
        _log_bank_reads(request, [appraisal.right.holder])
    context = _calculation_context(appraisal)
    context["value_words"] = pdf.amount_in_words(appraisal.appraised_value)
    context["max_loan_words"] = pdf.amount_in_words(appraisal.max_loan)
    content = pdf.render_pdf("finance/appraisals/pdf.html", context)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{appraisal.number}.pdf"'
    return response


urlpatterns = [
    path("applications/", application_list, name="application-list"),
    path("applications/new/", application_create, name="application-create"),
    path("applications/<int:pk>/", application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", application_edit, name="application-edit"),
    path("applications/<int:pk>/submit/", application_submit, name="application-submit"),
    path("applications/<int:pk>/check/", application_check, name="application-check"),
    path("applications/<int:pk>/decide/", application_decide, name="application-decide"),
    path("applications/<int:pk>/withdraw/", application_withdraw, name="application-withdraw"),
    path("applications/<int:pk>/appraise/<int:right_pk>/", application_appraise, name="application-appraise"),
    path("appraisals/", appraisal_list, name="appraisal-list"),
    path("appraisals/new/", appraisal_create, name="appraisal-create"),
    path("appraisals/<int:pk>/", appraisal_detail, name="appraisal-detail"),
    path("appraisals/<int:pk>/appraisal.pdf", appraisal_pdf, name="appraisal-pdf"),
]
public_urlpatterns = []
