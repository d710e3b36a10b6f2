"""Forms and the list filter of trade contracts (the same FilterSet serves the page and the API)."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import Organization
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import ContractStatus, PaymentFrequency, TradeContract, TradeKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _visible_investors(request):
    if request is None:
        return Organization.objects.none()
    from ..selectors_contracts import contracts_for

    return Organization.objects.filter(pk__in=contracts_for(request.user).values("investor")).order_by("name")


class TradeContractFilter(FilterSet):
    q = django_filters.CharFilter(label=_("合同编号或挂牌编号"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ContractStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("交易方式"), choices=TradeKind.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)
    investor = django_filters.ModelChoiceFilter(label=_("受让方"), queryset=_visible_investors)

    class Meta:
        model = TradeContract
        fields = ["q", "status", "kind", "division", "investor"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(listing__code__iexact=value))


class ContractCreateForm(Form):
    payment_frequency = forms.ChoiceField(label=_("付款周期"), choices=PaymentFrequency.choices)
    obligations = forms.CharField(
        label=_("受让方义务"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("默认采用挂牌公告中的受让方义务。"),
    )


class TerminateForm(Form):
    effective_date = forms.DateField(label=_("解除生效日"), widget=DATE)
    reason = forms.CharField(label=_("解除原因"), max_length=500)


class RenewForm(Form):
    end_date = forms.DateField(label=_("续签截止日（不含）"), widget=DATE)
    price = forms.DecimalField(
        label=_("续签合同总价（元）"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    payment_frequency = forms.ChoiceField(label=_("付款周期"), choices=PaymentFrequency.choices)


class AbandonForm(Form):
    reason = forms.CharField(label=_("原因"), max_length=500)
