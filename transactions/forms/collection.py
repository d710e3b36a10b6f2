"""Forms of the collection-contract pages. They check shapes; the rules live in the services."""

import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision
from directory.permissions import Capability
from directory.selectors import within_reach
from resources.models import RightKind
from resources.selectors import assets_for
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import CollectionContract, ContractStatus, PaymentFrequency, RevenueModel
from ..selectors_collection import collectable_assets, grantor_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SOURCE_KINDS = [(k.value, k.label) for k in RightKind if k not in (RightKind.MANAGEMENT, RightKind.USE)]
GRANTED_KINDS = [(k.value, k.label) for k in (RightKind.MANAGEMENT, RightKind.USE)]


class PartyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, party):
        return f"{party}（{party.get_kind_display()}）"


class AssetChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, asset):
        return f"{asset.code} {asset.name}"


class CollectionContractForm(Form):
    division = forms.ModelChoiceField(label=_("所在区划"), queryset=AdministrativeDivision.objects.none())
    grantor = PartyChoiceField(label=_("出让方"), queryset=None, help_text=_("村集体经济组织或农户"))
    source_right_kind = forms.ChoiceField(
        label=_("收益归属的权利"), choices=SOURCE_KINDS, initial=RightKind.CONTRACT
    )
    granted_right_kind = forms.ChoiceField(
        label=_("合作社取得的权利"), choices=GRANTED_KINDS, initial=RightKind.MANAGEMENT
    )
    start_date = forms.DateField(label=_("起始日"), widget=DATE)
    end_date = forms.DateField(label=_("截止日（不含）"), widget=DATE)
    revenue_model = forms.ChoiceField(label=_("收益模式"), choices=RevenueModel.choices)
    annual_amount = forms.CharField(label=_("年度租金/保底金额（元）"), initial="0.00", max_length=20)
    dividend_rate = forms.CharField(
        label=_("分红比例"), initial="0", max_length=10, help_text=_("0 至 1 之间的小数，如 0.3")
    )
    payment_frequency = forms.ChoiceField(label=_("支付周期"), choices=PaymentFrequency.choices)
    first_payment_date = forms.DateField(label=_("首次支付日"), widget=DATE)
    obligations = forms.CharField(
        label=_("双方权利义务"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    asset_codes = forms.CharField(
        label=_("资源编号"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个资源编号，也可在下方勾选"),
    )
    assets = AssetChoiceField(
        label=_("可收储的已登记资源"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["division"].queryset = (
            AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.MANAGE_TRADING))
            .defer("boundary")
            .order_by("code")
        )
        self.fields["grantor"].queryset = grantor_choices(user)
        self.fields["assets"].queryset = collectable_assets(user).select_related(None)

    def clean(self):
        cleaned = super().clean()
        codes = [c for c in re.split(r"[\s,，;；]+", cleaned.get("asset_codes") or "") if c]
        found = {a.code: a for a in assets_for(self.user).defer("geometry").filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            self.add_error("asset_codes", _("找不到资源编号：%(codes)s") % {"codes": "、".join(missing)})
        chosen = {a.pk: a for a in [*found.values(), *(cleaned.get("assets") or [])]}
        if not chosen and not missing:
            self.add_error("asset_codes", _("请至少填写或选择一项资源。"))
        cleaned["assets"] = sorted(chosen.values(), key=lambda a: a.code)
        cleaned.pop("asset_codes", None)
        return cleaned


class TerminateForm(Form):
    reason = forms.CharField(label=_("解除原因"), max_length=500)
    effective_date = forms.DateField(label=_("解除生效日"), widget=DATE)


class RenewForm(Form):
    end_date = forms.DateField(label=_("续签截止日（不含）"), widget=DATE)
    annual_amount = forms.CharField(
        label=_("年度租金/保底金额（元）"), required=False, max_length=20, help_text=_("留空则沿用原合同")
    )
    dividend_rate = forms.CharField(
        label=_("分红比例"), required=False, max_length=10, help_text=_("留空则沿用原合同")
    )


class CollectionContractFilter(FilterSet):
    """Shared by the list page and the API."""

    number = django_filters.CharFilter(label=_("合同编号或出让方"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ContractStatus.choices)
    revenue_model = django_filters.ChoiceFilter(label=_("收益模式"), choices=RevenueModel.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = CollectionContract
        fields = ["number", "status", "revenue_model", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value)
            | Q(grantor__organization__name__icontains=value)
            | Q(grantor__person__name__icontains=value)
        )
