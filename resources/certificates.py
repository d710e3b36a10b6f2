"""The registration certificate (登记证明) as a PDF, rendered by WeasyPrint with a CJK font, a map
excerpt drawn from the geometry (no tiles: it prints offline) and a QR code for verification."""

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from weasyprint import HTML

from .models import RightStatus
from .selectors import rights_of

MAP_SIZE = 240  # px of the square map excerpt


def verification_url(registration):
    return settings.TMCS_PUBLIC_BASE_URL.rstrip("/") + reverse(
        "verify-certificate", args=[registration.verification_code]
    )


def map_excerpt_svg_points(geometry, size=MAP_SIZE, margin=12):
    """Polygon rings scaled into a size×size box (north up), as SVG `points` strings."""
    if geometry is None:
        return []
    xmin, ymin, xmax, ymax = geometry.extent
    scale = (size - 2 * margin) / max(xmax - xmin, ymax - ymin, 1e-9)
    rings = []
    for polygon in geometry:
        for ring in polygon:
            rings.append(
                " ".join(
                    f"{margin + (x - xmin) * scale:.1f},{size - margin - (y - ymin) * scale:.1f}"
                    for x, y in ring.coords
                )
            )
    return rings


def render_certificate_pdf(registration):
    asset = registration.asset
    context = {
        "registration": registration,
        "asset": asset,
        "rights": [r for r in rights_of(asset) if r.status == RightStatus.ACTIVE],
        "rings": map_excerpt_svg_points(asset.geometry),
        "map_size": MAP_SIZE,
        "qr_svg": segno.make(verification_url(registration), error="m").svg_data_uri(scale=3),
        "verification_url": verification_url(registration),
    }
    html = render_to_string("resources/certificate.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
