"""A licence's page for the brand desk and its producer: term, origins, actions, inspections,
batches; the desk suspends or withdraws it here (with a reason), through the services."""

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.web import run_service

from ..selectors import licences_for
from ..services import lifecycle


def _licence(request, number):
    return get_object_or_404(licences_for(request.user), number=number)


def licence_detail(request, number):
    licence = _licence(request, number)
    return render(
        request,
        "brand/licences/detail.html",
        {
            "licence": licence,
            "origins": licence.origin_assets.select_related("resource_type", "division"),
            "actions": licence.actions.select_related("actor").order_by("recorded_at", "pk"),
            "inspections": licence.inspections.order_by("-inspected_on", "-pk"),
            "batches": licence.batches.order_by("-registered_at"),
            "can_manage": can(request.user, Capability.MANAGE_BRAND, division=licence.division),
        },
    )


@require_POST
def licence_action(request, number, action):
    licence = _licence(request, number)
    services = {
        "suspend": (lifecycle.suspend_licence, _("已暂停该授权，暂停期间不能登记新批次。")),
        "withdraw": (lifecycle.withdraw_licence, _("已撤销该授权。")),
    }
    if action not in services:
        return redirect("brand:licence", number=number)
    service, success = services[action]
    run_service(
        request,
        lambda: service(actor=request.user, licence=licence, reason=request.POST.get("reason", "")),
        success=success,
    )
    return redirect("brand:licence", number=number)


urlpatterns = [
    path("licences/<str:number>/", licence_detail, name="licence"),
    path("licences/<str:number>/<str:action>/", licence_action, name="licence-action"),
]
