"""Listings API: `listings` (read within reach, investors the published ones; staff create,
publish and withdraw) and `listing-applications` (investors apply and see their own; staff
review and record deposits, with Idempotency-Key on the deposit)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from directory.permissions import Capability
from directory.selectors import within_reach
from resources.selectors import assets_for
from valuation.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from valuation.api.idempotency import KEY_PATTERN

from .. import selectors_listings as selectors
from ..forms.listings import ApplicationFilter, ListingFilter
from ..models import Listing, ListingApplication, ListingMode, Movement, ResourcePackage, TradeKind
from ..services import listings as services

ERROR = OpenApiResponse(description="{code, detail, fields}")
MONEY = {"max_digits": 16, "decimal_places": 2}


class ListingSerializer(serializers.ModelSerializer):
    division = serializers.SlugRelatedField(slug_field="code", read_only=True)
    package = serializers.SlugRelatedField(slug_field="code", read_only=True)
    asset = serializers.SlugRelatedField(slug_field="code", read_only=True)
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "code",
            "title",
            "package",
            "asset",
            "division",
            "trade_kind",
            "mode",
            "term_start",
            "term_end",
            "reserve_price",
            "deposit",
            "increment",
            "reference_gep",
            "reference_gep_note",
            "description",
            "qualification_requirements",
            "payment_terms",
            "obligations",
            "notice_start",
            "notice_end",
            "bidding_start",
            "bidding_end",
            "status",
            "final_price",
            "closed_at",
            "close_note",
            "public_url",
        ]

    def get_public_url(self, listing) -> str | None:
        return None if listing.status in ("draft", "withdrawn") else listing.get_public_url()


class ListingCreateSerializer(serializers.Serializer):
    package = serializers.CharField(
        required=False, allow_blank=True, help_text="资源包编号（与 asset 二选一）"
    )
    asset = serializers.CharField(required=False, allow_blank=True, help_text="资源编号")
    title = serializers.CharField(max_length=200)
    trade_kind = serializers.ChoiceField(choices=TradeKind.choices)
    mode = serializers.ChoiceField(choices=ListingMode.choices)
    term_start = serializers.DateField()
    term_end = serializers.DateField()
    reserve_price = serializers.DecimalField(**MONEY)
    deposit = serializers.DecimalField(**MONEY)
    increment = serializers.DecimalField(**MONEY, required=False, default="0")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    qualification_requirements = serializers.CharField(required=False, allow_blank=True, default="")
    payment_terms = serializers.CharField(required=False, allow_blank=True, default="")
    obligations = serializers.CharField(required=False, allow_blank=True, default="")
    extension_window_seconds = serializers.IntegerField(required=False, default=300)
    extension_seconds = serializers.IntegerField(required=False, default=300)

    def validate(self, data):
        user = self.context["request"].user
        package_code, asset_code = data.pop("package", "").strip(), data.pop("asset", "").strip()
        if bool(package_code) == bool(asset_code):
            raise serializers.ValidationError({"package": [_("请填写资源包编号或资源编号（二者选一）。")]})
        if package_code:
            packages = ResourcePackage.objects.filter(
                within_reach(user, "division__code", Capability.MANAGE_TRADING)
            )
            data["package"] = packages.filter(code=package_code).first()
            if data["package"] is None:
                raise serializers.ValidationError({"package": [_("未找到该资源包。")]})
        else:
            data["asset"] = assets_for(user).defer("geometry").filter(code=asset_code).first()
            if data["asset"] is None:
                raise serializers.ValidationError({"asset": [_("未找到该资源。")]})
        return data


class PublishSerializer(serializers.Serializer):
    notice_days = serializers.IntegerField()
    bidding_minutes = serializers.IntegerField(required=False, allow_null=True)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ApplicationSerializer(serializers.ModelSerializer):
    listing_code = serializers.CharField(source="listing.code", read_only=True)
    investor = serializers.CharField(source="investor.name", read_only=True)

    class Meta:
        model = ListingApplication
        fields = [
            "id",
            "listing",
            "listing_code",
            "investor",
            "statement",
            "status",
            "review_note",
            "reviewed_at",
            "deposit_status",
            "bidder_number",
            "created_at",
        ]
        read_only_fields = [f for f in fields if f not in ("listing", "statement")]


class ApplicationReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DepositSerializer(serializers.Serializer):
    amount = serializers.CharField()
    reference = serializers.CharField(max_length=60)
    occurred_on = serializers.DateField()


class ListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ListingSerializer
    filterset_class = ListingFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.listings_for(self.request.user).order_by("-created_at", "-pk")

    def _respond(self, listing, code=status.HTTP_200_OK):
        return Response(ListingSerializer(self.get_queryset().get(pk=listing.pk)).data, status=code)

    @extend_schema(
        summary="新建挂牌项目（草稿）",
        request=ListingCreateSerializer,
        responses={201: ListingSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        payload = ListingCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        listing = services.create_listing(actor=request.user, **payload.validated_data)
        return self._respond(listing, status.HTTP_201_CREATED)

    @extend_schema(
        summary="发布公示",
        request=PublishSerializer,
        responses={200: ListingSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        payload = PublishSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = services.publish_listing(
            actor=request.user, listing=self.get_object(), **payload.validated_data
        )
        return self._respond(listing)

    @extend_schema(
        summary="撤牌（退还已缴保证金）",
        request=WithdrawSerializer,
        responses={200: ListingSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        payload = WithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = services.withdraw_listing(
            actor=request.user, listing=self.get_object(), **payload.validated_data
        )
        return self._respond(listing)


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.applications_for(self.request.user).order_by("-created_at", "-pk")

    def _respond(self, application, code=status.HTTP_200_OK, headers=None):
        data = ApplicationSerializer(self.get_queryset().get(pk=application.pk)).data
        return Response(data, status=code, headers=headers)

    @extend_schema(
        summary="竞买报名（投资主体）",
        request=ApplicationSerializer,
        responses={201: ApplicationSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        payload = ApplicationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = get_object_or_404(
            selectors.listings_for(request.user), pk=payload.validated_data["listing"].pk
        )
        application = services.apply_for_listing(
            actor=request.user, listing=listing, statement=payload.validated_data.get("statement", "")
        )
        return self._respond(application, status.HTTP_201_CREATED)

    @extend_schema(
        summary="资格审核",
        request=ApplicationReviewSerializer,
        responses={200: ApplicationSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        payload = ApplicationReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        application = services.review_application(
            actor=request.user, application=self.get_object(), **payload.validated_data
        )
        return self._respond(application)

    @extend_schema(
        summary="登记保证金到账",
        request=DepositSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="重试同一请求时带上同一个键：不会重复记账，返回首次结果。",
            )
        ],
        responses={200: ApplicationSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="record-deposit")
    def record_deposit(self, request, pk=None):
        application = self.get_object()
        payload = DepositSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not KEY_PATTERN.fullmatch(key.strip()):
            raise serializers.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Idempotency-Key 须为 1 至 255 个可见 ASCII 字符。")]}
            )
        # Scoped to the application so that one client's key cannot collide with another's movement.
        ledger_key = f"listing-deposit:{application.pk}:{key.strip()}" if key else None
        replayed = bool(ledger_key) and Movement.objects.filter(idempotency_key=ledger_key).exists()
        application = services.record_deposit(
            actor=request.user, application=application, idempotency_key=ledger_key, **payload.validated_data
        )
        return self._respond(application, headers={"Idempotent-Replayed": "true"} if replayed else None)


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("listings", ListingViewSet, basename="listing")
    router.register("listing-applications", ApplicationViewSet, basename="listing-application")
