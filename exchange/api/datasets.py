"""`/api/v1/exchange/datasets/` and `/api/v1/exchange/logs/`: data exchange for departments' systems.

- `GET datasets/`: the datasets with their documented columns, formats and filters;
- `GET datasets/<key>/export/?format=json|csv|xlsx|geojson&division=<code>&updated_since=&year=`:
  JSON answers one page of rows (`page`, `page_size`, at most 500); the other formats the whole
  file. Every call is logged as an exchange;
- `POST datasets/<key>/import/`: a multipart file (`file`, with `division`, optional `format`,
  `dry_run`) or a JSON body `{"division": "…", "rows": [{…}], "dry_run": false}`. Answers the
  exchange log (201; 200 for a dry run) with its counts, or 400 `{code, detail, fields, errors,
  log}` when the file is refused — nothing is then written;
- `GET logs/`: exchange logs within reach (filters: dataset, direction, status, organization, dates).

Department officers (role DEPARTMENT_OFFICER, capability EXCHANGE_DATA) call it with an API token
(`Authorization: Token …`) issued to their user. 403 without EXCHANGE_DATA, or when importing a
dataset whose owning services need a capability the caller lacks; a division outside the caller's
reach answers 404, like one that does not exist.
"""

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tmcs.api.exceptions import error_body
from tmcs.errors import DomainError, PermissionDeniedError

from ..datasets import DATASETS, formats
from ..datasets.base import TYPE_LABELS
from ..forms_datasets import ExchangeLogFilter
from ..models import Channel, ExchangeFormat, ExchangeLog, ExchangeStatus
from ..selectors_datasets import (
    default_division,
    exchange_division,
    logs_for,
    may_exchange,
    may_read_logs,
    own_department,
)
from ..services import datasets as services

ERROR = OpenApiResponse(description="{code, detail, fields}")
MAX_PAGE_SIZE = 500


class FormatIsTheFileFormat(DefaultContentNegotiation):
    """`format` names the exchange's file format here, not DRF's response renderer: always answer
    JSON (files are plain HttpResponses)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _require_exchange(user):
    if not may_exchange(user):
        raise PermissionDeniedError(_("您没有交换数据的权限。"))


def _division(request, code):
    """The division named by code (404 when unknown or outside reach), else the caller's own."""
    if code:
        division = exchange_division(request.user, code)
        if division is None:
            raise NotFound(_("区划不存在或不在您的交换范围内。"))
        return division
    division = default_division(request.user)
    if division is None:
        raise DomainError(_("请指定区划代码。"), code="invalid", fields={"division": [_("请指定区划代码。")]})
    return division


def _spec(key):
    spec = DATASETS.get(key)
    if spec is None:
        raise NotFound(_("未知的数据集。"))
    return spec


# --- serializers ------------------------------------------------------------------------------


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    type_label = serializers.CharField()
    required = serializers.BooleanField()
    export_only = serializers.BooleanField()
    help = serializers.CharField()


class DatasetSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    department = serializers.CharField()
    description = serializers.CharField()
    formats = serializers.ListField(child=serializers.CharField())
    filters = serializers.ListField(child=serializers.CharField())
    key_columns = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    columns = ColumnSerializer(many=True)


def _dataset_body(spec):
    return {
        "key": spec.key,
        "label": str(spec.label),
        "department": str(spec.department),
        "description": str(spec.description),
        "formats": [str(f) for f in spec.formats],
        "filters": list(spec.filters),
        "key_columns": list(spec.key_columns),
        "notes": [str(n) for n in spec.notes],
        "columns": [
            {
                "key": c.key,
                "label": str(c.label),
                "type": str(c.type),
                "type_label": str(TYPE_LABELS[c.type]),
                "required": c.required,
                "export_only": c.export_only,
                "help": str(c.help),
            }
            for c in spec.columns
        ],
    }


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="文件中的行号；0 指整个文件")
    column = serializers.CharField(help_text="列的中文名")
    key = serializers.CharField(help_text="列的英文键")
    message = serializers.CharField()


class ExchangeLogSerializer(serializers.ModelSerializer):
    # a plain string: another app's enum field is also called "direction" and an enum here would
    # make drf-spectacular's component names collide
    direction = serializers.CharField(help_text="import 导入 / export 导出")
    division_code = serializers.CharField(source="division.code")
    actor_name = serializers.CharField(source="actor.__str__")
    organization_name = serializers.CharField(source="organization.name", default=None)
    errors = RowErrorSerializer(many=True)

    class Meta:
        model = ExchangeLog
        fields = [
            "id",
            "number",
            "direction",
            "dataset",
            "format",
            "channel",
            "actor_name",
            "organization",
            "organization_name",
            "division_code",
            "file_name",
            "file_sha256",
            "rows_total",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_rejected",
            "status",
            "errors",
            "parameters",
            "started_at",
            "finished_at",
        ]


class ExportPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    log = serializers.CharField(help_text="本次导出的交换编号")
    crs_note = serializers.CharField()
    rows = serializers.ListField(child=serializers.DictField(), help_text="键为数据集的英文列键")


class ImportJsonSerializer(serializers.Serializer):
    division = serializers.CharField(required=False, help_text="12 位区划代码；缺省为本人机构所在区划")
    dry_run = serializers.BooleanField(required=False, default=False)
    rows = serializers.ListField(child=serializers.DictField(), help_text="每行一个对象，键为英文列键")


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField()
    division = serializers.CharField(required=False)
    format = serializers.ChoiceField(choices=ExchangeFormat.choices, required=False)
    dry_run = serializers.BooleanField(required=False, default=False)


class RejectedSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField()
    errors = RowErrorSerializer(many=True)
    log = ExchangeLogSerializer()


EXPORT_PARAMETERS = [
    OpenApiParameter(
        "format", str, enum=[f.value for f in ExchangeFormat], description="文件格式，缺省 json"
    ),
    OpenApiParameter("division", str, description="12 位区划代码；缺省为本人机构所在区划"),
    OpenApiParameter("updated_since", OpenApiTypes.DATE, description="仅导出此日期以来更新的（部分数据集）"),
    OpenApiParameter("year", int, description="年份（部分数据集）"),
    OpenApiParameter("page", int, description="JSON 的页码，从 1 起"),
    OpenApiParameter("page_size", int, description=f"JSON 每页行数，最多 {MAX_PAGE_SIZE}"),
]


def _positive(request, name, default, maximum=None):
    text = request.query_params.get(name, "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise DomainError(_("应为正整数。"), code="invalid", fields={name: [_("应为正整数。")]})
    return min(int(text), maximum) if maximum else int(text)


# --- views ------------------------------------------------------------------------------------


@extend_schema(tags=["exchange: datasets"])
class DatasetViewSet(viewsets.ViewSet):
    lookup_field = "key"
    lookup_value_regex = "[a-z_]+"
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FormatIsTheFileFormat

    @extend_schema(summary="数据集及其列说明", responses={200: DatasetSerializer(many=True), 403: ERROR})
    def list(self, request):
        _require_exchange(request.user)
        return Response([_dataset_body(spec) for spec in DATASETS.values()])

    @extend_schema(summary="一个数据集的列说明", responses={200: DatasetSerializer, 403: ERROR, 404: ERROR})
    def retrieve(self, request, key=None):
        _require_exchange(request.user)
        return Response(_dataset_body(_spec(key)))

    @extend_schema(
        summary="导出（JSON 分页；CSV、XLSX、GeoJSON 为整个文件）",
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "application/json"): ExportPageSerializer,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            (200, "application/geo+json"): OpenApiTypes.BINARY,
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    @action(detail=True, methods=["get"])
    def export(self, request, key=None):
        _require_exchange(request.user)
        spec = _spec(key)
        division = _division(request, request.query_params.get("division"))
        fmt = request.query_params.get("format") or ExchangeFormat.JSON
        filters = {name: request.query_params.get(name) for name in ("updated_since", "year")}
        arguments = {
            "actor": request.user,
            "dataset": spec.key,
            "division": division,
            "channel": Channel.API,
            "organization": own_department(request.user),
            "filters": filters,
        }
        if fmt == ExchangeFormat.JSON:
            page = _positive(request, "page", 1)
            size = _positive(request, "page_size", 100, MAX_PAGE_SIZE)
            rows, count, log = services.export_page(**arguments, page=page, page_size=size)
            body = {
                "count": count,
                "page": page,
                "page_size": size,
                "log": log.number,
                "crs_note": formats.CRS_NOTE if spec.geometry_column else "",
                "rows": rows,
            }
            return Response(body)
        content, content_type, file_name, _log = services.export_dataset(**arguments, fmt=fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response

    @extend_schema(
        summary="导入（全有或全无；被退回时 400 并附逐行错误）",
        request={"multipart/form-data": ImportFileSerializer, "application/json": ImportJsonSerializer},
        responses={
            201: ExchangeLogSerializer,
            200: ExchangeLogSerializer,
            400: RejectedSerializer,
            403: ERROR,
            404: ERROR,
        },
        examples=[
            OpenApiExample(
                "采伐许可证（JSON 行）",
                value={
                    "division": "331102000000",
                    "rows": [
                        {
                            "number": "LC3311022026000123",
                            "asset": "ZY33110219920100000001",
                            "holder_name": "示范村股份经济合作社",
                            "issuer": "莲都区林业局",
                            "species": "杉木",
                            "harvest_type": "抚育采伐",
                            "area_mu": "12.50",
                            "volume_m3": "85.00",
                            "valid_from": "2026-03-01",
                            "valid_until": "2026-12-31",
                        }
                    ],
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="import", parser_classes=[JSONParser, MultiPartParser])
    def import_(self, request, key=None):
        _require_exchange(request.user)
        spec = _spec(key)
        upload = request.FILES.get("file")
        if upload is not None:
            payload = ImportFileSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
            fmt = data.get("format") or formats.format_of(upload.name)
            if fmt is None:
                message = _("无法从文件名判断格式，请指定 format。")
                raise DomainError(message, code="invalid", fields={"format": [message]})
            content, file_name = upload.read(formats.MAX_BYTES + 1), upload.name
        else:
            payload = ImportJsonSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
            fmt, file_name = ExchangeFormat.JSON, ""
            content = json.dumps({"rows": data["rows"]}, ensure_ascii=False).encode("utf-8")
        division = _division(request, data.get("division"))
        log = services.import_dataset(
            actor=request.user,
            dataset=spec.key,
            fmt=fmt,
            division=division,
            channel=Channel.API,
            content=content,
            file_name=file_name,
            organization=own_department(request.user),
            dry_run=data.get("dry_run", False),
        )
        body = ExchangeLogSerializer(log).data
        if log.status != ExchangeStatus.SUCCEEDED:
            rejected = error_body(
                "import_rejected",
                _("文件未导入（%(n)s 处错误），未写入任何数据。") % {"n": len(log.errors)},
            )
            return Response(
                {**rejected, "errors": body["errors"], "log": body}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(body, status=status.HTTP_200_OK if data.get("dry_run") else status.HTTP_201_CREATED)


@extend_schema(tags=["exchange: datasets"])
class ExchangeLogViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ExchangeLogSerializer
    filterset_class = ExchangeLogFilter

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not may_read_logs(request.user):
            raise PermissionDeniedError(_("您没有查看数据交换记录的权限。"))

    def get_queryset(self):
        return logs_for(self.request.user).order_by("-started_at", "-pk")


def register(router):
    router.register("datasets", DatasetViewSet, basename="dataset")
    router.register("logs", ExchangeLogViewSet, basename="exchange-log")
