"""API shapes. Validation of identifiers and permissions lives in directory.services; serializers
check types and pass keyword arguments through."""

from rest_framework import serializers

from directory.models import (
    AdministrativeDivision,
    ApiToken,
    Membership,
    Notification,
    Organization,
    OrganizationKind,
    Person,
    Role,
    User,
)


class DivisionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, default=None)
    short_code = serializers.CharField(read_only=True)

    class Meta:
        model = AdministrativeDivision
        fields = ["code", "short_code", "name", "level", "parent_code"]


class DivisionField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=AdministrativeDivision.objects.all(), **kwargs)

    def get_queryset(self):
        from directory.selectors import divisions_for

        return divisions_for(self.context["request"].user)


class OrganizationSerializer(serializers.ModelSerializer):
    division = DivisionField()
    contact_phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=30)
    uscc = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=30)
    kind = serializers.ChoiceField(choices=OrganizationKind.choices)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "kind",
            "division",
            "uscc",
            "contact_name",
            "contact_phone",
            "contact_phone_masked",
            "address",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["contact_phone_masked", "created_at"]
        validators = []  # uniqueness is checked by the service, with the service's message


class PersonSerializer(serializers.ModelSerializer):
    division = DivisionField()
    national_id = serializers.CharField(write_only=True, required=False, max_length=30)
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=30)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "national_id",
            "national_id_masked",
            "gender",
            "birth_date",
            "phone",
            "phone_masked",
            "division",
            "address",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "national_id_masked",
            "gender",
            "birth_date",
            "phone_masked",
            "created_at",
            "updated_at",
        ]


class RevealSerializer(serializers.Serializer):
    purpose = serializers.CharField(max_length=200)


class RevealedSerializer(serializers.Serializer):
    national_id = serializers.CharField()
    phone = serializers.CharField()


class LookupSerializer(serializers.Serializer):
    national_id = serializers.CharField(max_length=30)


class MembershipSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")
    organization_id = serializers.IntegerField()
    organization_kind = serializers.CharField(source="organization.kind")
    division_code = serializers.CharField(source="organization.division.code")

    class Meta:
        model = Membership
        fields = [
            "id",
            "organization_id",
            "organization",
            "organization_kind",
            "division_code",
            "role",
            "is_active",
        ]


class MeSerializer(serializers.ModelSerializer):
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "display_name", "memberships"]

    def get_memberships(self, user) -> list[dict]:
        return MembershipSerializer(user.active_memberships, many=True).data


class UserSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "is_active",
            "is_service_account",
            "last_login",
            "memberships",
        ]


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    display_name = serializers.CharField(max_length=50)
    email = serializers.EmailField(required=False, allow_blank=True)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.ChoiceField(choices=Role.choices)


class ApiClientSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    created_by = serializers.StringRelatedField()
    secret = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "organization",
            "name",
            "prefix",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "secret",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_secret(self, token) -> str | None:
        """The token itself, present only in the response that creates it."""
        return self.context.get("secret")


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "link", "level", "created_at", "read_at"]
