"""Forms of settlement and distribution: validated here for the page, again in the services."""

import uuid

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import Distribution, DistributionKind, Movement, MovementKind, Posting


def _date(label):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))


class PaymentForm(Form):
    amount = forms.CharField(label=_("收款金额（元）"), max_length=20)
    occurred_on = _date(_("到账日期"))
    reference = forms.CharField(label=_("银行流水号"), max_length=60)
    # Generated when the form is shown: a double submit records the payment once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "initial", {"occurred_on": timezone.localdate(), "idempotency_key": f"web-{uuid.uuid4()}"}
        )
        super().__init__(*args, **kwargs)


class DistributionForm(Form):
    kind = forms.ChoiceField(label=_("分配类型"), choices=DistributionKind.choices)
    period_start = _date(_("期间起"))
    period_end = _date(_("期间止（不含）"))


class PayoutForm(Form):
    occurred_on = _date(_("支付日期"))
    reference = forms.CharField(label=_("银行流水号"), max_length=60)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"occurred_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class SchedulePayForm(PayoutForm):
    due_on_or_before = _date(_("支付截至该日到期的款项"))
    field_order = ["due_on_or_before", "occurred_on", "reference"]


class ReverseForm(Form):
    reason = forms.CharField(label=_("冲正原因"), max_length=200)


# --- filters (shared by the list pages and the API) -------------------------------------------


class MovementFilter(FilterSet):
    kind = django_filters.ChoiceFilter(label=_("业务类型"), choices=MovementKind.choices)
    date_from = django_filters.DateFilter(
        label=_("业务日期起"),
        field_name="occurred_on",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        label=_("业务日期止"),
        field_name="occurred_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    party = django_filters.NumberFilter(label=_("主体编号"), method="by_party")
    contract = django_filters.CharFilter(label=_("合同编号"), method="by_contract")

    class Meta:
        model = Movement
        fields = ["kind", "date_from", "date_to", "party", "contract"]

    def by_party(self, queryset, name, value):
        return queryset.filter(pk__in=Posting.objects.filter(account__party=value).values("movement"))

    def by_contract(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(trade_contract__number=value)
            | Q(collection_contract__number=value)
            | Q(distribution__contract__number=value)
        )


class DistributionFilter(FilterSet):
    kind = django_filters.ChoiceFilter(label=_("分配类型"), choices=DistributionKind.choices)
    contract = django_filters.CharFilter(label=_("合同编号"), field_name="contract__number")
    year = django_filters.NumberFilter(label=_("期间止年份"), field_name="period_end__year")

    class Meta:
        model = Distribution
        fields = ["kind", "contract", "year"]
