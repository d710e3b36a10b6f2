"""Directory API: the same selectors and services as the web pages, so UI and API agree."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from directory import services
from directory.filters import DivisionFilter, OrganizationFilter, PersonFilter, UserFilter
from directory.models import AccessChannel, Notification, Person
from directory.permissions import Capability, can
from directory.selectors import api_tokens_for, divisions_for, organizations_for, persons_for, users_for
from tmcs.audit import client_ip
from tmcs.ids import IdentifierError

from . import serializers as s


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Administrative divisions within the caller's reach."""

    serializer_class = s.DivisionSerializer
    filterset_class = DivisionFilter
    lookup_field = "code"
    lookup_value_regex = r"\d{12}"

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={200: dict},
        summary="导入区划 CSV 或 GeoJSON 边界（全部成功或全部不写入）",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request):
        if not can(request.user, Capability.IMPORT_DIVISIONS):
            raise PermissionDenied("您没有权限导入行政区划。")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["请上传文件。"]})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError({"file": ["文件不是 UTF-8 编码。"]}) from None
        if upload.name.lower().endswith((".geojson", ".json")):
            return Response({"boundaries": services.import_division_boundaries(text=text, user=request.user)})
        result = services.import_divisions_csv(text=text, user=request.user)
        return Response({"created": result.created, "updated": result.updated, "unchanged": result.unchanged})

    def get_queryset(self):
        # Boundaries can be megabytes each; the list does not show them.
        return (
            divisions_for(self.request.user)
            .select_related("parent")
            .defer("boundary", "parent__boundary")
            .order_by("code")
        )


@extend_schema(summary="当前用户及其任职")
class MeView(generics.RetrieveAPIView):
    serializer_class = s.MeSerializer

    def get_object(self):
        return self.request.user


class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Organizations within reach. No delete: an organization is deactivated (`is_active=false`)."""

    serializer_class = s.OrganizationSerializer
    filterset_class = OrganizationFilter

    def get_queryset(self):
        return organizations_for(self.request.user).order_by("division__code", "name", "pk")

    def perform_create(self, serializer):
        serializer.instance = services.create_organization(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_organization(
            actor=self.request.user,
            organization=serializer.instance,
            **serializer.validated_data,
        )


class PersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Natural persons within reach, masked. Full numbers only through `reveal` (logged)."""

    serializer_class = s.PersonSerializer
    filterset_class = PersonFilter

    def get_queryset(self):
        return persons_for(self.request.user).order_by("division__code", "name", "pk")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        ids = [row["id"] for row in response.data["results"]]
        services.log_person_reads(
            actor=request.user,
            persons=Person.objects.filter(pk__in=ids),
            channel=AccessChannel.API,
            ip=client_ip(request),
        )
        return response

    def retrieve(self, request, *args, **kwargs):
        person = self.get_object()
        services.log_person_reads(
            actor=request.user, persons=[person], channel=AccessChannel.API, ip=client_ip(request)
        )
        return Response(self.get_serializer(person).data)

    def perform_create(self, serializer):
        serializer.instance = services.create_person(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_person(
            actor=self.request.user,
            person=serializer.instance,
            **serializer.validated_data,
        )

    @extend_schema(
        request=s.RevealSerializer, responses=s.RevealedSerializer, summary="查看完整身份证号和电话（留痕）"
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        person = self.get_object()
        payload = s.RevealSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        revealed = services.reveal_person_identifiers(
            actor=request.user,
            person=person,
            purpose=payload.validated_data["purpose"],
            channel=AccessChannel.API,
            ip=client_ip(request),
        )
        response = Response(s.RevealedSerializer(revealed).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=s.LookupSerializer, responses=s.PersonSerializer, summary="按完整身份证号精确查找")
    @action(detail=False, methods=["post"])
    def lookup(self, request):
        payload = s.LookupSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            person = services.find_person_by_national_id(
                actor=request.user, national_id=payload.validated_data["national_id"]
            )
        except IdentifierError as exc:
            raise ValidationError({"national_id": [str(exc)]}) from None
        if person is None:
            raise NotFound("没有找到您可查看的此身份证号码对应的人员。")
        return Response(s.PersonSerializer(person, context=self.get_serializer_context()).data)


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Users and their roles, for those who manage users."""

    filterset_class = UserFilter

    def get_serializer_class(self):
        return s.UserCreateSerializer if self.action == "create" else s.UserSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not can(request.user, Capability.MANAGE_USERS):
            raise PermissionDenied("您没有权限管理用户。")

    def get_queryset(self):
        return (
            users_for(self.request.user)
            .prefetch_related("memberships__organization__division")
            .order_by("username")
        )

    def create(self, request, *args, **kwargs):
        payload = s.UserCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.create_user(actor=request.user, **payload.validated_data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class ApiClientViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """API clients of banks and guarantors. The token is returned once, in the create response."""

    serializer_class = s.ApiClientSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not can(request.user, Capability.MANAGE_API_CLIENTS):
            raise PermissionDenied("您没有权限管理接口客户端。")

    def get_queryset(self):
        return api_tokens_for(self.request.user).order_by("-created_at")

    def create(self, request, *args, **kwargs):
        payload = s.ApiClientSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        token, raw = services.issue_api_client(
            organization=data["organization"],
            name=data["name"],
            expires_at=data.get("expires_at"),
            issued_by=request.user,
        )
        response = Response(
            s.ApiClientSerializer(token, context={"secret": raw}).data, status=status.HTTP_201_CREATED
        )
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses=s.ApiClientSerializer, summary="撤销接口客户端")
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = generics.get_object_or_404(self.get_queryset(), pk=pk)
        token = services.revoke_api_client(token=token, revoked_by=request.user)
        return Response(s.ApiClientSerializer(token).data)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's inbox."""

    serializer_class = s.NotificationSerializer
    queryset = Notification.objects.none()  # for the schema generator, which has no user

    def get_queryset(self):
        if not self.request.user.is_authenticated:
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user)

    @extend_schema(request=None, responses={200: dict}, summary="全部标为已读")
    @action(detail=False, methods=["post"])
    def read(self, request):
        return Response({"updated": services.mark_notifications_read(user=request.user)})
