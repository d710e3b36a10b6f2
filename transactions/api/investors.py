"""`/api/v1/transactions/investor-registrations/`: the cooperative staff's review queue."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..forms.investors import RegistrationFilter
from ..models import InvestorRegistration
from ..selectors_packages import registrations_for
from ..services import investors as services


class RegistrationSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    uscc = serializers.CharField(source="organization.uscc", read_only=True)
    division = serializers.CharField(source="organization.division.code", read_only=True)
    contact_name = serializers.CharField(source="organization.contact_name", read_only=True)
    contact_phone = serializers.CharField(source="organization.contact_phone_masked", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", read_only=True, default=None)

    class Meta:
        model = InvestorRegistration
        fields = [
            "id",
            "organization",
            "uscc",
            "division",
            "contact_name",
            "contact_phone",
            "username",
            "business_scope",
            "status",
            "status_label",
            "review_note",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]


class RegistrationReviewSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


@extend_schema_view(
    list=extend_schema(summary="投资主体注册列表（本辖区）"),
    retrieve=extend_schema(summary="投资主体注册详情"),
)
class RegistrationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegistrationSerializer
    filterset_class = RegistrationFilter

    def get_queryset(self):
        return registrations_for(self.request.user).order_by("-created_at", "-pk")

    def _review(self, request, approve):
        registration = self.get_object()
        data = RegistrationReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.review_investor_registration(
            actor=request.user, registration=registration, approve=approve, note=data.validated_data["note"]
        )
        return Response(RegistrationSerializer(self.get_queryset().get(pk=registration.pk)).data)

    @extend_schema(summary="审核通过", request=RegistrationReviewSerializer, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._review(request, True)

    @extend_schema(
        summary="不予通过（须写明原因）",
        request=RegistrationReviewSerializer,
        responses=RegistrationSerializer,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._review(request, False)


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("investor-registrations", RegistrationViewSet, basename="investor-registration")
