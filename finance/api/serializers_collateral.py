"""What a collateral lookup returns. Persons appear by name and masked ID number only; a bank sees
another bank's security as rank, amount and dates under "其他机构", and only its own appraisals.

The serializers read the objects `finance.selectors_collateral.collateral_queryset` prefetched; the
context carries the viewer, the valuation history of the page and the persons whose data is
returned (the view records them in the API log)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from resources.models import RestrictionKind

PERSON_FIELDS = ["name", "national_id_masked"]

SECURITY_KINDS = (RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE)
FREEZE_KINDS = (RestrictionKind.NOTICE_FREEZE, RestrictionKind.DISPUTE_FREEZE)

# Asset attributes that name people (a homestead's 资格权户): never sent to a bank.
PERSONAL_ATTRIBUTES = frozenset({"qualification_holder_household"})

# 四至 as recorded in an asset's attributes: {"four_boundaries": {"east": "…", "south": …}}.
FOUR_BOUNDARIES_KEY = "four_boundaries"
SIDES = ("east", "south", "west", "north")


class LookupHolderSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="person、organization，或 hidden（他行的抵质押）")
    name = serializers.CharField()
    national_id_masked = serializers.CharField(allow_null=True, help_text="仅自然人，已脱敏")
    uscc = serializers.CharField(allow_null=True, help_text="仅机构")


def holder_data(party, context):
    """A party as a bank may see it; persons are remembered for the API log."""
    if party is None:
        return None
    if party.person_id is not None:
        person = party.person
        context["persons"].add(person.pk)
        return {
            "kind": "person",
            "name": person.name,
            "national_id_masked": person.national_id_masked,
            "uscc": None,
        }
    organization = party.organization
    return {
        "kind": "organization",
        "name": organization.name,
        "national_id_masked": None,
        "uscc": organization.uscc,
    }


def hidden_holder():
    return {"kind": "hidden", "name": _("其他机构"), "national_id_masked": None, "uscc": None}


class LookupRightSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    holder = serializers.SerializerMethodField()
    share = serializers.CharField(source="share_display", help_text="份额（分数，如 1/2）")
    valid_from = serializers.DateField(source="period.lower")
    valid_to = serializers.DateField(source="period.upper", allow_null=True, help_text="空 = 无固定期限")
    certificate_number = serializers.CharField(allow_null=True)
    status = serializers.CharField()

    @extend_schema_field(LookupHolderSerializer)
    def get_holder(self, right):
        return holder_data(right.holder, self.context)


class LookupEncumbranceSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="pledge / mortgage / lease / notice_freeze / dispute_freeze")
    kind_display = serializers.CharField(source="get_kind_display")
    own = serializers.SerializerMethodField(help_text="本行（调用方机构）的抵质押")
    right = serializers.SerializerMethodField(help_text="所涉权利 id（仅抵质押）")
    rank = serializers.IntegerField(allow_null=True, help_text="顺位（按登记先后，民法典第414条）")
    secured_amount = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    registered_at = serializers.DateTimeField(source="created_at")
    valid_from = serializers.DateField(source="period.lower")
    valid_to = serializers.DateField(source="period.upper", allow_null=True)
    holder = serializers.SerializerMethodField()
    pledge_number = serializers.SerializerMethodField(help_text="平台质押登记号（仅本行）")
    bank_reference = serializers.SerializerMethodField(help_text="银行业务编号（仅本行）")
    reason = serializers.SerializerMethodField(help_text="冻结事由（仅冻结）")

    def _hidden(self, restriction):
        """Another institution's security, seen by a bank."""
        bank = self.context["viewer"].bank
        if bank is None or restriction.kind not in SECURITY_KINDS:
            return False
        holder = restriction.holder
        return holder is None or holder.organization_id != bank.pk

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_own(self, restriction):
        bank = self.context["viewer"].bank
        holder = restriction.holder
        return bool(
            bank is not None
            and restriction.kind in SECURITY_KINDS
            and holder is not None
            and holder.organization_id == bank.pk
        )

    @extend_schema_field(OpenApiTypes.INT)
    def get_right(self, restriction):
        return None if self._hidden(restriction) else restriction.right_id

    @extend_schema_field(LookupHolderSerializer)
    def get_holder(self, restriction):
        if self._hidden(restriction):
            return hidden_holder()
        return holder_data(restriction.holder, self.context)

    def _pledge(self, restriction):
        if self._hidden(restriction):
            return None
        return getattr(restriction, "finance_pledge", None)

    @extend_schema_field(OpenApiTypes.STR)
    def get_pledge_number(self, restriction):
        pledge = self._pledge(restriction)
        return pledge.number if pledge else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_bank_reference(self, restriction):
        pledge = self._pledge(restriction)
        return pledge.bank_reference if pledge else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_reason(self, restriction):
        return restriction.reason if restriction.kind in FREEZE_KINDS else ""


class LookupValuationSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    year = serializers.IntegerField()
    total = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="该资产在本次核算中的 GEP（元/年）"
    )
    accepted_at = serializers.DateTimeField()
    price_basis = serializers.CharField()
    parameter_set = serializers.CharField()
    standard = serializers.CharField(help_text="核算依据标准，如 DB33/T 2274-2025")


class LookupAppraisalSerializer(serializers.Serializer):
    number = serializers.CharField()
    right = serializers.IntegerField(source="right_id")
    product_code = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    appraised_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    haircut = serializers.DecimalField(max_digits=8, decimal_places=6)
    collateral_value = serializers.DecimalField(max_digits=16, decimal_places=2)
    ltv = serializers.DecimalField(max_digits=8, decimal_places=6)
    max_loan = serializers.DecimalField(max_digits=16, decimal_places=2)
    method = serializers.CharField()
    appraiser = serializers.CharField(source="appraiser_org.name")
    appraiser_licence_no = serializers.CharField()
    appraised_on = serializers.DateField()
    valid_until = serializers.DateField()
    is_valid = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_valid(self, appraisal):
        return appraisal.valid_until >= self.context["today"]


class LookupCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CollateralLookupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    resource_type = LookupCodeSerializer()
    division = LookupCodeSerializer()
    status = serializers.CharField()
    area_m2 = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="PostGIS 于 EPSG:4549 计算的面积（m²）"
    )
    area_mu = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="面积（亩）"
    )
    four_boundaries = serializers.SerializerMethodField(help_text="四至（登记时记载的），无记载时为空")
    bbox = serializers.SerializerMethodField(
        help_text="外接矩形 [minx, miny, maxx, maxy]，CGCS2000（EPSG:4490）"
    )
    attributes = serializers.SerializerMethodField(help_text="资源属性（如优势树种、龄组、林种）")
    public_forest = serializers.SerializerMethodField(help_text="公益林：本身不得抵押，仅补偿收益权可质押")
    rights = LookupRightSerializer(source="active_rights", many=True)
    encumbrances = LookupEncumbranceSerializer(source="active_restrictions", many=True)
    valuations = serializers.SerializerMethodField()
    appraisals = LookupAppraisalSerializer(source="visible_appraisals", many=True)

    @extend_schema_field(
        {"type": "object", "nullable": True, "properties": {side: {"type": "string"} for side in SIDES}}
    )
    def get_four_boundaries(self, asset):
        recorded = (asset.attributes or {}).get(FOUR_BOUNDARIES_KEY)
        if not isinstance(recorded, dict):
            return None
        return {side: str(recorded.get(side, "")) for side in SIDES}

    @extend_schema_field({"type": "array", "items": {"type": "number"}, "nullable": True})
    def get_bbox(self, asset):
        if asset.bbox_xmin is None:
            return None
        return [round(v, 7) for v in (asset.bbox_xmin, asset.bbox_ymin, asset.bbox_xmax, asset.bbox_ymax)]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_attributes(self, asset):
        return {
            key: value
            for key, value in (asset.attributes or {}).items()
            if key not in PERSONAL_ATTRIBUTES and key != FOUR_BOUNDARIES_KEY
        }

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_public_forest(self, asset):
        attributes = asset.attributes or {}
        return attributes.get("forest_class") == "公益林" or attributes.get("public_forest") is True

    @extend_schema_field(LookupValuationSerializer(many=True))
    def get_valuations(self, asset):
        return LookupValuationSerializer(self.context["valuations"].get(asset.pk, []), many=True).data


def collateral_context(viewer, valuations):
    return {"viewer": viewer, "valuations": valuations, "persons": set(), "today": timezone.localdate()}
