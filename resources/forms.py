import json

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.forms import DivisionChoiceField, division_choices_for
from directory.models import Party
from tmcs.forms import Form

from .models import ExpectedUse, ResourceType, RightKind


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
