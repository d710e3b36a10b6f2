"""`unit-issuances` (read, with blocks) and `unit-transfers` (read; POST records a transfer or a
retirement, with Idempotency-Key). Units change hands between third parties: a transfer's price
is recorded, no money moves in the cooperative's ledger."""

import hashlib

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from directory.models import Party
from directory.permissions import Capability, can
from valuation.api.idempotency import HEADER, KEY_PATTERN

from ..forms.units import IssuanceFilter
from ..models import UnitBlock, UnitIssuance, UnitTransfer, UnitTransferKind
from ..selectors_units import blocks_of, issuances_for, public_name, transfers_for
from ..services import units as services
from ..services.units import MAX_QUANTITY


class BlockSerializer(serializers.ModelSerializer):
    quantity = serializers.IntegerField(read_only=True)
    owner = serializers.SerializerMethodField()

    class Meta:
        model = UnitBlock
        fields = [
            "first_serial",
            "last_serial",
            "quantity",
            "status",
            "owner",
            "retirement_reason",
            "created_at",
        ]

    def get_owner(self, block) -> str:
        return self.context["name"](block.owner)


class IssuanceSerializer(serializers.ModelSerializer):
    asset_code = serializers.CharField(source="right.asset.code", read_only=True)
    division_code = serializers.CharField(source="right.asset.division.code", read_only=True)

    class Meta:
        model = UnitIssuance
        fields = [
            "id",
            "serial_prefix",
            "kind",
            "vintage_year",
            "quantity",
            "methodology",
            "asset_code",
            "division_code",
            "issued_at",
        ]


class IssuanceDetailSerializer(IssuanceSerializer):
    blocks = serializers.SerializerMethodField()

    class Meta(IssuanceSerializer.Meta):
        fields = [*IssuanceSerializer.Meta.fields, "blocks"]

    def get_blocks(self, issuance) -> list[dict]:
        return BlockSerializer(blocks_of(issuance), many=True, context=self.context).data


def _namer(request, issuance):
    # Holders' names in full for the staff of the asset's division; masked for investors.
    return str if can(request.user, Capability.VIEW, division=issuance.right.asset.division) else public_name


class UnitIssuanceViewSet(viewsets.ReadOnlyModelViewSet):
    """Issuances within reach (investors: those whose units their organization holds)."""

    filterset_class = IssuanceFilter
    queryset = UnitIssuance.objects.none()

    def get_queryset(self):
        return issuances_for(self.request.user).order_by("-issued_at", "-pk")

    def get_serializer_class(self):
        return IssuanceDetailSerializer if self.action == "retrieve" else IssuanceSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "retrieve" and "pk" in self.kwargs:
            context["name"] = _namer(self.request, self.get_object())
        return context


class TransferSerializer(serializers.ModelSerializer):
    quantity = serializers.IntegerField(read_only=True)
    serial_prefix = serializers.CharField(source="issuance.serial_prefix", read_only=True)
    from_party_name = serializers.SerializerMethodField()
    to_party_name = serializers.SerializerMethodField()

    class Meta:
        model = UnitTransfer
        fields = [
            "id",
            "issuance",
            "serial_prefix",
            "kind",
            "from_party",
            "from_party_name",
            "to_party",
            "to_party_name",
            "first_serial",
            "last_serial",
            "quantity",
            "price",
            "note",
            "recorded_at",
        ]

    def _name(self, party):
        return public_name(party) if party else None

    def get_from_party_name(self, transfer) -> str | None:
        return self._name(transfer.from_party)

    def get_to_party_name(self, transfer) -> str | None:
        return self._name(transfer.to_party)


class MovementRequestSerializer(serializers.Serializer):
    issuance = serializers.PrimaryKeyRelatedField(queryset=UnitIssuance.objects.none())
    kind = serializers.ChoiceField(choices=[UnitTransferKind.TRANSFER, UnitTransferKind.RETIRE])
    from_party = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all(), help_text="转出方或注销方")
    to_party = serializers.PrimaryKeyRelatedField(
        queryset=Party.objects.all(), required=False, allow_null=True
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    price = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when the schema generator builds it
        if request is not None:
            self.fields["issuance"].queryset = issuances_for(request.user)


IDEMPOTENCY = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="重试时带同一个键，返回首次登记的记录。",
)


class UnitTransferViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The register of issues, transfers and retirements within reach."""

    serializer_class = TransferSerializer
    queryset = UnitTransfer.objects.none()

    def get_queryset(self):
        rows = transfers_for(self.request.user).order_by("-recorded_at", "-pk")
        issuance = self.request.query_params.get("issuance")
        return rows.filter(issuance_id=issuance) if issuance and issuance.isdigit() else rows

    @extend_schema(
        summary="登记指标转让或注销",
        request=MovementRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: TransferSerializer(many=True), 200: TransferSerializer(many=True)},
    )
    def create(self, request, *args, **kwargs):
        payload = MovementRequestSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        key = _service_key(request)
        replay = bool(key) and UnitTransfer.objects.filter(idempotency_key=key).exists()
        common = {
            "actor": request.user,
            "issuance": data["issuance"],
            "quantity": data["quantity"],
            "idempotency_key": key,
        }
        if data["kind"] == UnitTransferKind.RETIRE:
            rows = services.retire_units(party=data["from_party"], reason=data.get("reason", ""), **common)
        else:
            rows = services.transfer_units(
                from_party=data["from_party"],
                to_party=data.get("to_party"),
                price=data.get("price"),
                note=data.get("note", ""),
                **common,
            )
        rows = self.get_queryset().filter(pk__in=[r.pk for r in rows]).order_by("first_serial")
        return Response(
            TransferSerializer(rows, many=True).data,
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
            headers={"Idempotent-Replayed": "true"} if replay else {},
        )


def _service_key(request):
    """The client's Idempotency-Key, scoped to the user and hashed to fit the register's column."""
    raw = (request.headers.get(HEADER) or "").strip()
    if not raw:
        return None
    if not KEY_PATTERN.fullmatch(raw):
        raise serializers.ValidationError({HEADER: [_("Idempotency-Key 须为 1 至 255 个可见 ASCII 字符。")]})
    return hashlib.sha256(f"units:{request.user.pk}:{raw}".encode()).hexdigest()


def register(router):
    router.register("unit-issuances", UnitIssuanceViewSet, basename="unit-issuance")
    router.register("unit-transfers", UnitTransferViewSet, basename="unit-transfer")
