"""Forms and filters of the investor demand pages; the services validate again."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision, DivisionLevel
from resources.models import ResourceType
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import Demand, DemandStatus


class DemandFilter(FilterSet):
    q = django_filters.CharFilter(label=_("投资主体或用途"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=DemandStatus.choices)
    resource_type = django_filters.ModelChoiceFilter(
        label=_("资源类型"), queryset=ResourceType.objects.filter(is_active=True)
    )
    division = WithinDivisionFilter(label=_("意向区域（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = Demand
        fields = ["q", "status", "resource_type", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(investor__name__icontains=value) | Q(intended_use__icontains=value))


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code[: max(6, len(obj.prefix))]} {obj.name}"


class DemandForm(Form):
    intended_use = forms.CharField(label=_("用途"), max_length=300)
    resource_type = forms.ModelChoiceField(
        label=_("资源类型"),
        queryset=ResourceType.objects.filter(is_active=True),
        required=False,
        empty_label=_("不限"),
    )
    division = DivisionChoiceField(
        label=_("意向区域"),
        queryset=AdministrativeDivision.objects.filter(
            level__in=[
                DivisionLevel.CITY,
                DivisionLevel.COUNTY,
                DivisionLevel.TOWNSHIP,
                DivisionLevel.VILLAGE,
            ]
        )
        .defer("boundary")
        .order_by("code"),
    )
    min_area_m2 = forms.DecimalField(label=_("最小面积（m²）"), required=False, min_value=0, decimal_places=2)
    max_area_m2 = forms.DecimalField(label=_("最大面积（m²）"), required=False, min_value=0, decimal_places=2)
    budget = forms.DecimalField(
        label=_("预算上限（元）"), required=False, min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    term_years = forms.IntegerField(label=_("意向年限"), required=False, min_value=1, max_value=30)
