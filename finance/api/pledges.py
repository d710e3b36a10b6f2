"""`/api/v1/finance/pledges/`: pledges registered in the rights ledger. A bank reads its own
pledges only (another bank's answer 404) and requests a pledge with a durable `Idempotency-Key`
(a retry, even a simultaneous one, gets the first pledge back with 200); cooperative staff do the
same within their divisions. `release` ends a pledge. No personal data is returned."""

from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from directory.middleware import note_personal_data
from directory.models import AccessChannel, ApiToken
from directory.permissions import Capability, can
from directory.services import log_person_reads
from resources.models import Right
from tmcs.audit import client_ip
from tmcs.errors import DomainError, PermissionDeniedError
from transactions.pdf import render_pdf

from ..forms.pledges import PledgeFilter
from ..idempotency import HEADER, Replay, fingerprint, header_key, key_owner, run_once
from ..models import Pledge
from ..selectors_applications import applications_for, bank_ids
from ..selectors_pledges import certificate_context, pledges_for, visible_pledge
from ..services import pledges as services
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(description="{code, detail, fields}")
ENDPOINT = "pledges"


class PledgeSerializer(serializers.ModelSerializer):
    bank_name = serializers.CharField(source="bank.name")
    application_number = serializers.CharField(source="application.number")
    asset = serializers.IntegerField(source="right.asset_id")
    asset_code = serializers.CharField(source="right.asset.code")
    right_kind = serializers.CharField(source="right.kind")
    appraisal_number = serializers.CharField(source="appraisal.number")
    appraised_value = serializers.DecimalField(
        source="appraisal.appraised_value", max_digits=16, decimal_places=2
    )
    period_start = serializers.DateField(source="restriction.period.lower")
    period_end = serializers.DateField(source="restriction.period.upper", allow_null=True)
    restriction = serializers.IntegerField(source="restriction_id")

    class Meta:
        model = Pledge
        fields = [
            "id",
            "number",
            "status",
            "bank",
            "bank_name",
            "application",
            "application_number",
            "right",
            "right_kind",
            "asset",
            "asset_code",
            "restriction",
            "rank",
            "secured_amount",
            "period_start",
            "period_end",
            "appraisal",
            "appraisal_number",
            "appraised_value",
            "bank_reference",
            "verification_code",
            "registered_at",
            "released_at",
            "release_reason",
        ]


class PledgeRequestSerializer(serializers.Serializer):
    application = serializers.IntegerField(min_value=1)
    right = serializers.IntegerField(min_value=1)
    secured_amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    rank = serializers.IntegerField(min_value=1, max_value=services.MAX_RANK, required=False, allow_null=True)
    bank_reference = serializers.CharField(max_length=60, required=False, allow_blank=True)


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


@extend_schema(tags=["finance: pledges"])
class PledgeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PledgeSerializer
    filterset_class = PledgeFilter
    throttle_classes = [BankRateThrottle, UserRateThrottle]

    def get_queryset(self):
        return pledges_for(self.request.user).order_by("-registered_at", "-pk")

    def _respond(self, pledge, code=status.HTTP_200_OK, **kwargs):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=pledge.pk)).data, status=code, **kwargs
        )

    @extend_schema(
        summary="申请抵质押登记（支持 Idempotency-Key：重复请求返回首次登记，状态码 200）",
        request=PledgeRequestSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="1–255 个可见 ASCII 字符；同一键、同一内容的重复请求返回首次登记的抵质押",
            )
        ],
        responses={
            201: PledgeSerializer,
            200: PledgeSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
        examples=[
            OpenApiExample(
                "按下一可用顺位登记",
                value={
                    "application": 12,
                    "right": 34,
                    "secured_amount": "300000.00",
                    "bank_reference": "ZH-2026-001",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        if not (bank_ids(request.user) or can(request.user, Capability.MANAGE_LOANS)):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        key = header_key(request)
        payload = PledgeRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        application = get_object_or_404(applications_for(request.user), pk=data.pop("application"))
        right = Right.objects.filter(pk=data.pop("right")).first()
        if right is None:
            message = _("该权利不在本申请的抵质押物清单中。")
            raise DomainError(message, code="not_collateral", fields={"right": [message]})
        try:
            pledge = run_once(
                organization=key_owner(request.user, application.division),
                endpoint=ENDPOINT,
                key=key,
                body_fingerprint=fingerprint(request.data),
                create=lambda: services.register_pledge(
                    actor=request.user, application=application, right=right, **data
                ),
            )
        except Replay as replay:
            earlier = get_object_or_404(self.get_queryset(), pk=replay.object_id)
            return self._respond(earlier, headers={"Idempotent-Replayed": "true"})
        return self._respond(pledge, status.HTTP_201_CREATED)

    @extend_schema(
        summary="解除抵质押",
        request=ReleaseSerializer,
        responses={200: PledgeSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        pledge = self.get_object()
        payload = ReleaseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.release_pledge(
                actor=request.user, pledge=pledge, reason=payload.validated_data["reason"]
            )
        )

    @extend_schema(
        summary="抵质押登记证明（PDF，含出质人姓名和脱敏身份证号，调用记入接口日志）",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ERROR},
    )
    @action(detail=True, methods=["get"])
    def certificate(self, request, pk=None):
        pledge = visible_pledge(request.user, self.get_object().pk)
        context = certificate_context(pledge)
        person = pledge.right.holder.person
        if person is not None:
            note_personal_data(request, [person.pk], ["name", "national_id_masked"])
            if not isinstance(request.auth, ApiToken):  # a browser session is not in the API log
                log_person_reads(
                    actor=request.user, persons=[person], channel=AccessChannel.API, ip=client_ip(request)
                )
        response = HttpResponse(
            render_pdf("finance/pledges/certificate.html", context), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="{pledge.number}.pdf"'
        return response


def register(router):
    router.register("pledges", PledgeViewSet, basename="pledge")
