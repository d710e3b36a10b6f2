"""Forms and the list filter of pledges (the FilterSet serves the page and the API alike). The
service validates everything again under its locks."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import Organization
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import Pledge, PledgeStatus


def _visible_banks(request):
    if request is None:
        return Organization.objects.none()
    from ..selectors_pledges import pledges_for

    return Organization.objects.filter(pk__in=pledges_for(request.user).values("bank")).order_by("name")


class PledgeFilter(FilterSet):
    q = django_filters.CharFilter(label=_("登记号、资源编号或申请编号"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=PledgeStatus.choices)
    bank = django_filters.ModelChoiceFilter(label=_("质权人"), queryset=_visible_banks)
    division = WithinDivisionFilter(
        label=_("受理区划（含下级）"), field_name="application__division", queryset=visible_division_choices
    )

    class Meta:
        model = Pledge
        fields = ["q", "status", "bank", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(right__asset__code__iexact=value)
            | Q(application__number__iexact=value)
        )


class PledgeRegisterForm(Form):
    right = forms.TypedChoiceField(label=_("抵质押权利"), coerce=int)
    secured_amount = forms.DecimalField(
        label=_("担保金额（元）"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    rank = forms.IntegerField(
        label=_("顺位"),
        min_value=1,
        max_value=99,
        required=False,
        help_text=_("留空则取该权利可用的最小顺位。"),
    )
    bank_reference = forms.CharField(label=_("银行业务编号"), max_length=60, required=False)

    def __init__(self, *args, rights=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rights = {right.pk: right for right in rights}
        self.fields["right"].choices = [
            (right.pk, f"{right.asset.code} {right.asset.name} · {right.get_kind_display()}")
            for right in rights
        ]

    def clean_right(self):
        return self.rights[self.cleaned_data["right"]]


class PledgeReleaseForm(Form):
    reason = forms.CharField(label=_("解除原因"), max_length=200)
