"""`/api/v1/exchange/consents/` and `/api/v1/exchange/credit-exports/`.

Cooperative staff (MANAGE_CONSENTS) record and revoke credit consents (授权书) of the parties in
their divisions and create credit reports for a recipient; a report carries only the parties with
a consent covering the recipient, the scope and the day the data leaves (the others are counted as
withheld and appear nowhere in it).

A guarantee or credit platform (浙里担 and the like) calls with an API token of its officer
(RECEIVE_CREDIT_REPORTS): it lists and reads only the reports addressed to its own organization
(404 for the others) and fetches one with `GET credit-exports/<id>/download/?format=json|csv|xlsx`
— every download is logged as an exchange. Persons are identified by a keyed hash of the ID number
(HMAC-SHA256 over "national_id:<ID>", key agreed with the cooperative), never by the number itself;
organizations by their USCC; each line names the consent and its 授权书 number to match against.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from directory.models import Organization
from tmcs.errors import DomainError, PermissionDeniedError

from ..forms_credit import ConsentFilter, ExportFilter
from ..models import Channel, ConsentScope, CreditConsent, CreditExport, ExchangeFormat
from ..selectors_credit import (
    consent_divisions,
    consent_parties,
    consents_for,
    export_lines,
    exports_for,
    may_manage_consents,
    may_receive_reports,
)
from ..services import credit as services

ERROR = OpenApiResponse(description="{code, detail, fields}")
FILE_TYPES = {
    ExchangeFormat.JSON: "application/json",
    ExchangeFormat.CSV: "text/csv",
    ExchangeFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class FormatIsTheFileFormat(DefaultContentNegotiation):
    """`format` names the report's file format here, not DRF's renderer: errors answer in JSON
    and files are plain HttpResponses."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _require_manage(user):
    if not may_manage_consents(user):
        raise PermissionDeniedError(_("您没有管理信用信息授权的权限。"))


def _require_reader(user):
    if not (may_manage_consents(user) or may_receive_reports(user)):
        raise PermissionDeniedError(_("您没有查看信用报送的权限。"))


# --- consents -----------------------------------------------------------------------------------


class CreditConsentSerializer(serializers.ModelSerializer):
    party_kind = serializers.CharField(source="party.kind", help_text="person 自然人 / organization 机构")
    party_name = serializers.CharField(source="party.__str__")
    recipient_name = serializers.CharField(source="recipient.name")
    scopes = serializers.ListField(child=serializers.CharField(), help_text="eco_credit / loan_performance")
    state = serializers.CharField(help_text="valid 有效 / pending 未生效 / expired 已过期 / revoked 已撤回")
    recorded_by_name = serializers.CharField(source="recorded_by.__str__")
    revoked_by_name = serializers.CharField(source="revoked_by.__str__", default=None)

    class Meta:
        model = CreditConsent
        fields = [
            "id",
            "number",
            "party",
            "party_kind",
            "party_name",
            "recipient",
            "recipient_name",
            "purpose",
            "scopes",
            "document",
            "signed_on",
            "valid_from",
            "valid_until",
            "state",
            "revoked_at",
            "revoked_by_name",
            "revoke_reason",
            "recorded_by_name",
            "recorded_at",
        ]


class CreditConsentCreateSerializer(serializers.Serializer):
    party = serializers.IntegerField(help_text="权利主体 ID（须在本人辖区内，否则 404）")
    recipient = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    purpose = serializers.CharField(max_length=300)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentScope.choices), help_text="至少一项"
    )
    document = serializers.CharField(max_length=200)
    signed_on = serializers.DateField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()


class CreditConsentRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


@extend_schema(tags=["exchange: credit consents"])
class CreditConsentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CreditConsentSerializer
    filterset_class = ConsentFilter

    def get_queryset(self):
        return consents_for(self.request.user).order_by("-signed_on", "-pk")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require_manage(request.user)

    def _respond(self, consent, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=consent.pk)).data, status=code)

    @extend_schema(
        summary="登记信用信息授权书",
        request=CreditConsentCreateSerializer,
        responses={201: CreditConsentSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        examples=[
            OpenApiExample(
                "授权浙里担",
                value={
                    "party": 12,
                    "recipient": 5,
                    "purpose": "申请农业信贷担保",
                    "scopes": ["eco_credit", "loan_performance"],
                    "document": "SQS-2026-0012",
                    "signed_on": "2026-11-01",
                    "valid_from": "2026-11-01",
                    "valid_until": "2027-10-31",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        payload = CreditConsentCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        data["party"] = get_object_or_404(consent_parties(request.user), pk=data["party"])
        consent = services.record_consent(actor=request.user, **data)
        return self._respond(consent, status.HTTP_201_CREATED)

    @extend_schema(
        summary="撤回授权（不可恢复）",
        request=CreditConsentRevokeSerializer,
        responses={200: CreditConsentSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        consent = self.get_object()
        payload = CreditConsentRevokeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.revoke_consent(actor=request.user, consent=consent, reason=payload.validated_data["reason"])
        return self._respond(consent)


# --- exports ------------------------------------------------------------------------------------


class CreditExportSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name")
    division_code = serializers.CharField(source="division.code")
    log_number = serializers.CharField(source="log.number", help_text="生成时的交换编号")
    created_by_name = serializers.CharField(source="created_by.__str__")

    class Meta:
        model = CreditExport
        fields = [
            "id",
            "number",
            "recipient",
            "recipient_name",
            "division_code",
            "as_of",
            "parties_requested",
            "parties_exported",
            "parties_withheld",
            "log_number",
            "created_by_name",
            "created_at",
        ]


class CreditExportLineSerializer(serializers.Serializer):
    """What a line is about (no scores or loans: those come with the logged download)."""

    party_kind = serializers.CharField()
    party_name = serializers.CharField(help_text="机构全称；自然人姓名脱敏（张*）")
    identifier_type = serializers.CharField(help_text="uscc / national_id_hmac_sha256")
    identifier = serializers.CharField()
    consents = serializers.ListField(child=serializers.CharField(), help_text="授权编号")
    scopes = serializers.ListField(child=serializers.CharField())


class CreditExportDetailSerializer(CreditExportSerializer):
    lines = serializers.SerializerMethodField()

    class Meta(CreditExportSerializer.Meta):
        fields = [*CreditExportSerializer.Meta.fields, "lines"]

    @extend_schema_field(CreditExportLineSerializer(many=True))
    def get_lines(self, export):
        rows = []
        for line in export_lines(export):
            payload, party = line.payload, line.payload.get("party", {})
            rows.append(
                {
                    "party_kind": party.get("kind", ""),
                    "party_name": party.get("name", ""),
                    "identifier_type": party.get("identifier_type", ""),
                    "identifier": party.get("identifier", ""),
                    "consents": [c.get("number", "") for c in payload.get("consents", [])],
                    "scopes": [s for s in ConsentScope.values if s in payload],
                }
            )
        return CreditExportLineSerializer(rows, many=True).data


class CreditExportCreateSerializer(serializers.Serializer):
    recipient = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    division = serializers.CharField(help_text="12 位区划代码（须在本人辖区内，否则 404）")
    as_of = serializers.DateField(help_text="数据截止日，不晚于今天")
    parties = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_null=True,
        help_text="主体 ID；缺省为区划内有评分或贷款的全部主体",
    )


DOWNLOAD_FORMAT = OpenApiParameter(
    "format",
    str,
    enum=[f.value for f in services.EXPORT_FORMATS],
    description="文件格式，缺省 json",
)


@extend_schema(tags=["exchange: credit exports"])
class CreditExportViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = ExportFilter

    def get_queryset(self):
        return exports_for(self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return CreditExportDetailSerializer if self.action == "retrieve" else CreditExportSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require_reader(request.user)

    @extend_schema(
        summary="生成信用报送（仅含取得有效授权的主体）",
        request=CreditExportCreateSerializer,
        responses={201: CreditExportDetailSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def create(self, request):
        _require_manage(request.user)
        payload = CreditExportCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        division = consent_divisions(request.user).filter(code=data["division"].strip()).first()
        if division is None:
            raise NotFound(_("区划不存在或不在您的辖区内。"))
        export = services.create_credit_export(
            actor=request.user,
            recipient=data["recipient"],
            division=division,
            as_of=data["as_of"],
            parties=data.get("parties"),
            channel=Channel.API,
        )
        body = CreditExportDetailSerializer(self.get_queryset().get(pk=export.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="下载信用报送文件（每次下载记入交换记录）",
        description=(
            "JSON：{export, identifier_note, lines}；CSV/XLSX：第 1 行中文列名、第 2 行英文列键，每个主体 × 授权范围一行"
            "（贷款履约每笔贷款一行）。只含取得有效授权的主体；未授权主体不出现在文件中，仅计入 parties_withheld。"
            '自然人不含身份证号码：identifier 为 HMAC-SHA256("national_id:" + 18 位身份证号码)，密钥与合作社约定，'
            "接收方按同一方案计算后匹配，或按 consents[].document（授权书编号）匹配；机构 identifier 为统一社会信用代码。"
        ),
        parameters=[DOWNLOAD_FORMAT],
        responses={
            (200, "application/json"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer],
        content_negotiation_class=FormatIsTheFileFormat,
        filterset_class=None,
    )
    def download(self, request, pk=None):
        export = self.get_object()
        fmt = request.query_params.get("format", ExchangeFormat.JSON) or ExchangeFormat.JSON
        if fmt not in services.EXPORT_FORMATS:
            message = _("格式须为 JSON、CSV 或 XLSX。")
            raise DomainError(message, code="invalid", fields={"format": [message]})
        content, content_type, file_name, log = services.download_credit_export(
            actor=request.user, export=export, fmt=fmt, channel=Channel.API
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        response["X-Exchange-Log"] = log.number
        return response


def register(router):
    router.register("consents", CreditConsentViewSet, basename="consent")
    router.register("credit-exports", CreditExportViewSet, basename="credit-export")
