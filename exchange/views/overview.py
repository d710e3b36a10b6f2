"""The data exchange front page: the datasets one may exchange, the latest exchanges, and (for
staff) consents and credit reports; a guarantee or credit platform sees the reports sent to it."""

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from directory.permissions import Capability, can

from ..models import CreditExport, Dataset, ExchangeStatus
from ..selectors_credit import consents_for, exports_for, may_manage_consents, own_recipients
from ..selectors_datasets import logs_for, may_read_logs

RECENT = 8


def _recent_logs(user):
    if not may_read_logs(user):
        return None
    return list(logs_for(user).order_by("-started_at", "-pk")[:RECENT])


def _consents(user):
    if not may_manage_consents(user):
        return None
    today = timezone.localdate()
    return {
        "valid": consents_for(user)
        .filter(revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today)
        .count(),
        "exports": exports_for(user).count(),
    }


def _received(user):
    recipients = own_recipients(user)
    if not recipients:
        return None
    return list(
        CreditExport.objects.filter(recipient_id__in=recipients)
        .select_related("recipient")
        .order_by("-created_at", "-pk")[:RECENT]
    )


def index(request):
    user = request.user
    logs = _recent_logs(user)
    return render(
        request,
        "exchange/index.html",
        {
            "datasets": [d for d in Dataset if d != Dataset.CREDIT_REPORT],
            "logs": logs,
            "rejected": sum(1 for log in logs or () if log.status != ExchangeStatus.SUCCEEDED),
            "consents": _consents(user),
            "received": _received(user),
            "can_exchange": can(user, Capability.EXCHANGE_DATA),
        },
    )


urlpatterns = [path("", index, name="index")]
