"""Pages anyone may open without an account: the 公示 board (with the objection form) and the
certificate verification page that a certificate's QR code points to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tmcs.errors import DomainError

from . import registration as registration_services
from .models import Registration, RegistrationStatus


def _on_notice():
    return Registration.objects.filter(
        status=RegistrationStatus.IN_PUBLIC_NOTICE, notice_ends_at__gt=timezone.now()
    ).select_related("asset__resource_type", "asset__division")


@login_not_required
def notice_board(request):
    return render(
        request, "resources/public_notices.html", {"registrations": _on_notice().order_by("notice_ends_at")}
    )


@login_not_required
def notice_detail(request, pk):
    registration = get_object_or_404(_on_notice(), pk=pk)
    errors, values = {}, {}
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in ("objector_name", "contact_phone", "reason")}
        try:
            registration_services.lodge_objection(registration=registration, **values)
        except DomainError as exc:
            errors = exc.fields or {"form": [str(exc.detail)]}
        else:
            messages.success(request, _("异议已提交，登记机构将核实处理。"))
            return redirect("public-notice", pk=registration.pk)
    return render(
        request,
        "resources/public_notice_detail.html",
        {"registration": registration, "asset": registration.asset, "errors": errors, "values": values},
        status=400 if errors else 200,
    )


@login_not_required
def verify_certificate(request, code):
    registration = (
        Registration.objects.filter(
            verification_code=code.strip().upper(), status=RegistrationStatus.REGISTERED
        )
        .select_related("asset__resource_type", "asset__division")
        .first()
    )
    return render(
        request,
        "resources/verify.html",
        {"registration": registration, "code": code},
        status=200 if registration else 404,
    )
