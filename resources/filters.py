import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from tmcs.filters import FilterSet, YesNoFilter

from .models import (
    Asset,
    AssetStatus,
    IdleAssetListing,
    ListingStatus,
    Registration,
    RegistrationStatus,
    ResourceFamily,
    ResourceType,
)


class AssetFilter(FilterSet):
    q = django_filters.CharFilter(label=_("编号或名称"), method="search")
    resource_type = django_filters.ModelChoiceFilter(
        label=_("资源类型"), queryset=ResourceType.objects.filter(is_active=True)
    )
    status = django_filters.ChoiceFilter(label=_("状态"), choices=AssetStatus.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = Asset
        fields = ["q", "resource_type", "status", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__iexact=value) | Q(name__icontains=value))


class RegistrationFilter(FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RegistrationStatus.choices)
    q = django_filters.CharFilter(label=_("资源编号或名称"), method="search")

    class Meta:
        model = Registration
        fields = ["status", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(asset__code__iexact=value) | Q(asset__name__icontains=value))


class ListingFilter(FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ListingStatus.choices)
    q = django_filters.CharFilter(label=_("标题或村集体"), method="search")

    class Meta:
        model = IdleAssetListing
        fields = ["status", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(title__icontains=value) | Q(collective__name__icontains=value))


class ResourceTypeFilter(FilterSet):
    q = django_filters.CharFilter(label=_("编码或名称"), method="search")
    family = django_filters.ChoiceFilter(label=_("类别"), choices=ResourceFamily.choices)
    geometry_required = YesNoFilter(label=_("须有空间范围"))
    is_active = YesNoFilter(label=_("启用"))

    class Meta:
        model = ResourceType
        fields = ["q", "family", "geometry_required", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
