"""The journal for the cooperative (login; oversight holders see the internal detail and who
recorded each entry): the latest entries, a search by number and a full verification."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path

from directory.permissions import Capability, can

from ..models import EntryKind, JournalEntry
from ..verification import verify_chain


def index(request):
    entries = JournalEntry.objects.filter(seq__isnull=False).select_related("actor").order_by("-seq")
    reference = request.GET.get("reference", "").strip()
    kind = request.GET.get("kind", "")
    if reference:
        entries = entries.filter(references__contains=[reference])
    if kind in EntryKind.values:
        entries = entries.filter(kind=kind)
    oversight = can(request.user, Capability.VIEW_OVERSIGHT)
    result = verify_chain() if oversight and request.method == "POST" else None
    return render(
        request,
        "journal/staff/index.html",
        {
            "entries": Paginator(entries, 50).get_page(request.GET.get("page")),
            "kinds": EntryKind.choices,
            "reference": reference,
            "kind": kind,
            "show_detail": oversight,
            "result": result,
        },
    )


urlpatterns = [path("", index, name="index")]
