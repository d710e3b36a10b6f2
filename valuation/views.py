"""GEP accounting pages: runs (start, follow, read, compare, export), parameter sets, indicators."""

import json
from io import BytesIO

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from directory.forms import DivisionChoiceField, division_choices_for
from directory.models import AdministrativeDivision
from directory.permissions import Capability, can
from tmcs.errors import DomainError
from tmcs.filters import FilterSet
from tmcs.forms import Form
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from . import indicators, services
from .models import (
    AccountingRun,
    ParameterSetStatus,
    ParameterValue,
    PriceBasis,
    PriceIndex,
    RunInput,
    RunStatus,
)
from .reports import render_run_pdf
from .selectors import indicator_totals, parameter_sets, run_summary, runs_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- runs -----------------------------------------------------------------------------------------


class RunFilter(FilterSet):
    class Meta:
        model = AccountingRun
        fields = ["year", "status", "price_basis"]


class RunListView(ObjectListView):
    template_name = "valuation/object_list.html"
    title = gettext_lazy("核算批次")
    filterset_class = RunFilter
    export_name = "gep-runs"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("编号"), "pk", link=True),
        Column(gettext_lazy("核算范围"), "division.name", sort="division__code"),
        Column(gettext_lazy("核算年份"), "year", sort="year"),
        Column(gettext_lazy("价格基准"), "get_price_basis_display"),
        Column(gettext_lazy("参数集"), "parameter_set"),
        Column(gettext_lazy("GEP 合计（元）"), "total_value", sort="total_value"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("采纳时间"), "accepted_at"),
    ]

    def get_queryset(self):
        return runs_for(self.request.user)

    def get_create_url(self):
        return reverse("valuation:run-create") if can(self.request.user, Capability.RUN_VALUATION) else None


class RunForm(Form):
    division = DivisionChoiceField(label=gettext_lazy("核算范围"), queryset=None)
    year = forms.IntegerField(label=gettext_lazy("核算年份"), min_value=1990, max_value=2100)
    parameter_set = forms.ModelChoiceField(label=gettext_lazy("参数集"), queryset=None)
    price_basis = forms.ChoiceField(label=gettext_lazy("价格基准"), choices=PriceBasis.choices)
    base_year = forms.IntegerField(
        label=gettext_lazy("基准年"),
        required=False,
        min_value=1990,
        max_value=2100,
        help_text=gettext_lazy("可比价核算时必填，须与参数集的价格年份一致。"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = division_choices_for(user)
        self.fields["parameter_set"].queryset = parameter_sets().exclude(status=ParameterSetStatus.RETIRED)
        self.fields["year"].initial = timezone.localdate().year - 1


def run_create(request):
    if not can(request.user, Capability.RUN_VALUATION):
        raise PermissionDenied
    form = RunForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = run_service(
            request,
            lambda: services.start_run(
                actor=request.user,
                division=data["division"],
                year=data["year"],
                parameter_set=data["parameter_set"],
                price_basis=data["price_basis"],
                base_year=data["base_year"],
            ),
            success=_("核算已发起，正在后台计算。"),
        )
        if run:
            return redirect(run)
    return render(
        request,
        "valuation/run_form.html",
        {"form": form, "title": _("发起 GEP 核算")},
        status=400 if request.method == "POST" else 200,
    )


def run_detail(request, pk):
    run = get_object_or_404(runs_for(request.user), pk=pk)
    done = run.chunks.exclude(done_at=None).count()
    context = {"run": run, "done_chunks": done}
    if request.headers.get("HX-Request") and not run.is_done:
        return render(request, "valuation/_run_progress.html", context)
    if request.headers.get("HX-Request"):  # finished while polled: reload the whole page
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    summary = run_summary(run) if run.status == RunStatus.SUCCEEDED else None
    context.update(
        summary=summary,
        chart=_chart_data(summary) if summary else None,
        choropleth=_choropleth(run, summary) if summary else "",
        top_assets=run.asset_results.select_related("asset").order_by("-value")[:20],
        may_run=can(request.user, Capability.RUN_VALUATION, division=run.division),
        may_accept=can(request.user, Capability.ACCEPT_VALUATION, division=run.division)
        and run.created_by_id != request.user.pk,
        comparable=runs_for(request.user)
        .filter(division=run.division, status=RunStatus.SUCCEEDED)
        .exclude(pk=run.pk)
        .order_by("-year", "-pk")[:20],
    )
    return render(request, "valuation/run_detail.html", context)


def _chart_data(summary):
    labels = {c.value: str(c.label) for c in indicators.Category}
    return {
        "categories": [{"name": labels[k], "value": float(v)} for k, v in summary["categories"].items()],
        "indicators": [{"name": i["name"], "value": float(i["value"])} for i in summary["indicators"][:12]],
        "children": [{"name": c["division__name"], "value": float(c["total"])} for c in summary["children"]],
        "trend": [{"year": y, "value": float(v)} for y, v, _accepted in summary["trend"]],
    }  # floats only for drawing; every number printed on the page comes from the Decimals


def _choropleth(run, summary):
    """GeoJSON of the next level of divisions that have a boundary, with their totals; empty when
    none has one (the page then shows a bar chart)."""
    totals = {c["division__code"]: c["total"] for c in summary["children"]}
    shapes = (
        AdministrativeDivision.objects.filter(code__in=totals)
        .exclude(boundary=None)
        .only("code", "name", "boundary")
    )
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(d.boundary.simplify(0.0005, preserve_topology=True).geojson),
            "properties": {"code": d.code, "name": d.name, "value": float(totals[d.code])},
        }
        for d in shapes
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}) if features else ""


@require_POST
def run_action(request, pk, action):
    run = get_object_or_404(runs_for(request.user), pk=pk)
    actions = {
        "cancel": (services.cancel_run, _("核算已取消。")),
        "accept": (services.accept_run, _("核算结果已采纳。")),
        "retry": (services.retry_run, _("已重新排队未完成的部分。")),
    }
    if action not in actions:
        raise PermissionDenied
    service, message = actions[action]
    run_service(request, lambda: service(actor=request.user, run=run), success=message)
    return redirect(run)


def run_report(request, pk):
    run = get_object_or_404(runs_for(request.user).filter(status=RunStatus.SUCCEEDED), pk=pk)
    response = HttpResponse(render_run_pdf(run, run_summary(run)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="gep-run-{run.pk}.pdf"'
    return response


def run_export(request, pk):
    """Results, rollups and the frozen inputs of a run in one workbook."""
    run = get_object_or_404(runs_for(request.user).filter(status=RunStatus.SUCCEEDED), pk=pk)
    book = Workbook(write_only=True)
    names = {k: str(i.name) for k, i in indicators.REGISTRY.items()}
    sheet = book.create_sheet(str(_("资产结果")))
    sheet.append(
        [_("资源编号"), _("区划代码"), _("指标"), _("物质量"), _("单位"), _("单价"), _("价值量（元）")]
    )
    for r in run.asset_results.select_related("asset").order_by("asset__code", "indicator_key").iterator():
        sheet.append(
            [
                r.asset.code,
                r.division_code,
                names[r.indicator_key],
                r.quantity,
                r.quantity_unit,
                r.unit_price,
                r.value,
            ]
        )
    sheet = book.create_sheet(str(_("区域汇总")))
    sheet.append([_("区划代码"), _("区划"), _("指标"), _("类别"), _("价值量（元）")])
    for r in run.rollups.select_related("division").order_by("division__code", "indicator_key"):
        sheet.append([r.division.code, r.division.name, names[r.indicator_key], r.category, r.value])
    sheet = book.create_sheet(str(_("核算输入")))
    sheet.append([_("资源编号"), _("区划代码"), _("指标"), _("输入项"), _("数值"), _("单位")])
    for i in RunInput.objects.filter(run=run).select_related("asset", "division").order_by("pk").iterator():
        sheet.append(
            [
                i.asset.code if i.asset else "",
                i.division.code if i.division else "",
                i.indicator_key,
                i.input_key,
                i.value,
                i.unit,
            ]
        )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="gep-run-{run.pk}.xlsx"'
    return response


def run_compare(request, pk, other_pk):
    """Per-indicator difference of two runs (year over year, or run against run)."""
    visible = runs_for(request.user).filter(status=RunStatus.SUCCEEDED)
    run, other = get_object_or_404(visible, pk=pk), get_object_or_404(visible, pk=other_pk)
    rows = {}
    for side, subject in (("a", other), ("b", run)):
        for item in indicator_totals(subject):
            rows.setdefault(item["key"], {"name": item["name"], "code": item["code"], "a": 0, "b": 0})[
                side
            ] = item["value"]
    for row in rows.values():
        row["delta"] = row["b"] - row["a"]
        row["ratio"] = (row["delta"] * 100 / row["a"]) if row["a"] else None
    lines = sorted(rows.values(), key=lambda r: -abs(r["delta"]))
    return render(
        request,
        "valuation/run_compare.html",
        {
            "run": run,
            "other": other,
            "rows": lines,
            "total_a": other.total_value,
            "total_b": run.total_value,
            "same_basis": run.price_basis == other.price_basis
            and run.parameter_set_id == other.parameter_set_id,
        },
    )


# --- parameter sets and indicators ----------------------------------------------------------------


def parameter_set_list(request):
    return render(
        request,
        "valuation/parameter_set_list.html",
        {
            "sets": parameter_sets().order_by("name", "-version"),
            "may_manage": can(request.user, Capability.MANAGE_VALUATION),
        },
    )


def parameter_set_detail(request, pk):
    parameter_set = get_object_or_404(parameter_sets(), pk=pk)
    names = indicators.REGISTRY
    values = [
        (v, names.get(v.indicator_key), _param_label(names.get(v.indicator_key), v.param_key))
        for v in parameter_set.values.order_by("indicator_key", "param_key")
    ]
    return render(
        request,
        "valuation/parameter_set_detail.html",
        {
            "parameter_set": parameter_set,
            "values": values,
            "may_manage": can(request.user, Capability.MANAGE_VALUATION),
            "editable": parameter_set.status == ParameterSetStatus.DRAFT and not parameter_set.is_locked,
        },
    )


def _param_label(indicator, key):
    if indicator is None:
        return key
    spec = {s.key: s for s in indicator.params}.get(key)
    return spec.label if spec else key


@require_POST
def parameter_set_action(request, pk, action):
    parameter_set = get_object_or_404(parameter_sets(), pk=pk)
    if action == "copy":
        copy = run_service(
            request,
            lambda: services.copy_parameter_set(
                actor=request.user, source=parameter_set, price_year=_int(request.POST.get("price_year"))
            ),
            success=_("已复制为新版本（草稿）。"),
        )
        return redirect(copy or parameter_set)
    if action == "publish":
        run_service(
            request,
            lambda: services.publish_parameter_set(actor=request.user, parameter_set=parameter_set),
            success=_("参数集已发布。"),
        )
        return redirect(parameter_set)
    raise PermissionDenied


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


class ParameterValueForm(Form):
    value = forms.DecimalField(label=gettext_lazy("数值"), max_digits=36, decimal_places=10)
    year = forms.IntegerField(label=gettext_lazy("年份"), required=False, min_value=1950, max_value=2100)
    source = forms.CharField(label=gettext_lazy("来源"), max_length=300)
    clause = forms.CharField(label=gettext_lazy("条款/表号"), max_length=100, required=False)
    authority = forms.ChoiceField(
        label=gettext_lazy("权威性"), choices=ParameterValue._meta.get_field("authority").choices
    )


def parameter_value_edit(request, pk):
    value = get_object_or_404(ParameterValue.objects.select_related("parameter_set"), pk=pk)
    if not can(request.user, Capability.MANAGE_VALUATION):
        raise PermissionDenied
    initial = {f: getattr(value, f) for f in ("value", "year", "source", "clause", "authority")}
    form = ParameterValueForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = run_service(
            request,
            lambda: services.update_parameter_value(
                actor=request.user,
                value=value,
                new_value=data["value"],
                source=data["source"],
                year=data["year"],
                clause=data["clause"],
                authority=data["authority"],
            ),
            success=_("参数值已保存。"),
        )
        if saved:
            return redirect(value.parameter_set)
    indicator = indicators.REGISTRY.get(value.indicator_key)
    return render(
        request,
        "valuation/parameter_value_form.html",
        {
            "form": form,
            "value": value,
            "indicator": indicator,
            "label": _param_label(indicator, value.param_key),
        },
        status=400 if request.method == "POST" else 200,
    )


class PriceIndexForm(Form):
    series = forms.CharField(
        label=gettext_lazy("指数编码"),
        max_length=40,
        help_text=gettext_lazy("如 agri_producer（农产品生产者价格指数）"),
    )
    year = forms.IntegerField(label=gettext_lazy("年份"))
    value = forms.DecimalField(label=gettext_lazy("指数值"), max_digits=12, decimal_places=4)
    source = forms.CharField(label=gettext_lazy("来源"), max_length=300)


def price_index_list(request):
    """The price indices behind comparable prices; city administrators enter them."""
    may_manage = can(request.user, Capability.MANAGE_VALUATION)
    form = PriceIndexForm(request.POST or None) if may_manage else None
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.record_price_index(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_service_errors(exc)  # field errors next to their fields
            else:
                messages.success(request, _("价格指数已保存。"))
                return redirect("valuation:price-index-list")
    return render(
        request,
        "valuation/price_index_list.html",
        {"indices": PriceIndex.objects.order_by("series", "year"), "form": form},
        status=400 if request.method == "POST" else 200,
    )


def indicator_list(request):
    return render(
        request,
        "valuation/indicator_list.html",
        {
            "indicators": [
                (
                    indicator,
                    indicators.Category(indicator.category).label,
                    indicators.Method(indicator.method).label,
                )
                for indicator in indicators.REGISTRY.values()
            ]
        },
    )
