"""Auction API: bids (place one, with Idempotency-Key; list a listing's bids by bidder number) and
the live auction state. Visible to the trading desk in reach and to investors approved to bid."""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from directory.permissions import Capability, memberships_with
from directory.selectors import within_reach
from valuation.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from valuation.api.idempotency import create_once, idempotent_request

from ..models import Bid, Listing, ListingApplication, ListingStatus, ReviewStatus
from ..services import auctions

ERROR = OpenApiResponse(description="{code, detail, fields}")


def visible_listings(user):
    organizations = [m.organization_id for m in memberships_with(user, Capability.TRADE)]
    q = within_reach(user, "division__code", Capability.MANAGE_TRADING)
    if organizations:
        q |= Q(
            pk__in=ListingApplication.objects.filter(
                investor__in=organizations, status=ReviewStatus.APPROVED
            ).values("listing")
        )
    return Listing.objects.filter(q)


class BidSerializer(serializers.ModelSerializer):
    bidder_number = serializers.CharField(source="application.bidder_number", read_only=True)

    class Meta:
        model = Bid
        fields = ["id", "listing", "bidder_number", "amount", "placed_at", "extended_to"]
        read_only_fields = ["placed_at", "extended_to"]


class BidCreateSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))


class AuctionStateSerializer(serializers.Serializer):
    listing = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    status = serializers.CharField()
    highest = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    minimum_next = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    bidding_end = serializers.DateTimeField(allow_null=True)
    seconds_remaining = serializers.IntegerField()
    extensions = serializers.IntegerField()
    bids = serializers.IntegerField()


@extend_schema_view(list=extend_schema(summary="挂牌项目的出价记录（按竞买号）"))
class BidViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = BidSerializer
    queryset = Bid.objects.none()

    def get_queryset(self):
        bids = Bid.objects.filter(listing__in=visible_listings(self.request.user)).select_related(
            "application"
        )
        listing = self.request.query_params.get("listing")
        if listing:
            bids = bids.filter(listing=listing if listing.isdigit() else 0)
        return bids.order_by("listing", "-amount")

    @extend_schema(
        summary="出价（竞买人）",
        request=BidCreateSerializer,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={201: BidSerializer, 200: BidSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def create(self, request, *args, **kwargs):
        idempotent = idempotent_request(request, "transactions.place_bid")
        payload = BidCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = get_object_or_404(visible_listings(request.user), pk=payload.validated_data["listing"])
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            bid = Bid.objects.select_related("application").get(pk=replayed)
            return Response(BidSerializer(bid).data, headers={"Idempotent-Replayed": "true"})
        bid = create_once(
            idempotent,
            lambda: auctions.place_bid(
                actor=request.user, listing=listing, amount=payload.validated_data["amount"]
            ),
        )
        return Response(BidSerializer(bid).data, status=status.HTTP_201_CREATED)


class AuctionStateViewSet(viewsets.GenericViewSet):
    serializer_class = AuctionStateSerializer
    queryset = Listing.objects.none()
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="竞价实时状态：最高价、最低可出价、截止时间、状态",
        responses={200: AuctionStateSerializer, 404: ERROR},
    )
    def retrieve(self, request, pk=None):
        listing = get_object_or_404(visible_listings(request.user), pk=pk)
        highest = auctions.highest_bid(listing)
        bidding = listing.status == ListingStatus.BIDDING
        remaining = (
            (listing.bidding_end - timezone.now()).total_seconds() if bidding and listing.bidding_end else 0
        )
        data = {
            "pk": listing.pk,
            "code": listing.code,
            "status": listing.status,
            "highest": highest.amount if highest else None,
            "minimum_next": auctions.minimum_next_bid(listing, highest) if bidding else None,
            "bidding_end": listing.bidding_end,
            "seconds_remaining": max(0, int(remaining)),
            "extensions": listing.bids.filter(extended_to__isnull=False).count(),
            "bids": listing.bids.count(),
        }
        return Response(AuctionStateSerializer(data).data)


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("bids", BidViewSet, basename="bid")
    router.register("auction-state", AuctionStateViewSet, basename="auction-state")
