from rest_framework import serializers

from directory.models import AdministrativeDivision, Membership, User


class DivisionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, default=None)
    short_code = serializers.CharField(read_only=True)

    class Meta:
        model = AdministrativeDivision
        fields = ["code", "short_code", "name", "level", "parent_code"]


class MembershipSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")
    organization_kind = serializers.CharField(source="organization.kind")
    division_code = serializers.CharField(source="organization.division.code")

    class Meta:
        model = Membership
        fields = ["organization", "organization_kind", "division_code", "role"]


class MeSerializer(serializers.ModelSerializer):
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "display_name", "memberships"]

    def get_memberships(self, user) -> list[dict]:
        active = user.memberships.filter(is_active=True).select_related("organization__division")
        return MembershipSerializer(active, many=True).data
