"""The accounting report as a PDF (WeasyPrint, Chinese with the Noto CJK font): totals, the three
categories, every indicator with its method, the next level of divisions, the parameters used with
their sources, warnings, and the checksum that lets anyone verify a rerun. Bars are drawn as inline
SVG from the Decimals, so the report needs no browser and no network."""

from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from . import indicators

BAR_WIDTH = 300  # px of the longest bar


def _bars(items, key="value"):
    peak = max((abs(i[key]) for i in items), default=Decimal(0)) or Decimal(1)
    return [{**i, "width": int(abs(i[key]) * BAR_WIDTH / peak)} for i in items]


def render_run_pdf(run, summary):
    total = run.total_value or Decimal(0)
    category_labels = {c.value: str(c.label) for c in indicators.Category}
    methods = {m.value: str(m.label) for m in indicators.Method}
    rows = [
        {
            **item,
            "method": methods[indicators.get(item["key"]).method],
            "unit": indicators.get(item["key"]).quantity_unit,
        }
        for item in summary["indicators"]
    ]
    context = {
        "run": run,
        "total": total,
        "categories": _bars(
            [
                {"label": category_labels[k], "value": v}
                for k, v in sorted(summary["categories"].items(), key=lambda kv: -kv[1])
            ]
        ),
        "indicators": _bars(rows),
        "children": _bars(
            [
                {"label": c["division__name"], "code": c["division__code"], "value": c["total"]}
                for c in summary["children"]
            ]
        ),
        "trend": summary["trend"],
        "parameters": run.parameter_set.values.order_by("indicator_key", "param_key"),
        "generated_at": timezone.localtime(),
        "bar_width": BAR_WIDTH,
    }
    html = render_to_string("valuation/report.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
