import json
from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.forms import DivisionChoiceField, division_choices_for
from directory.models import Party
from tmcs.forms import Form

from .models import (
    DocumentKind,
    ExpectedUse,
    ResourceFamily,
    ResourceType,
    RestrictionKind,
    RightKind,
    RightStatus,
)


class AssetForm(Form):
    resource_type = forms.ModelChoiceField(
        label=_("资源类型"), queryset=ResourceType.objects.filter(is_active=True)
    )
    name = forms.CharField(label=_("名称"), max_length=200)
    division = DivisionChoiceField(label=_("所在区划"), queryset=None)
    geometry = forms.CharField(
        label=_("空间范围"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("GeoJSON 或 WKT，CGCS2000 经纬度（EPSG:4490）。"),
    )
    attributes = forms.CharField(
        label=_("属性（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "按资源类型的属性结构填写 JSON 对象，如 {&quot;dominant_species&quot;: &quot;杉木&quot;}。"
        ),
    )
    quantity = forms.DecimalField(
        label=_("数量"), required=False, min_value=0, max_digits=18, decimal_places=4
    )
    quality_grade = forms.CharField(label=_("质量等级"), required=False, max_length=20)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = division_choices_for(user)

    def clean_attributes(self):
        text = self.cleaned_data["attributes"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("不是有效的 JSON：%(error)s") % {"error": exc.msg}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("属性应为 JSON 对象（{…}）。"))
        return value


class RightForm(Form):
    holder = forms.ModelChoiceField(label=_("权利人"), queryset=None)
    kind = forms.ChoiceField(label=_("权利类型"), choices=RightKind.choices)
    share = forms.CharField(label=_("份额"), initial="1", max_length=20, help_text=_("如 1、1/3、0.5"))
    start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("所有权等无期限的权利留空。"),
    )
    source_document = forms.CharField(label=_("权源文件"), max_length=200)
    certificate_number = forms.CharField(label=_("证书编号"), required=False, max_length=60)

    def __init__(self, *args, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = parties


class TransitionForm(Form):
    to_status = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("说明"), required=False, max_length=200)


class EndRightForm(Form):
    reason = forms.CharField(label=_("终止原因"), max_length=200)


def holder_choices(user):
    """Parties a registrar may name as holders: persons and organizations within reach."""
    from directory.selectors import organizations_for, persons_for

    return Party.objects.filter(
        Q(person__in=persons_for(user)) | Q(organization__in=organizations_for(user))
    ).select_related("person", "organization")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input (Django's documented pattern); content is checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


def _listable_types():
    from .listings import LISTABLE_FAMILIES

    return ResourceType.objects.filter(is_active=True, family__in=LISTABLE_FAMILIES)


class ListingForm(Form):
    resource_type = forms.ModelChoiceField(label=_("资源类型"), queryset=None)
    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(
        label=_("情况说明"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    location = forms.CharField(label=_("位置"), max_length=200)
    area_estimate_m2 = forms.DecimalField(
        label=_("估计面积（m²）"), required=False, min_value=0, decimal_places=2
    )
    expected_use = forms.ChoiceField(label=_("意向方式"), choices=ExpectedUse.choices)
    expected_price = forms.DecimalField(
        label=_("期望价格（元）"), required=False, min_value=0, decimal_places=2
    )
    price_note = forms.CharField(label=_("价格说明"), required=False, max_length=100)
    photos = MultipleImageField(
        label=_("照片"), required=False, help_text=_("JPEG/PNG/WebP，每张不超过 5 MB，最多 9 张。")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource_type"].queryset = _listable_types()


class AcceptListingForm(Form):
    geometry = forms.CharField(
        label=_("空间范围"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("GeoJSON 或 WKT，CGCS2000 经纬度；关联已有资源时留空。"),
    )
    attributes = AssetForm.base_fields["attributes"]
    existing_asset = forms.ModelChoiceField(label=_("关联已有资源"), queryset=None, required=False)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args, assets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["existing_asset"].queryset = assets

    clean_attributes = AssetForm.clean_attributes


class ObservationForm(Form):
    observed_on = forms.DateField(label=_("监测日期"), widget=forms.DateInput(attrs={"type": "date"}))
    quantity = forms.DecimalField(
        label=_("数量"), required=False, min_value=0, max_digits=18, decimal_places=4
    )
    quality_grade = forms.CharField(label=_("质量等级"), required=False, max_length=20)
    source = forms.CharField(label=_("数据来源"), max_length=100)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


# --- eco-product catalog (生态产品目录) ---------------------------------------------------------


def gep_indicator_choices():
    from .catalog import GEP_INDICATORS

    groups = {"material": _("物质产品"), "regulating": _("调节服务"), "cultural": _("文化服务")}
    return [
        (
            label,
            [
                (key, f"{name}（{key}）")
                for key, (category, name) in GEP_INDICATORS.items()
                if category == group
            ],
        )
        for group, label in groups.items()
    ]


class ResourceTypeForm(Form):
    code = forms.CharField(
        label=_("编码"),
        max_length=40,
        help_text=_("小写字母、数字、下划线或连字符，以字母开头，如 bamboo_forest；保存后不能修改。"),
    )
    name = forms.CharField(label=_("名称"), max_length=50)
    family = forms.ChoiceField(label=_("类别"), choices=ResourceFamily.choices)
    unit = forms.CharField(label=_("计量单位"), max_length=20, help_text=_("如 m²、亩、m³、tCO₂e、万m³/年"))
    geometry_required = forms.BooleanField(label=_("须有空间范围"), required=False, initial=True)
    overlap_group = forms.CharField(
        label=_("空间互斥组"),
        required=False,
        max_length=30,
        help_text=_("同组类型的资源在空间上不得重叠（如 land、building）；留空表示不参与重叠检查。"),
    )
    attribute_schema = forms.CharField(
        label=_("属性结构（JSON Schema）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
        help_text=_(
            "JSON Schema（2020-12）对象，如 {&quot;type&quot;: &quot;object&quot;, &quot;properties&quot;: "
            "{&quot;floor_area_m2&quot;: {&quot;type&quot;: &quot;number&quot;, &quot;title&quot;: "
            "&quot;建筑面积（m²）&quot;}}, &quot;required&quot;: [&quot;floor_area_m2&quot;]}；留空表示不限定属性。"
        ),
    )
    gep_indicators = forms.MultipleChoiceField(
        label=_("GEP 指标"),
        required=False,
        choices=gep_indicator_choices,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("按住 Ctrl 可多选。"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("编码保存后不能修改。")

    @classmethod
    def initial_from(cls, resource_type):
        return {
            **{
                name: getattr(resource_type, name)
                for name in (
                    "code",
                    "name",
                    "family",
                    "unit",
                    "geometry_required",
                    "overlap_group",
                    "is_active",
                )
            },
            "gep_indicators": list(resource_type.gep_indicators),
            "attribute_schema": json.dumps(resource_type.attribute_schema, ensure_ascii=False, indent=2),
        }

    def clean_attribute_schema(self):
        text = self.cleaned_data["attribute_schema"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("不是有效的 JSON：%(error)s") % {"error": exc.msg}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("属性结构须为 JSON 对象（{…}）。"))
        return value


# --- restrictions on the asset page ---------------------------------------------------------

_DATE = {"type": "date"}


def pledgee_choices(user):
    """Who may hold a pledge or mortgage: the parties within reach, and every active bank and
    guarantee institution (they lend across the city, outside a county's reach)."""
    from directory.models import OrganizationKind
    from directory.selectors import organizations_for, persons_for

    return Party.objects.filter(
        Q(person__in=persons_for(user))
        | Q(organization__in=organizations_for(user))
        | Q(
            organization__kind__in=[OrganizationKind.BANK, OrganizationKind.GUARANTOR],
            organization__is_active=True,
        )
    ).select_related("person", "organization")


class LeaseForm(Form):
    holder = forms.ModelChoiceField(label=_("承租人"), queryset=None)
    start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs=_DATE))
    end = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs=_DATE))
    source_document = forms.CharField(label=_("依据文件"), max_length=200, help_text=_("如租赁合同编号"))

    def __init__(self, *args, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = parties


class RightChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, right):
        return f"{right.get_kind_display()} · {right.holder} · {right.period.lower} — {right.period.upper or '∞'}"


class PledgeForm(Form):
    right = RightChoiceField(label=_("抵质押的权利"), queryset=None)
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[
            (RestrictionKind.PLEDGE.value, RestrictionKind.PLEDGE.label),
            (RestrictionKind.MORTGAGE.value, RestrictionKind.MORTGAGE.label),
        ],
    )
    holder = forms.ModelChoiceField(
        label=_("抵质押权人"), queryset=None, help_text=_("银行、担保机构或其他权利主体")
    )
    rank = forms.IntegerField(label=_("顺位"), min_value=1, max_value=99, initial=1)
    secured_amount = forms.DecimalField(
        label=_("担保金额（元）"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs=_DATE))
    end = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=forms.DateInput(attrs=_DATE),
        help_text=_("不超过所涉权利的有效期。"),
    )
    source_document = forms.CharField(label=_("依据文件"), max_length=200, help_text=_("如质押合同编号"))

    def __init__(self, *args, asset, parties, **kwargs):
        from .services import PLEDGEABLE_RIGHT_KINDS

        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = parties
        self.fields["right"].queryset = asset.rights.filter(
            status=RightStatus.ACTIVE, kind__in=PLEDGEABLE_RIGHT_KINDS
        ).select_related("holder__person", "holder__organization")


class DisputeFreezeForm(Form):
    reason = forms.CharField(label=_("争议事由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    source_document = forms.CharField(
        label=_("依据文件"), max_length=200, help_text=_("如法院协助执行通知书、调解申请书编号")
    )
    start = forms.DateField(
        label=_("冻结开始日期"),
        required=False,
        widget=forms.DateInput(attrs=_DATE),
        help_text=_("留空为今天。"),
    )


class ReleaseRestrictionForm(Form):
    reason = forms.CharField(label=_("解除原因"), max_length=200)


# --- photos and documents -------------------------------------------------------------------


class DocumentForm(Form):
    kind = forms.ChoiceField(label=_("资料类型"), choices=DocumentKind.choices)
    title = forms.CharField(label=_("标题"), required=False, max_length=200, help_text=_("留空则用文件名。"))
    file = forms.FileField(
        label=_("文件"),
        help_text=_("JPEG/PNG/WebP 图片或 PDF，不超过 20 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )

    def clean_file(self):
        """Cheap checks first; the service reads the content (Pillow, PDF magic bytes)."""
        from pathlib import PurePath

        from .services import DOCUMENT_EXTENSIONS, MAX_DOCUMENT_BYTES

        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in DOCUMENT_EXTENSIONS:
            raise forms.ValidationError(_("只接受 JPEG、PNG、WebP 图片或 PDF 文件。"))
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(_("文件超过 20 MB。"))
        return upload
