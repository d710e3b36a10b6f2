"""The public ledger (no login): what is recorded and how to check it, daily checkpoints and their
downloads, verification of the whole chain, receipts by certificate/contract/slip/asset number.
Nothing here shows an entry's internal detail or who recorded it."""

import csv
import datetime
import io
import json

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone

from .. import hashing, signing
from ..models import JournalCheckpoint, JournalEntry
from ..services import public_checkpoint, public_entry, receipt
from ..verification import verify_chain

PAGE_SIZE = 50


def _json(data, filename):
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _head():
    return JournalEntry.objects.filter(seq__isnull=False).order_by("-seq").first()


@login_not_required
def index(request):
    checkpoints = Paginator(JournalCheckpoint.objects.order_by("-day"), 30).get_page(request.GET.get("page"))
    latest = JournalEntry.objects.filter(seq__isnull=False).order_by("-seq")[:20]
    return render(
        request,
        "journal/public/index.html",
        {
            "head": _head(),
            "checkpoints": checkpoints,
            "latest": latest,
            "public_key": signing.public_key_b64(),
            "genesis": hashing.GENESIS_HASH,
        },
    )


def _checkpoint(day):
    try:
        day = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    return get_object_or_404(JournalCheckpoint, day=day)


def _day_entries(checkpoint):
    previous = JournalCheckpoint.objects.filter(day__lt=checkpoint.day).order_by("-day").first()
    first = (previous.last_seq if previous else 0) + 1
    return JournalEntry.objects.filter(seq__gte=first, seq__lte=checkpoint.last_seq).order_by("seq")


@login_not_required
def checkpoint_detail(request, day):
    checkpoint = _checkpoint(day)
    entries = Paginator(_day_entries(checkpoint), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "journal/public/checkpoint.html", {"checkpoint": checkpoint, "entries": entries})


@login_not_required
def checkpoint_download(request, day):
    checkpoint = _checkpoint(day)
    return _json(
        {
            "checkpoint": public_checkpoint(checkpoint),
            "public_key": signing.public_key_b64(),
            "entries": [public_entry(e) for e in _day_entries(checkpoint).iterator(chunk_size=2000)],
        },
        f"ledger-{checkpoint.day}.json",
    )


@login_not_required
def checkpoints_download(request, fmt):
    if fmt not in ("json", "csv"):
        raise Http404
    rows = [public_checkpoint(c) for c in JournalCheckpoint.objects.order_by("day")]
    if fmt == "json":
        return _json({"public_key": signing.public_key_b64(), "checkpoints": rows}, "ledger-checkpoints.json")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["day", "last_seq", "head_hash", "entry_count", "signature"])
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ledger-checkpoints.csv"'
    return response


def _chain_stream():
    """The whole public chain as one JSON document, streamed (constant memory)."""
    checkpoints = [public_checkpoint(c) for c in JournalCheckpoint.objects.order_by("day")]
    key = json.dumps(signing.public_key_b64())
    yield f'{{"public_key":{key},"checkpoints":{json.dumps(checkpoints, ensure_ascii=False)},"entries":[\n'
    first = True
    for entry in JournalEntry.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        yield ("" if first else ",\n") + json.dumps(public_entry(entry), ensure_ascii=False)
        first = False
    yield "\n]}\n"


@login_not_required
def chain_download(request):
    response = StreamingHttpResponse(_chain_stream(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ledger-chain-{timezone.localdate()}.json"'
    return response


def _public_rows():
    for entry in JournalEntry.objects.order_by("seq", "pk").iterator(chunk_size=2000):
        yield public_entry(entry)


@login_not_required
def verify(request):
    result = None
    if request.method == "POST":
        # the public check: exactly what a downloader can recompute (no internal detail)
        result = verify_chain(entries=_public_rows(), check_detail=False)
    return render(request, "journal/public/verify.html", {"result": result})


@login_not_required
def receipt_page(request):
    reference = request.GET.get("reference", "").strip()
    found = receipt(reference) if reference else None
    if reference and found is None:
        response = render(request, "journal/public/receipt.html", {"reference": reference, "missing": True})
        response.status_code = 404
        return response
    if found and request.GET.get("format") == "json":
        return _json({**found, "public_key": signing.public_key_b64()}, "ledger-receipt.json")
    return render(request, "journal/public/receipt.html", {"reference": reference, "receipt": found})


@login_not_required
def entry_detail(request, seq):
    entry = JournalEntry.objects.filter(seq=seq).first()
    if entry is None:
        raise Http404
    return render(request, "journal/public/entry.html", {"entry": entry, "row": public_entry(entry)})


urlpatterns = [
    path("", index, name="index"),
    path("entries/<int:seq>/", entry_detail, name="entry"),
    path("checkpoints.<str:fmt>", checkpoints_download, name="checkpoints-download"),
    path("day/<slug:day>/", checkpoint_detail, name="checkpoint"),
    path("day/<slug:day>/download/", checkpoint_download, name="checkpoint-download"),
    path("chain.json", chain_download, name="chain-download"),
    path("verify/", verify, name="verify"),
    path("receipt/", receipt_page, name="receipt"),
]
