"""Forms and list filters of the resource package pages."""

import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision
from directory.permissions import Capability
from directory.selectors import reach_prefixes
from resources.models import Asset
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import PackageStatus, ResourcePackage


class PackageFilter(FilterSet):
    code = django_filters.CharFilter(label=_("编号或名称"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=PackageStatus.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = ResourcePackage
        fields = ["code", "status", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__iexact=value) | Q(name__icontains=value))


def trading_divisions(user):
    """Divisions where the user manages trading (for the package's division)."""
    q = Q(pk__in=[])
    for prefix in reach_prefixes(user, Capability.MANAGE_TRADING):
        q |= Q(code__startswith=prefix)
    return AdministrativeDivision.objects.filter(q).defer("boundary").order_by("code")


class AssetCodesField(forms.CharField):
    """Asset codes separated by spaces, commas or new lines → the visible assets, in order."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *args, assets=None, **kwargs):
        self.assets = assets
        kwargs.setdefault("help_text", _("每行或用逗号分隔一个资源编号。"))
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        codes = list(dict.fromkeys(code for code in re.split(r"[\s,，;；]+", value or "") if code))
        if not codes:
            raise forms.ValidationError(_("请至少填写一个资源编号。"))
        found = {a.code: a for a in self.assets.filter(code__in=codes).select_related("division")}
        missing = [code for code in codes if code not in found]
        if missing:
            raise forms.ValidationError(_("找不到资源：%(codes)s") % {"codes": "、".join(missing)})
        return [found[code] for code in codes]


class PackageForm(Form):
    division = forms.ModelChoiceField(label=_("所在区划"), queryset=AdministrativeDivision.objects.none())
    name = forms.CharField(label=_("名称"), max_length=200)
    suggested_use = forms.CharField(label=_("建议用途"), max_length=200, required=False)
    description = forms.CharField(label=_("介绍"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    assets = AssetCodesField(label=_("资源编号"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = trading_divisions(user)
        self.fields["assets"].assets = Asset.objects.filter(_reach(user)).defer("geometry")


def _reach(user):
    q = Q(pk__in=[])
    for prefix in reach_prefixes(user, Capability.MANAGE_TRADING):
        q |= Q(division__code__startswith=prefix)
    return q


class PackageEditForm(Form):
    name = forms.CharField(label=_("名称"), max_length=200)
    suggested_use = forms.CharField(label=_("建议用途"), max_length=200, required=False)
    description = forms.CharField(label=_("介绍"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class AddAssetsForm(Form):
    assets = AssetCodesField(label=_("资源编号"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assets"].assets = Asset.objects.filter(_reach(user)).defer("geometry")


class DissolveForm(Form):
    reason = forms.CharField(label=_("解散原因"), max_length=500)


class PhotoForm(Form):
    image = forms.FileField(label=_("照片"), help_text=_("JPEG、PNG 或 WebP，不超过 10 MB。"))
    caption = forms.CharField(label=_("说明"), max_length=100, required=False)
