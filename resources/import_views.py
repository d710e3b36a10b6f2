"""Bulk import pages: upload, follow the batch (HTMX polling while it runs), the row report."""

from io import BytesIO

from django import forms
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from directory.models import DivisionLevel, Organization, OrganizationKind
from directory.permissions import Capability, can
from directory.selectors import divisions_for
from tmcs.filters import FilterSet
from tmcs.forms import Form
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from . import importing
from .import_template import template_workbook
from .models import ImportBatch, ImportStatus
from .selectors import import_batches_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SRID_CHOICES = [
    (4490, gettext_lazy("CGCS2000 经纬度（EPSG:4490）")),
    (4326, gettext_lazy("WGS 84 经纬度（EPSG:4326）")),
    (4549, gettext_lazy("CGCS2000 3度带 中央经线120°E（EPSG:4549）")),
    (4548, gettext_lazy("CGCS2000 3度带 中央经线117°E（EPSG:4548）")),
    (4550, gettext_lazy("CGCS2000 3度带 中央经线123°E（EPSG:4550）")),
]


class ImportForm(Form):
    file = forms.FileField(
        label=_("导入文件"),
        help_text=gettext_lazy(
            "GeoJSON（.geojson/.json）、Shapefile 压缩包（.zip，含 .shp/.shx/.dbf/.prj）或 XLSX（含 WKT 列）。"
        ),
    )
    srid = forms.TypedChoiceField(
        label=gettext_lazy("坐标系"),
        coerce=int,
        choices=SRID_CHOICES,
        initial=4490,
        help_text=gettext_lazy("XLSX 的 WKT 和未声明坐标系的 GeoJSON 采用此坐标系；Shapefile 以 .prj 为准。"),
    )


class ImportBatchFilter(FilterSet):
    class Meta:
        model = ImportBatch
        fields = ["status"]


class ImportListView(ObjectListView):
    template_name = "resources/object_list.html"
    title = gettext_lazy("批量导入")
    filterset_class = ImportBatchFilter
    export_name = "asset-imports"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("文件名"), "original_name", link=True),
        Column(gettext_lazy("格式"), "format"),
        Column(gettext_lazy("行数"), "row_count"),
        Column(gettext_lazy("导入资源数"), "asset_count"),
        Column(gettext_lazy("导入人"), "created_by"),
        Column(gettext_lazy("上传时间"), "created_at", sort="created_at"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return import_batches_for(self.request.user).select_related("created_by")

    def get_create_url(self):
        return reverse("resources:import-create") if can(self.request.user, Capability.DRAFT_ASSETS) else None


def import_create(request):
    if not can(request.user, Capability.DRAFT_ASSETS):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = run_service(
            request,
            lambda: importing.start_import(
                actor=request.user, upload=form.cleaned_data["file"], srid=form.cleaned_data["srid"]
            ),
            success=_("文件已上传，正在校验导入。"),
        )
        if batch:
            return redirect(batch)
    return render(
        request,
        "resources/import_form.html",
        {"form": form, "title": _("批量导入资源")},
        status=400 if request.method == "POST" else 200,
    )


def import_detail(request, pk):
    batch = get_object_or_404(import_batches_for(request.user).select_related("created_by"), pk=pk)
    context = {
        "batch": batch,
        "progress": cache.get(importing.progress_key(batch.pk)),
        "assets": batch.assets.select_related("resource_type", "division").order_by("code")[:100],
    }
    if request.headers.get("HX-Request"):  # polled while the batch is queued or running
        return render(request, "resources/_import_status.html", context)
    return render(request, "resources/import_detail.html", context)


def import_errors_xlsx(request, pk):
    batch = get_object_or_404(import_batches_for(request.user), pk=pk, status=ImportStatus.FAILED)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("错误报告")))
    sheet.append([_("行号"), _("列"), _("问题")])
    for error in batch.errors:
        sheet.append([error["row"] or _("整个文件"), error["column"], error["message"]])
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.xlsx"'
    return response


def import_template(request):
    villages = (
        divisions_for(request.user).filter(level=DivisionLevel.VILLAGE).defer("boundary").order_by("code")
    )
    village = next((v for v in villages[:50] if can(request.user, Capability.DRAFT_ASSETS, division=v)), None)
    holder = (
        Organization.objects.filter(division=village, kind=OrganizationKind.VILLAGE_COLLECTIVE)
        .exclude(uscc=None)
        .first()
        if village
        else None
    )
    response = HttpResponse(
        template_workbook(example_division=village, example_holder=holder), content_type=XLSX
    )
    response["Content-Disposition"] = 'attachment; filename="tmcs-asset-import-template.xlsx"'
    return response
