"""Forms and filters of the eco-indicator unit pages; the services validate again."""

import uuid
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import Party
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import UnitBlockStatus, UnitIssuance, UnitKind
from ..services.units import MAX_QUANTITY


class IssuanceFilter(FilterSet):
    q = django_filters.CharFilter(label=_("序列号前缀或资源编号"), method="search")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=UnitKind.choices)
    vintage_year = django_filters.NumberFilter(label=_("年份"))
    division = WithinDivisionFilter(
        label=_("所在区划（含下级）"), field_name="right__asset__division", queryset=visible_division_choices
    )

    class Meta:
        model = UnitIssuance
        fields = ["q", "kind", "vintage_year", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(serial_prefix__icontains=value) | Q(right__asset__code__iexact=value))


class IssueForm(Form):
    right = forms.ModelChoiceField(label=_("来源权利"), queryset=None, widget=forms.HiddenInput)
    vintage_year = forms.IntegerField(label=_("年份"), min_value=1900, max_value=9999)
    quantity = forms.IntegerField(label=_("数量（tCO₂e 或 m³）"), min_value=1, max_value=MAX_QUANTITY)
    methodology = forms.CharField(label=_("核算方法学/依据"), max_length=200)

    def __init__(self, *args, rights, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["right"].queryset = rights


class _KeyedForm(Form):
    # A fresh key per rendered form: a double submission records the movement once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=90)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


def holders_of(issuance):
    return (
        Party.objects.filter(unit_blocks__issuance=issuance, unit_blocks__status=UnitBlockStatus.HELD)
        .distinct()
        .select_related("person", "organization")
    )


class TransferForm(_KeyedForm):
    from_party = forms.ModelChoiceField(label=_("转出方"), queryset=Party.objects.none())
    to_party = forms.ModelChoiceField(label=_("转入方"), queryset=Party.objects.none())
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=MAX_QUANTITY)
    price = forms.DecimalField(
        label=_("成交价（元）"), required=False, min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=300)
    field_order = ["from_party", "to_party", "quantity", "price", "note"]

    def __init__(self, *args, issuance, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_party"].queryset = holders_of(issuance)
        self.fields["to_party"].queryset = parties


class RetireForm(_KeyedForm):
    party = forms.ModelChoiceField(label=_("持有人"), queryset=Party.objects.none())
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=MAX_QUANTITY)
    reason = forms.CharField(label=_("注销用途"), max_length=300)
    field_order = ["party", "quantity", "reason"]

    def __init__(self, *args, issuance, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = holders_of(issuance)


class HoldingsForm(Form):
    party = forms.ModelChoiceField(label=_("权利主体"), queryset=Party.objects.none())

    def __init__(self, *args, parties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties
