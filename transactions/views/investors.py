"""Investor sign-up (public), the registration status page, and the cooperative's review pages."""

import re
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from ..forms.investors import RegistrationFilter, RegistrationForm, ReviewForm
from ..models import InvestorRegistration, ReviewStatus
from ..selectors_packages import registrations_for, unapproved_registration_of
from ..services import investors as services


def trading_page(view):
    """A user whose investor registration is pending or was rejected sees its status page instead
    of a trading page (they have no active role yet, so the page would only refuse them)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if unapproved_registration_of(request.user) is not None:
            return redirect("transactions:investor-status")
        return view(request, *args, **kwargs)

    return wrapper


@login_not_required
def register(request):
    form = RegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.register_investor(**form.cleaned_data)
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            return render(request, "transactions/investors/registered.html", {"registration": registration})
    return render(
        request,
        "transactions/investors/register.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def status(request):
    registration = (
        InvestorRegistration.objects.filter(user=request.user)
        .select_related("organization__division", "reviewed_by")
        .order_by("-created_at")
        .first()
    )
    if registration is None:
        raise Http404
    return render(request, "transactions/investors/status.html", {"registration": registration})


class RegistrationListView(ObjectListView):
    title = gettext_lazy("投资主体注册")
    filterset_class = RegistrationFilter
    export_name = "investor-registrations"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("投资主体"), "organization.name", sort="organization__name", link=True),
        Column(gettext_lazy("统一社会信用代码"), "organization.uscc"),
        Column(gettext_lazy("所在区划"), "organization.division.name", sort="organization__division__code"),
        Column(gettext_lazy("联系人"), "organization.contact_name"),
        Column(gettext_lazy("联系电话"), "organization.contact_phone_masked"),
        Column(gettext_lazy("注册用户"), "user.username"),
        Column(gettext_lazy("注册时间"), "created_at", sort="created_at"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("审核人"), "reviewed_by"),
    ]

    def dispatch(self, request, *args, **kwargs):
        if not can(request.user, Capability.MANAGE_TRADING):
            raise PermissionDenied(_("您没有权限审核投资主体。"))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return registrations_for(self.request.user)


def registration_detail(request, pk):
    registration = get_object_or_404(registrations_for(request.user), pk=pk)
    return render(
        request,
        "transactions/investors/detail.html",
        {
            "registration": registration,
            "review_form": ReviewForm() if registration.status == ReviewStatus.PENDING else None,
            "licence_is_pdf": registration.licence.name.lower().endswith(".pdf"),
        },
    )


@require_POST
def registration_review(request, pk):
    registration = get_object_or_404(registrations_for(request.user), pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: services.review_investor_registration(
                actor=request.user,
                registration=registration,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            ),
            success=_("审核结果已保存。"),
        )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("transactions:investor-registration-detail", pk=registration.pk)


def registration_licence(request, pk):
    """Private media: the reviewing staff in reach and the registrant only."""
    registration = InvestorRegistration.objects.filter(pk=pk).select_related("organization__division").first()
    if registration is None or not registration.licence:
        raise Http404
    if registration.user_id != request.user.pk and not can(
        request.user, Capability.MANAGE_TRADING, division=registration.organization.division
    ):
        raise PermissionDenied(_("您没有权限查看该营业执照。"))
    extension = registration.licence.name.rsplit(".", 1)[-1].lower()
    is_pdf = extension == "pdf"
    response = FileResponse(
        registration.licence.open("rb"),
        as_attachment=is_pdf,  # PDFs are saved, not opened inside our origin
        filename=re.sub(r'[\x00-\x1f"/\\]', "_", f"{registration.organization.name}-licence.{extension}"),
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


urlpatterns = [
    path("investors/status/", status, name="investor-status"),
    path("investors/", RegistrationListView.as_view(), name="investor-registration-list"),
    path("investors/<int:pk>/", registration_detail, name="investor-registration-detail"),
    path("investors/<int:pk>/review/", registration_review, name="investor-registration-review"),
    path("investors/<int:pk>/licence/", registration_licence, name="investor-registration-licence"),
]

public_urlpatterns = [
    path("investors/register/", register, name="investor-register"),
]
