"""`/api/v1/finance/credit-scores/`: eco-credit scores with their explained factors; staff see the
parties within their reach, a bank only the applicants of the applications sent to it (another
party answers 404). Every answer tells the API log which persons' names and scores it carried.

`/api/v1/finance/eco-behaviour/`: eco-behaviour records for cooperative staff and village clerks
within their reach: list, record (the party's score is then recomputed in the background) and
revoke."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from directory.middleware import note_personal_data
from directory.models import AdministrativeDivision, PartyKind
from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError

from ..forms.scoring import CreditScoreFilter, EcoBehaviourFilter
from ..models import CreditScore, EcoBehaviourCategory, EcoBehaviourRecord
from ..selectors_scoring import eco_records_for, recordable_parties, scores_for
from ..services import scoring as services
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(description="{code, detail, fields}")


def _note_persons(request, rows, fields):
    """Tell the API log which persons' data went out (names and scores are personal data)."""
    persons = sorted({row.party.person_id for row in rows if row.party.kind == PartyKind.PERSON})
    if persons:
        note_personal_data(request, persons, fields)


class _NotesPersons:
    """List and retrieve record the persons they returned (see _note_persons)."""

    personal_fields = ()

    def paginate_queryset(self, queryset):
        self._shown = super().paginate_queryset(queryset)
        return self._shown

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        _note_persons(request, self._shown or [], self.personal_fields)
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        _note_persons(request, [self._object], self.personal_fields)
        return response

    def get_object(self):
        self._object = super().get_object()
        return self._object


class FactorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(help_text="测度值（十进制字符串）")
    unit = serializers.CharField()
    points_per_unit = serializers.CharField()
    min_points = serializers.CharField()
    max_points = serializers.CharField()
    points = serializers.CharField(help_text="clamp(value × points_per_unit, min_points, max_points)")
    explanation = serializers.CharField()


def _party_name(party):
    return str(party.person.name if party.kind == PartyKind.PERSON else party.organization.name)


class CreditScoreSerializer(serializers.ModelSerializer):
    party_kind = serializers.CharField(source="party.kind")
    party_name = serializers.SerializerMethodField()
    subject = serializers.CharField(source="scorecard.subject")
    scorecard_version = serializers.IntegerField(source="scorecard.version")
    factors = FactorSerializer(many=True)

    class Meta:
        model = CreditScore
        fields = [
            "id",
            "party",
            "party_kind",
            "party_name",
            "subject",
            "scorecard",
            "scorecard_version",
            "score",
            "grade",
            "suggested_line",
            "factors",
            "inputs_digest",
            "computed_at",
            "is_current",
        ]

    def get_party_name(self, score) -> str:
        return _party_name(score.party)


@extend_schema(tags=["finance: eco-credit"])
class CreditScoreViewSet(_NotesPersons, viewsets.ReadOnlyModelViewSet):
    serializer_class = CreditScoreSerializer
    filterset_class = CreditScoreFilter
    throttle_classes = [BankRateThrottle, UserRateThrottle]
    personal_fields = ("name", "credit_score")

    def get_queryset(self):
        return scores_for(self.request.user).order_by("-computed_at", "-pk")


class EcoBehaviourSerializer(serializers.ModelSerializer):
    party_kind = serializers.CharField(source="party.kind")
    party_name = serializers.SerializerMethodField()
    division_code = serializers.CharField(source="division.code")
    division_name = serializers.CharField(source="division.name")
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = EcoBehaviourRecord
        fields = [
            "id",
            "party",
            "party_kind",
            "party_name",
            "division_code",
            "division_name",
            "category",
            "points",
            "occurred_on",
            "description",
            "source_document",
            "recorded_by",
            "recorded_at",
            "revoked_at",
            "revoke_reason",
        ]

    def get_party_name(self, record) -> str:
        return _party_name(record.party)


class EcoBehaviourCreateSerializer(serializers.Serializer):
    party = serializers.IntegerField(min_value=1)
    division = serializers.RegexField(r"^\d{12}$", help_text="发生地的 12 位区划代码")
    category = serializers.ChoiceField(choices=EcoBehaviourCategory.choices)
    points = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=-services.MAX_RECORD_POINTS,
        max_value=services.MAX_RECORD_POINTS,
        help_text="加分项为正、扣分项为负",
    )
    occurred_on = serializers.DateField()
    description = serializers.CharField(max_length=300)
    source_document = serializers.CharField(max_length=200)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


@extend_schema(tags=["finance: eco-credit"])
class EcoBehaviourViewSet(
    _NotesPersons, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = EcoBehaviourSerializer
    filterset_class = EcoBehaviourFilter
    personal_fields = ("name", "eco_behaviour")

    def get_queryset(self):
        return eco_records_for(self.request.user).defer("division__boundary").order_by("-occurred_on", "-pk")

    def _respond(self, record, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=code)

    @extend_schema(
        summary="记录生态行为（加分项为正、扣分项为负）",
        request=EcoBehaviourCreateSerializer,
        responses={201: EcoBehaviourSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        examples=[
            OpenApiExample(
                "垃圾分类",
                value={
                    "party": 12,
                    "division": "331102199201",
                    "category": "garbage_sorting",
                    "points": "1.00",
                    "occurred_on": "2026-10-08",
                    "description": "主动分类投放",
                    "source_document": "示范村找茬团 2026年10月评议记录",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        if not can(request.user, Capability.RECORD_ECO_BEHAVIOUR):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        payload = EcoBehaviourCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        party = get_object_or_404(recordable_parties(request.user), pk=data.pop("party"))
        division = AdministrativeDivision.objects.filter(code=data.pop("division")).defer("boundary").first()
        if division is None:
            message = _("没有该区划代码。")
            raise DomainError(message, code="invalid", fields={"division": [message]})
        record = services.record_eco_behaviour(actor=request.user, party=party, division=division, **data)
        return self._respond(record, status.HTTP_201_CREATED)

    @extend_schema(
        summary="撤销生态行为记录",
        request=RevokeSerializer,
        responses={200: EcoBehaviourSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        record = self.get_object()
        payload = RevokeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.revoke_eco_behaviour(actor=request.user, record=record, **payload.validated_data)
        )


def register(router):
    router.register("credit-scores", CreditScoreViewSet, basename="credit-score")
    router.register("eco-behaviour", EcoBehaviourViewSet, basename="eco-behaviour")
