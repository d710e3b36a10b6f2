"""Pledge pages: the list (staff within their divisions, banks their own), the detail with the
release form, registering a pledge from an application, the 抵质押登记证明 PDF, and the public
check page a certificate's QR code points to (no login, no personal data)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.models import AccessChannel
from directory.permissions import Capability, can
from directory.services import log_person_reads
from tmcs.audit import client_ip
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from transactions.pdf import render_pdf

from ..forms.pledges import PledgeFilter, PledgeRegisterForm, PledgeReleaseForm
from ..models import PledgeStatus
from ..selectors_applications import bank_ids
from ..selectors_pledges import (
    certificate_context,
    collateral_overview,
    pledge_for_check,
    pledgeable_applications_for,
    pledgeable_rights,
    pledges_for,
    verification_url,
    visible_pledge,
)
from ..services import pledges as services


class PledgeListView(ObjectListView):
    title = gettext_lazy("抵质押登记")
    filterset_class = PledgeFilter
    export_name = "pledges"
    default_sort = ("-registered_at", "-pk")
    columns = [
        Column(gettext_lazy("登记号"), "number", sort="number", link=True),
        Column(gettext_lazy("资源编号"), "right.asset.code", sort="right__asset__code"),
        Column(gettext_lazy("权利类型"), "right.get_kind_display", sort="right__kind"),
        Column(gettext_lazy("顺位"), "rank", sort="rank"),
        Column(gettext_lazy("担保金额（元）"), "secured_amount", sort="secured_amount"),
        Column(gettext_lazy("质权人"), "bank.name", sort="bank__name"),
        Column(gettext_lazy("贷款申请"), "application.number", sort="application__number"),
        Column(gettext_lazy("受理区划"), "application.division.name", sort="application__division__code"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("登记时间"), "registered_at", sort="registered_at"),
    ]

    def get_queryset(self):
        return pledges_for(self.request.user)


def pledge_list(request):
    return PledgeListView.as_view()(request)


def may_act_on(user, pledge):
    """The pledgee bank's officers, or cooperative staff of the application's division."""
    if pledge.bank_id in bank_ids(user):
        return True
    return can(user, Capability.MANAGE_LOANS, division=pledge.application.division)


def _show_service_errors(request, form, exc):
    """A refusal's field errors go next to the fields (marked invalid), its message on top."""
    form.add_service_errors(exc)
    for name in form.errors:  # add_error runs after full_clean marked the widgets
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
    messages.error(request, str(exc.detail))


def _detail(request, pledge, release_form=None, status=200):
    may_release = pledge.status == PledgeStatus.ACTIVE and may_act_on(request.user, pledge)
    return render(
        request,
        "finance/pledges/detail.html",
        {
            "pledge": pledge,
            "holder": pledge.right.holder,
            "restriction": pledge.restriction,
            "may_release": may_release,
            "release_form": release_form or (PledgeReleaseForm() if may_release else None),
            "verification_url": verification_url(pledge),
        },
        status=status,
    )


def _get_pledge(request, pk):
    pledge = visible_pledge(request.user, pk)
    if pledge is None:
        raise Http404
    return pledge


def _log_bank_read(request, pledge):
    """The page and the certificate show the holder's name and masked ID: a bank's read is
    logged (PIPL); staff reads are not (log_person_reads skips them)."""
    person = pledge.right.holder.person
    if person is not None:
        log_person_reads(
            actor=request.user, persons=[person], channel=AccessChannel.WEB, ip=client_ip(request)
        )


def pledge_detail(request, pk):
    pledge = _get_pledge(request, pk)
    _log_bank_read(request, pledge)
    return _detail(request, pledge)


@require_POST
def pledge_release(request, pk):
    pledge = _get_pledge(request, pk)
    if not may_act_on(request.user, pledge):
        raise PermissionDenied
    form = PledgeReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.release_pledge(actor=request.user, pledge=pledge, reason=form.cleaned_data["reason"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            _show_service_errors(request, form, exc)
        else:
            messages.success(request, _("抵质押已解除：%(number)s") % {"number": pledge.number})
            return redirect(pledge)
    return _detail(request, pledge, release_form=form, status=400)


def pledge_register(request):
    pk = request.GET.get("application", "")
    if not pk.isdigit():
        raise Http404
    application = get_object_or_404(pledgeable_applications_for(request.user), pk=pk)
    rights = pledgeable_rights(application)
    form = PledgeRegisterForm(request.POST or None, rights=rights)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                pledge = services.register_pledge(
                    actor=request.user, application=application, **form.cleaned_data
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except DomainError as exc:
                _show_service_errors(request, form, exc)
            else:
                messages.success(request, _("抵质押已登记：%(number)s") % {"number": pledge.number})
                return redirect(pledge)
    return render(
        request,
        "finance/pledges/register.html",
        {"application": application, "form": form, "collateral": collateral_overview(application)},
        status=status,
    )


def pledge_certificate(request, pk):
    pledge = _get_pledge(request, pk)
    _log_bank_read(request, pledge)
    content = render_pdf("finance/pledges/certificate.html", certificate_context(pledge))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pledge.number}.pdf"'
    return response


@login_not_required
def pledge_check(request, code):
    pledge = pledge_for_check(code)
    return render(
        request,
        "finance/pledges/check.html",
        {"pledge": pledge, "code": code},
        status=200 if pledge else 404,
    )


urlpatterns = [
    path("pledges/", pledge_list, name="pledge-list"),
    path("pledges/new/", pledge_register, name="pledge-register"),
    path("pledges/<int:pk>/", pledge_detail, name="pledge-detail"),
    path("pledges/<int:pk>/release/", pledge_release, name="pledge-release"),
    path("pledges/<int:pk>/certificate.pdf", pledge_certificate, name="pledge-certificate"),
]

public_urlpatterns = [path("pledges/<str:code>/", pledge_check, name="pledge-check")]
