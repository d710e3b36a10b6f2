"""Dataset pages: the list of datasets, one page per dataset (its documented columns, template
downloads, the export form and the import form with its dry-run option), and the exchange logs
(list with filters and XLSX export; detail with the row errors of a refused file)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..datasets import DATASETS, formats
from ..forms_datasets import ExchangeLogFilter, ExportForm, ImportForm
from ..models import Channel, ExchangeFormat, ExchangeStatus
from ..selectors_datasets import logs_for, may_exchange, may_read_logs
from ..services import datasets as services

RECENT_LOGS = 10


def _spec(key):
    spec = DATASETS.get(key)
    if spec is None:
        raise Http404
    return spec


def _require_exchange(user):
    if not may_exchange(user):
        raise PermissionDenied


def _download(content, content_type, file_name):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def dataset_list(request):
    _require_exchange(request.user)
    return render(
        request,
        "exchange/datasets/list.html",
        {"datasets": list(DATASETS.values()), "title": _("数据集交换")},
    )


def _detail_page(request, spec, *, export_form=None, import_form=None, status=200):
    user = request.user
    return render(
        request,
        "exchange/datasets/detail.html",
        {
            "spec": spec,
            "title": spec.label,
            "export_form": export_form or ExportForm(user=user, spec=spec),
            "import_form": import_form or ImportForm(user=user, spec=spec),
            "recent": logs_for(user).filter(dataset=spec.key).order_by("-started_at", "-pk")[:RECENT_LOGS],
        },
        status=status,
    )


def dataset_detail(request, key):
    _require_exchange(request.user)
    return _detail_page(request, _spec(key))


def dataset_template(request, key, fmt):
    _require_exchange(request.user)
    spec = _spec(key)
    if fmt not in (ExchangeFormat.CSV, ExchangeFormat.XLSX):
        raise Http404
    return _download(*formats.template(spec, fmt))


def _refused(form, exc):
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(str(exc.detail)) from None
    form.add_service_errors(exc)


@require_POST
def dataset_export(request, key):
    _require_exchange(request.user)
    spec = _spec(key)
    form = ExportForm(request.POST, user=request.user, spec=spec)
    if form.is_valid():
        try:
            content, content_type, file_name, _log = services.export_dataset(
                actor=request.user,
                dataset=spec.key,
                fmt=form.cleaned_data["format"],
                division=form.cleaned_data["division"],
                channel=Channel.WEB,
                organization=form.counterpart(),
                filters=form.filters(),
            )
            return _download(content, content_type, file_name)
        except DomainError as exc:
            _refused(form, exc)
    messages.error(request, _("导出条件有误，请检查。"))
    return _detail_page(request, spec, export_form=form, status=400)


@require_POST
def dataset_import(request, key):
    _require_exchange(request.user)
    spec = _spec(key)
    form = ImportForm(request.POST, request.FILES, user=request.user, spec=spec)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            log = services.import_dataset(
                actor=request.user,
                dataset=spec.key,
                fmt=form.cleaned_data["format"],
                division=form.cleaned_data["division"],
                channel=Channel.WEB,
                content=upload.read(formats.MAX_BYTES + 1),  # one byte more tells the service it is too big
                file_name=upload.name,
                organization=form.counterpart(),
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as exc:
            _refused(form, exc)
        else:
            if log.status == ExchangeStatus.SUCCEEDED:
                messages.success(
                    request,
                    (_("试导入通过：") if form.cleaned_data["dry_run"] else _("已导入："))
                    + _("新增 %(c)s 行，更新 %(u)s 行，未变 %(n)s 行。")
                    % {"c": log.rows_created, "u": log.rows_updated, "n": log.rows_unchanged},
                )
            else:
                messages.error(request, _("文件未导入：%(n)s 处错误，详见下表。") % {"n": len(log.errors)})
            return redirect("exchange:log-detail", log.pk)
    return _detail_page(request, spec, import_form=form, status=400)


class ExchangeLogListView(ObjectListView):
    title = gettext_lazy("数据交换记录")
    filterset_class = ExchangeLogFilter
    export_name = "exchange-logs"
    default_sort = ("-started_at", "-pk")
    columns = [
        Column(gettext_lazy("交换编号"), "number", sort="number", link=True),
        Column(gettext_lazy("时间"), "started_at", sort="started_at"),
        Column(gettext_lazy("数据集"), "get_dataset_display", sort="dataset"),
        Column(gettext_lazy("方向"), "get_direction_display", sort="direction"),
        Column(gettext_lazy("格式"), "get_format_display"),
        Column(gettext_lazy("渠道"), "get_channel_display"),
        Column(gettext_lazy("经办人"), "actor"),
        Column(gettext_lazy("对方单位"), "organization.name"),
        Column(gettext_lazy("区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("总行数"), "rows_total", sort="rows_total"),
        Column(gettext_lazy("新增"), "rows_created"),
        Column(gettext_lazy("更新"), "rows_updated"),
        Column(gettext_lazy("未变"), "rows_unchanged"),
        Column(gettext_lazy("错误行"), "rows_rejected"),
        Column(gettext_lazy("结果"), "get_status_display", sort="status"),
    ]

    def get(self, request):
        if not may_read_logs(request.user):
            raise PermissionDenied
        return super().get(request)

    def get_queryset(self):
        return logs_for(self.request.user)


def log_detail(request, pk):
    if not may_read_logs(request.user):
        raise PermissionDenied
    log = get_object_or_404(logs_for(request.user), pk=pk)
    return render(
        request,
        "exchange/datasets/log_detail.html",
        {
            "log": log,
            "title": log.number,
            "spec": DATASETS.get(log.dataset),
            "dry_run": bool(log.parameters.get("dry_run")),
        },
    )


urlpatterns = [
    path("datasets/", dataset_list, name="dataset-list"),
    path("datasets/<str:key>/", dataset_detail, name="dataset-detail"),
    path("datasets/<str:key>/template.<str:fmt>", dataset_template, name="dataset-template"),
    path("datasets/<str:key>/export/", dataset_export, name="dataset-export"),
    path("datasets/<str:key>/import/", dataset_import, name="dataset-import"),
    path("logs/", ExchangeLogListView.as_view(), name="log-list"),
    path("logs/<int:pk>/", log_detail, name="log-detail"),
]
