"""The brand desk's front page: licences by status, batches with their trace pages, inspections
due, producers' trade volumes — what the user may see (staff by division, producers their own)."""

from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.urls import path

from directory.permissions import Capability, can

from ..models import Brand, LicenceStatus, Sale
from ..selectors import batches_for, licences_for


def index(request):
    user = request.user
    licences = licences_for(user)
    counts = licences.aggregate(
        active=Count("pk", filter=Q(status=LicenceStatus.ACTIVE)),
        suspended=Count("pk", filter=Q(status=LicenceStatus.SUSPENDED)),
        closed=Count("pk", filter=Q(status__in=[LicenceStatus.WITHDRAWN, LicenceStatus.EXPIRED])),
    )
    batches = batches_for(user)
    sales = (
        Sale.objects.filter(batch__in=batches)
        .values("producer__name")
        .annotate(amount=Sum("amount"), quantity=Sum("quantity"))
        .order_by("-amount")[:10]
    )
    return render(
        request,
        "brand/index.html",
        {
            "brands": Brand.objects.annotate(n=Count("standards")).order_by("name"),
            "counts": counts,
            "licences": licences.order_by("status", "-granted_at")[:20],
            "batches": batches.order_by("-registered_at")[:20],
            "sales": sales,
            "can_manage": can(user, Capability.MANAGE_BRAND),
        },
    )


urlpatterns = [path("", index, name="index")]
