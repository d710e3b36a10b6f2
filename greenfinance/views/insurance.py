"""Green insurance pages: policies (list with filters and XLSX export, detail with the linked
assets, application, loan, project, claims and history, record, cancel) and claims (list, report,
detail, assessment, approval, rejection, withdrawal, payouts). Banks read, and only the policies
securing their own applications and loans."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
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

from .. import selectors_insurance as selectors
from ..forms_insurance import (
    ApproveForm,
    CancelForm,
    ClaimFilter,
    ClaimForm,
    NoteForm,
    PayoutForm,
    PolicyFilter,
    PolicyForm,
    policy_initial,
)
from ..models import ClaimStatus, PolicyStatus
from ..services import insurance as services

LIST_TEMPLATE = "greenfinance/insurance/object_list.html"
FORM_TEMPLATE = "greenfinance/insurance/form.html"


def _log_bank_reads(request, parties):
    """Insured persons' names shown to a bank are logged (PIPL); staff reads are not
    (log_person_reads skips division-scoped users)."""
    persons = list({p.person_id: p.person for p in parties if p is not None and p.person_id}.values())
    if persons:
        log_person_reads(
            actor=request.user, persons=persons, channel=AccessChannel.WEB, ip=client_ip(request)
        )


def _form_page(request, form, title, action, *, back, **extra):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            for name in form.errors:
                if name in form.fields:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
            messages.error(request, str(exc.detail))
    return render(request, FORM_TEMPLATE, {"form": form, "title": title, "back": back, **extra})


# --- policies ---------------------------------------------------------------------------------


class PolicyListView(ObjectListView):
    template_name = LIST_TEMPLATE
    title = gettext_lazy("绿色保险保单")
    filterset_class = PolicyFilter
    export_name = "insurance-policies"
    default_sort = ("-start_date", "-pk")
    columns = [
        Column(gettext_lazy("保单号"), "number", sort="number", link=True),
        Column(gettext_lazy("险种"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("保险机构"), "insurer.name", sort="insurer__name"),
        Column(gettext_lazy("被保险人"), "insured"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("保险金额（元）"), "sum_insured", sort="sum_insured"),
        Column(gettext_lazy("保费（元）"), "premium", sort="premium"),
        Column(gettext_lazy("财政补贴（元）"), "subsidy_amount", sort="subsidy_amount"),
        Column(gettext_lazy("已核赔（元）"), "approved_total", sort="approved_total"),
        Column(gettext_lazy("保险起期"), "start_date", sort="start_date"),
        Column(gettext_lazy("保险止期（不含）"), "end_date", sort="end_date"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return selectors.policies_for(self.request.user)

    def get_create_url(self):
        return (
            reverse("greenfinance:policy-new")
            if can(self.request.user, Capability.MANAGE_GREEN_FINANCE)
            else None
        )

    def get_extra_context(self):
        _log_bank_reads(self.request, [policy.insured for policy in self.shown])
        return {"tab": "policies"}


def policy_list(request):
    return PolicyListView.as_view()(request)


def policy_detail(request, pk):
    policy = get_object_or_404(selectors.policies_for(request.user), pk=pk)
    claims = list(selectors.policy_claims(policy))
    _log_bank_reads(request, [policy.insured, policy.beneficiary])
    may_manage = selectors.may_manage(request.user, policy.division)
    return render(
        request,
        "greenfinance/insurance/policy_detail.html",
        {
            "policy": policy,
            "assets": list(selectors.policy_assets(policy)),
            "claims": claims,
            "remaining": policy.remaining,
            "history": selectors.policy_history(policy),
            "may_manage": may_manage,
            "may_cancel": may_manage and policy.status == PolicyStatus.ACTIVE,
            "may_claim": may_manage and policy.status in services.CLAIMABLE_POLICY_STATUSES,
            "coverage_end": services.coverage_end(policy),
            "subsidy_percent": f"{(policy.subsidy_rate * 100).quantize(Decimal('0.01'))}%",
        },
    )


def policy_new(request):
    if not can(request.user, Capability.MANAGE_GREEN_FINANCE):
        raise PermissionDenied
    initial = policy_initial(request.GET)
    # Recorded from a loan application's or a loan's page: insure its applicant, in its division.
    source = None
    if "loan" in initial:
        source = selectors.linkable_loans(request.user).filter(pk=initial["loan"]).first()
        party = source and source.borrower_id
    elif "application" in initial:
        source = selectors.linkable_applications(request.user).filter(pk=initial["application"]).first()
        party = source and source.applicant_id
    if source is not None:
        initial.update(insured=party, division=source.division_id)
    form = PolicyForm(request.POST or None, user=request.user, initial=initial)

    def create(data):
        policy = services.create_policy(actor=request.user, **data)
        messages.success(request, _("保单已登记：%(number)s") % {"number": policy.number})
        return redirect("greenfinance:policy-detail", policy.pk)

    return _form_page(request, form, _("登记绿色保险保单"), create, back=reverse("greenfinance:policy-list"))


def _managed_policy(request, pk):
    policy = get_object_or_404(selectors.policies_for(request.user), pk=pk)
    if not selectors.may_manage(request.user, policy.division):
        raise PermissionDenied
    return policy


def policy_cancel(request, pk):
    policy = _managed_policy(request, pk)

    def cancel(data):
        services.cancel_policy(actor=request.user, policy=policy, **data)
        messages.success(request, _("保单已退保：%(number)s") % {"number": policy.number})
        return redirect("greenfinance:policy-detail", policy.pk)

    return _form_page(
        request,
        CancelForm(request.POST or None),
        _("退保：%(number)s") % {"number": policy.number},
        cancel,
        back=policy.get_absolute_url(),
        policy=policy,
    )


# --- claims -----------------------------------------------------------------------------------


class ClaimListView(ObjectListView):
    template_name = LIST_TEMPLATE
    title = gettext_lazy("保险理赔")
    filterset_class = ClaimFilter
    export_name = "insurance-claims"
    default_sort = ("-reported_at", "-pk")
    columns = [
        Column(gettext_lazy("理赔编号"), "number", sort="number", link=True),
        Column(gettext_lazy("保单号"), "policy.number", sort="policy__number"),
        Column(gettext_lazy("险种"), "policy.get_kind_display", sort="policy__kind"),
        Column(gettext_lazy("被保险人"), "policy.insured"),
        Column(gettext_lazy("出险日期"), "incident_date", sort="incident_date"),
        Column(gettext_lazy("出险原因"), "cause"),
        Column(gettext_lazy("报损金额（元）"), "claimed_amount", sort="claimed_amount"),
        Column(gettext_lazy("核定赔款（元）"), "approved_amount", sort="approved_amount"),
        Column(gettext_lazy("已赔付（元）"), "paid_amount", sort="paid_amount"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return selectors.claims_for(self.request.user)

    def get_extra_context(self):
        _log_bank_reads(self.request, [claim.policy.insured for claim in self.shown])
        return {"tab": "claims"}


def claim_list(request):
    return ClaimListView.as_view()(request)


def claim_new(request, pk):
    policy = _managed_policy(request, pk)

    def report(data):
        claim = services.report_claim(actor=request.user, policy=policy, **data)
        messages.success(request, _("已报案：%(number)s") % {"number": claim.number})
        return redirect("greenfinance:claim-detail", claim.pk)

    return _form_page(
        request,
        ClaimForm(request.POST or None, policy=policy),
        _("报案：保单 %(number)s") % {"number": policy.number},
        report,
        back=policy.get_absolute_url(),
        policy=policy,
    )


def claim_detail(request, pk):
    claim = get_object_or_404(selectors.claims_for(request.user), pk=pk)
    policy = claim.policy
    _log_bank_reads(request, [policy.insured])
    may_manage = selectors.may_manage(request.user, policy.division)
    status = claim.status
    return render(
        request,
        "greenfinance/insurance/claim_detail.html",
        {
            "claim": claim,
            "policy": policy,
            "payouts": list(selectors.claim_payouts(claim)),
            "unpaid": None if claim.approved_amount is None else claim.approved_amount - claim.paid_amount,
            "history": selectors.claim_history(claim),
            "may_assess": may_manage and status == ClaimStatus.REPORTED,
            "may_approve": may_manage and status == ClaimStatus.ASSESSING,
            "may_reject": may_manage and status in (ClaimStatus.REPORTED, ClaimStatus.ASSESSING),
            "may_pay": may_manage and status == ClaimStatus.APPROVED,
        },
    )


def _managed_claim(request, pk):
    claim = get_object_or_404(selectors.claims_for(request.user), pk=pk)
    if not selectors.may_manage(request.user, claim.policy.division):
        raise PermissionDenied
    return claim


@require_POST
def claim_assess(request, pk):
    claim = _managed_claim(request, pk)
    run_service(
        request,
        lambda: services.start_assessment(actor=request.user, claim=claim),
        success=_("已进入查勘定损：%(number)s") % {"number": claim.number},
    )
    return redirect("greenfinance:claim-detail", claim.pk)


def claim_approve(request, pk):
    claim = _managed_claim(request, pk)

    def approve(data):
        services.approve_claim(actor=request.user, claim=claim, **data)
        messages.success(request, _("已核赔：%(number)s") % {"number": claim.number})
        return redirect("greenfinance:claim-detail", claim.pk)

    return _form_page(
        request,
        ApproveForm(request.POST or None, initial={"approved_amount": claim.claimed_amount}),
        _("核赔：%(number)s") % {"number": claim.number},
        approve,
        back=claim.get_absolute_url(),
        claim=claim,
        remaining=services.remaining_sum_insured(claim.policy, exclude=claim),
    )


def _closing(verb, service, title, success):
    def view(request, pk):
        claim = _managed_claim(request, pk)

        def close(data):
            service(actor=request.user, claim=claim, **data)
            messages.success(request, str(success) % {"number": claim.number})
            return redirect("greenfinance:claim-detail", claim.pk)

        return _form_page(
            request,
            NoteForm(request.POST or None),
            str(title) % {"number": claim.number},
            close,
            back=claim.get_absolute_url(),
            claim=claim,
        )

    view.__name__ = f"claim_{verb}"
    return view


claim_reject = _closing(
    "reject", services.reject_claim, gettext_lazy("拒赔：%(number)s"), gettext_lazy("已拒赔：%(number)s")
)
claim_withdraw = _closing(
    "withdraw", services.withdraw_claim, gettext_lazy("撤案：%(number)s"), gettext_lazy("已撤案：%(number)s")
)


def claim_payout(request, pk):
    claim = _managed_claim(request, pk)

    def pay(data):
        payout = services.record_payout(actor=request.user, claim=claim, **data)
        messages.success(request, _("已登记赔付 %(amount)s 元") % {"amount": payout.amount})
        return redirect("greenfinance:claim-detail", claim.pk)

    return _form_page(
        request,
        PayoutForm(request.POST or None, claim=claim),
        _("登记赔付：%(number)s") % {"number": claim.number},
        pay,
        back=claim.get_absolute_url(),
        claim=claim,
    )


urlpatterns = [
    path("insurance/policies/", policy_list, name="policy-list"),
    path("insurance/policies/new/", policy_new, name="policy-new"),
    path("insurance/policies/<int:pk>/", policy_detail, name="policy-detail"),
    path("insurance/policies/<int:pk>/cancel/", policy_cancel, name="policy-cancel"),
    path("insurance/policies/<int:pk>/claims/new/", claim_new, name="claim-new"),
    path("insurance/claims/", claim_list, name="claim-list"),
    path("insurance/claims/<int:pk>/", claim_detail, name="claim-detail"),
    path("insurance/claims/<int:pk>/assess/", claim_assess, name="claim-assess"),
    path("insurance/claims/<int:pk>/approve/", claim_approve, name="claim-approve"),
    path("insurance/claims/<int:pk>/reject/", claim_reject, name="claim-reject"),
    path("insurance/claims/<int:pk>/withdraw/", claim_withdraw, name="claim-withdraw"),
    path("insurance/claims/<int:pk>/payout/", claim_payout, name="claim-payout"),
]
