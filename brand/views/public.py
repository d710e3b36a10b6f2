"""The public trace page a batch's QR code opens (no login, phone first), and its QR code."""

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse

from ..selectors import trace_view


def trace_url(code):
    return settings.TMCS_PUBLIC_BASE_URL.rstrip("/") + reverse("brand-public:trace", kwargs={"code": code})


@login_not_required
def trace_form(request):
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("brand-public:trace", code=code)
    return render(request, "brand/trace/form.html")


@login_not_required
def trace(request, code):
    data = trace_view(code)
    if data is None:
        response = render(request, "brand/trace/missing.html", {"code": code[:40]})
        response.status_code = 404
        return response
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": o["geometry"], "properties": {"name": o["code"]}}
            for o in data["origins"]
            if o["geometry"]
        ],
    }
    return render(
        request,
        "brand/trace/page.html",
        {"t": data, "geojson": geojson, "tile_url": settings.TMCS_MAP_TILE_URL, "code": code},
    )


@login_not_required
def trace_qr(request, code):
    if trace_view(code) is None:
        return HttpResponse(status=404)
    svg = segno.make(trace_url(code), error="m").svg_inline(scale=4)
    return HttpResponse(svg, content_type="image/svg+xml")


urlpatterns = [
    path("", trace_form, name="trace-form"),
    path("<str:code>/", trace, name="trace"),
    path("<str:code>/qr.svg", trace_qr, name="trace-qr"),
]
