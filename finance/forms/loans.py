"""Forms of the loan book and the list filter (the same FilterSet serves the page and the API)."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import DelinquencyBucket, Loan, LoanStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PREPAYMENT_CHOICES = [
    ("shorten_term", _("缩短期限（月供不变）")),
    ("lower_installment", _("减少月供（期限不变）")),
]


def _visible_banks(request):
    from directory.models import Organization

    if request is None:
        return Organization.objects.none()
    from ..selectors_loans import visible_banks

    return visible_banks(request.user)


class LoanFilter(FilterSet):
    q = django_filters.CharFilter(label=_("借据编号、银行借据号或申请编号"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=LoanStatus.choices)
    bucket = django_filters.ChoiceFilter(
        label=_("逾期分档"), choices=DelinquencyBucket.choices, method="in_bucket"
    )
    bank = django_filters.ModelChoiceFilter(label=_("贷款银行"), queryset=_visible_banks)
    division = WithinDivisionFilter(label=_("受理区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = Loan
        fields = ["q", "status", "bucket", "bank", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value) | Q(bank_reference__iexact=value) | Q(application__number__iexact=value)
        )

    def in_bucket(self, queryset, name, value):
        """Needs the `bucket` annotation of selectors_loans.with_delinquency."""
        return queryset.filter(bucket=value)


class DisburseForm(Form):
    principal = forms.DecimalField(
        label=_("放款金额（元）"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    disbursed_on = forms.DateField(label=_("放款日"), widget=DATE)
    bank_reference = forms.CharField(label=_("银行借据号"), max_length=60)
    first_due_date = forms.DateField(
        label=_("首期还款日"),
        required=False,
        widget=DATE,
        help_text=_("留空则为放款日后一个还款周期；不同时首期按实际天数计息。"),
    )


class RepaymentForm(Form):
    amount = forms.DecimalField(
        label=_("还款金额（元）"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    paid_on = forms.DateField(label=_("还款日"), widget=DATE)
    bank_reference = forms.CharField(label=_("银行流水号"), max_length=60, required=False)
    prepayment = forms.ChoiceField(
        label=_("提前还款后"),
        choices=PREPAYMENT_CHOICES,
        initial="shorten_term",
        help_text=_(
            "超过到期应还的部分按提前还款处理：利息计至还款日，其余冲抵本金，剩余计划按所选方式重排。"
        ),
    )


class StatementForm(Form):
    start = forms.DateField(label=_("起始日"), widget=DATE)
    end = forms.DateField(label=_("截止日"), widget=DATE)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("截止日不能早于起始日。"))
        return data
