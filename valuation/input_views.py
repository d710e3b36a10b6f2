"""Ecological input pages: the list of inputs, the entry form of one indicator for one asset or
division and year, and the workbook import (upload, row report, template)."""

from dataclasses import dataclass
from io import BytesIO

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from directory.models import AdministrativeDivision, Membership
from directory.permissions import Capability, can
from directory.selectors import divisions_for
from resources.selectors import assets_for
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.filters import FilterSet
from tmcs.listing import Column, ObjectListView

from . import indicators
from .forms import (
    ASSET,
    IndicatorChoiceForm,
    IndicatorInputsForm,
    InputImportForm,
    InputTargetForm,
    default_year,
    plain,
)
from .indicators import units
from .models import EcologicalInput, InputImport, InputImportStatus
from .selectors import inputs_for
from .services import input_import

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_inputs(user):
    if not can(user, Capability.MANAGE_VALUATION_INPUTS):
        raise PermissionDenied


# --- the list ---------------------------------------------------------------------------------------


class _Link(str):
    """A cell that is a link on the page and plain text in the XLSX export (templates use
    __html__; the export writes the string itself)."""

    def __new__(cls, text, url):
        link = super().__new__(cls, text)
        link.url = url
        return link

    def __html__(self):
        return format_html('<a href="{}">{}</a>', self.url, str.__str__(self))


@dataclass(frozen=True)
class _Computed(Column):
    compute: object = None

    def value(self, obj):
        return self.compute(obj)


def entry_url(*, asset=None, division=None, indicator_key="", year=None):
    if asset is not None:
        url = reverse("valuation:input-asset", args=[asset.code])
    else:
        url = reverse("valuation:input-division", args=[division.code])
    query = {key: value for key, value in (("indicator", indicator_key), ("year", year)) if value}
    return f"{url}?{urlencode(query)}" if query else url


def _object_cell(record):
    if record.asset_id:
        text = f"{record.asset.code} {record.asset.name}"
    else:
        text = f"{record.division.code} {record.division.name}"
    return _Link(
        text,
        entry_url(
            asset=record.asset, division=record.division, indicator_key=record.indicator_key, year=record.year
        ),
    )


def _indicator_label(key):
    indicator = indicators.REGISTRY.get(key)
    return f"{indicator.code} {indicator.name}" if indicator else key


def _input_label(record):
    indicator = indicators.REGISTRY.get(record.indicator_key)
    specs = {s.key: s for s in indicator.inputs} if indicator else {}
    return str(specs[record.input_key].label) if record.input_key in specs else record.input_key


def _unit_label(code):
    return str(units.unit_label(code)) if code in units.UNITS else code


def indicator_choices():
    return [
        (key, format_lazy("{} {}", indicator.code, indicator.name))
        for key, indicator in indicators.REGISTRY.items()
    ]


class InputFilter(FilterSet):
    year = django_filters.NumberFilter(label=gettext_lazy("年份"))
    indicator_key = django_filters.ChoiceFilter(label=gettext_lazy("指标"), choices=indicator_choices)
    asset = django_filters.CharFilter(label=gettext_lazy("资产编号"), method="filter_asset")
    division = django_filters.CharFilter(label=gettext_lazy("区划代码"), method="filter_division")

    class Meta:
        model = EcologicalInput
        fields = ["year", "indicator_key"]

    def filter_asset(self, queryset, name, value):
        return queryset.filter(asset__code__iexact=value.strip())

    def filter_division(self, queryset, name, value):
        """Inputs of the division and of everything below it (assets included)."""
        code = value.strip()
        division = AdministrativeDivision.objects.filter(code=code).only("code", "level").first()
        prefix = division.prefix if division else code
        return queryset.filter(
            Q(asset__division__code__startswith=prefix) | Q(division__code__startswith=prefix)
        )


class InputListView(ObjectListView):
    template_name = "valuation/input_list.html"
    title = gettext_lazy("核算输入数据")
    filterset_class = InputFilter
    export_name = "gep-inputs"
    default_sort = ("-year", "indicator_key", "asset__code", "division__code", "input_key")
    columns = [
        Column(gettext_lazy("年份"), "year", sort="year"),
        _Computed(gettext_lazy("对象"), "", compute=_object_cell),
        _Computed(
            gettext_lazy("指标"),
            "",
            sort="indicator_key",
            compute=lambda r: _indicator_label(r.indicator_key),
        ),
        _Computed(gettext_lazy("输入项"), "", compute=_input_label),
        _Computed(gettext_lazy("数值"), "", compute=lambda r: plain(r.value)),
        _Computed(gettext_lazy("单位"), "", compute=lambda r: _unit_label(r.unit)),
        Column(gettext_lazy("数据来源"), "source"),
        Column(gettext_lazy("录入人"), "entered_by"),
        Column(gettext_lazy("录入时间"), "entered_at", sort="entered_at"),
    ]

    def get_queryset(self):
        return inputs_for(self.request.user)

    def get_create_url(self):
        return (
            reverse("valuation:input-start")
            if can(self.request.user, Capability.MANAGE_VALUATION_INPUTS)
            else None
        )

    def get_extra_context(self):
        return {"may_enter": can(self.request.user, Capability.MANAGE_VALUATION_INPUTS)}


# --- entering one indicator -------------------------------------------------------------------------


def _asset_for_entry(user, code):
    asset = get_object_or_404(assets_for(user).defer("geometry"), code=code)
    if not can(user, Capability.MANAGE_VALUATION_INPUTS, division=asset.division):
        raise PermissionDenied
    return asset


def _division_for_entry(user, code):
    division = get_object_or_404(divisions_for(user).defer("boundary"), code=code)
    if not can(user, Capability.MANAGE_VALUATION_INPUTS, division=division):
        raise PermissionDenied
    return division


def input_start(request):
    """Choose the asset or division and the year, then go to its entry page."""
    _require_inputs(request.user)
    form = InputTargetForm(request.GET or None)
    if form.is_bound and form.is_valid():
        kind, code, year = (form.cleaned_data[k] for k in ("kind", "code", "year"))
        target = None
        if kind == ASSET:
            asset = assets_for(request.user).filter(code=code).defer("geometry").first()
            if asset is None:
                form.add_error("code", _("资产编号“%(code)s”不存在或您无权查看。") % {"code": code})
            elif not can(request.user, Capability.MANAGE_VALUATION_INPUTS, division=asset.division):
                form.add_error("code", _("您无权录入“%(name)s”的核算数据。") % {"name": asset.code})
            else:
                target = entry_url(asset=asset, year=year)
        else:
            division = divisions_for(request.user).filter(code=code).defer("boundary").first()
            if division is None:
                form.add_error("code", _("行政区划代码“%(code)s”不存在。") % {"code": code})
            elif not can(request.user, Capability.MANAGE_VALUATION_INPUTS, division=division):
                form.add_error("code", _("您无权录入“%(name)s”的核算数据。") % {"name": division.name})
            else:
                target = entry_url(division=division, year=year)
        if target:
            return redirect(target)
    return render(request, "valuation/input_start.html", {"form": form, "title": _("录入核算输入")})


def asset_inputs(request, code):
    asset = _asset_for_entry(request.user, code)
    return _entry(request, asset=asset, division=None)


def division_inputs(request, code):
    division = _division_for_entry(request.user, code)
    return _entry(request, asset=None, division=division)


def _entry(request, *, asset, division):
    offered = input_import.offered_indicators(asset=asset, division=division)
    chooser = IndicatorChoiceForm(
        request.GET if "year" in request.GET or "indicator" in request.GET else None, offered=offered
    )
    indicator, year = None, default_year()
    if chooser.is_bound and chooser.is_valid():
        indicator, year = chooser.cleaned_data["indicator"], chooser.cleaned_data["year"]
    elif chooser.is_bound:
        year = None
    context = {
        "asset": asset,
        "division": division,
        "chooser": chooser,
        "year": year,
        "indicator": indicator,
        "title": _("录入核算输入"),
    }
    if indicator is None:
        if request.method == "POST":
            return render(request, "valuation/input_entry.html", context, status=400)
        counts = {}
        if year is not None:
            counts = dict(
                EcologicalInput.objects.filter(asset=asset, division=division, year=year)
                .values_list("indicator_key")
                .annotate(n=Count("pk"))
            )
        context["overview"] = [
            {
                "indicator": i,
                "category": indicators.Category(i.category).label,
                "entered": counts.get(i.key, 0),
                "url": entry_url(asset=asset, division=division, indicator_key=i.key, year=year),
            }
            for i in offered
        ]
        return render(request, "valuation/input_entry.html", context)

    stored = {
        record.input_key: record
        for record in EcologicalInput.objects.filter(
            asset=asset, division=division, year=year, indicator_key=indicator.key
        ).select_related("entered_by")
    }
    area_m2 = asset.area_m2 if asset is not None else None
    form = IndicatorInputsForm(
        request.POST if request.method == "POST" else None,
        indicator=indicator,
        stored=stored,
        area_m2=area_m2,
    )
    if request.method == "POST" and form.is_valid():
        try:
            count = input_import.record_indicator_inputs(
                actor=request.user,
                asset=asset,
                division=division,
                year=year,
                indicator_key=indicator.key,
                values=form.values(),
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已保存“%(indicator)s” %(year)s 年的 %(count)s 项输入。")
                % {"indicator": indicator.name, "year": year, "count": count},
            )
            return redirect(request.get_full_path())
    last = max(stored.values(), key=lambda r: r.entered_at, default=None)
    context.update(
        {
            "form": form,
            "rows": list(form.rows()),
            "last_entry": last,
            "category": indicators.Category(indicator.category).label,
            "method": indicators.Method(indicator.method).label,
            "quantity_unit": units.unit_label(indicator.quantity_unit),
        }
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "valuation/input_entry.html", context, status=status)


# --- importing ----------------------------------------------------------------------------------------


def imports_for(user):
    """Imports by the user and by colleagues of the same organizations."""
    if user.is_superuser:
        return InputImport.objects.all()
    organizations = [m.organization_id for m in user.active_memberships]
    colleagues = Membership.objects.filter(organization_id__in=organizations, is_active=True).values(
        "user_id"
    )
    return InputImport.objects.filter(Q(created_by=user) | Q(created_by__in=colleagues))


class InputImportFilter(FilterSet):
    class Meta:
        model = InputImport
        fields = ["status"]


class InputImportListView(ObjectListView):
    template_name = "valuation/input_list.html"
    title = gettext_lazy("核算输入导入记录")
    filterset_class = InputImportFilter
    export_name = "gep-input-imports"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("文件名"), "original_name", link=True),
        Column(gettext_lazy("格式"), "format"),
        Column(gettext_lazy("数据行数"), "row_count"),
        Column(gettext_lazy("写入数值数"), "value_count"),
        Column(gettext_lazy("结果"), "get_status_display", sort="status"),
        Column(gettext_lazy("导入人"), "created_by"),
        Column(gettext_lazy("导入时间"), "created_at", sort="created_at"),
    ]

    def get_queryset(self):
        _require_inputs(self.request.user)
        return imports_for(self.request.user).select_related("created_by")

    def get_create_url(self):
        return reverse("valuation:input-import-create")


def input_import_create(request):
    _require_inputs(request.user)
    form = InputImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = input_import.import_inputs(actor=request.user, upload=form.cleaned_data["file"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            return redirect(record)
    return render(
        request,
        "valuation/input_import_form.html",
        {"form": form, "title": _("批量导入核算输入"), "max_rows": input_import.MAX_ROWS},
        status=400 if request.method == "POST" else 200,
    )


ERRORS_SHOWN = 1000


def input_import_detail(request, pk):
    _require_inputs(request.user)
    record = get_object_or_404(imports_for(request.user).select_related("created_by"), pk=pk)
    return render(
        request,
        "valuation/input_import_detail.html",
        {
            "record": record,
            "errors": record.errors[:ERRORS_SHOWN],
            "more_errors": max(0, len(record.errors) - ERRORS_SHOWN),
        },
    )


def input_import_errors(request, pk):
    _require_inputs(request.user)
    record = get_object_or_404(imports_for(request.user), pk=pk, status=InputImportStatus.FAILED)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("错误报告")))
    sheet.append([_("行号"), _("列"), _("问题")])
    for error in record.errors:
        sheet.append([error["row"] or _("整个文件"), error["column"], error["message"]])
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="gep-input-import-{record.pk}-errors.xlsx"'
    return response


def input_template(request):
    """The XLSX template, its example rows on an asset (with an area, listing water conservation)
    and a division the user may enter."""
    _require_inputs(request.user)
    user = request.user
    example_asset = next(
        (
            asset
            for asset in assets_for(user)
            .filter(area_m2__isnull=False, resource_type__gep_indicators__contains=["water_conservation"])
            .defer("geometry")
            .order_by("code")[:50]
            if can(user, Capability.MANAGE_VALUATION_INPUTS, division=asset.division)
        ),
        None,
    )
    memberships = [
        m
        for m in user.active_memberships
        if can(user, Capability.MANAGE_VALUATION_INPUTS, division=m.organization.division)
    ]
    example_division = memberships[0].organization.division if memberships else None
    content = input_import.template_workbook(
        example_asset=example_asset, example_division=example_division, year=default_year()
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="tmcs-gep-inputs-template.xlsx"'
    return response
