"""Forms of the cooperative's books (capital, borrowings, equity stakes and their disposal) and of
the red-line thresholds, and the list filters shared by the pages and the API."""

import uuid
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Organization
from tmcs.filters import FilterSet, YesNoFilter
from tmcs.forms import Form

from .models import EquityStake, RedLineDirection, RedLineKey, RedLineReading, RedLineStatus
from .selectors_red_lines import cooperatives_for
from .services.books import INVESTEE_KINDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 16, "decimal_places": 2}
THRESHOLD = {"max_digits": 18, "decimal_places": 6, "min_value": Decimal("0")}


class TokenForm(Form):
    """One token per displayed form: a double submission records the movement once (the token
    becomes the ledger's idempotency key)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


def _counterparties(cooperative):
    return Organization.objects.filter(is_active=True).exclude(pk=cooperative.pk).order_by("kind", "name")


class CapitalForm(TokenForm):
    amount = forms.DecimalField(label=_("到账金额（元）"), min_value=Decimal("0.01"), **MONEY)
    occurred_on = forms.DateField(label=_("到账日期"), widget=DATE)
    reference = forms.CharField(label=_("银行流水号/凭证号"), max_length=60)
    memo = forms.CharField(
        label=_("摘要"), max_length=200, help_text=_("出资方及出资依据，如“区国资委第二期出资”。")
    )

    def __init__(self, *args, cooperative, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.order_fields(["amount", "occurred_on", "reference", "memo"])


class BorrowingForm(CapitalForm):
    lender = forms.ModelChoiceField(label=_("出借方"), queryset=Organization.objects.none())

    def __init__(self, *args, cooperative, **kwargs):
        super().__init__(*args, cooperative=cooperative, **kwargs)
        self.fields["lender"].queryset = _counterparties(cooperative)
        self.fields["amount"].label = _("金额（元）")
        self.fields["occurred_on"].label = _("业务日期")
        self.fields["memo"].help_text = _("借款合同编号、期限、利率等。")
        self.order_fields(["lender", "amount", "occurred_on", "reference", "memo"])


class StakeForm(TokenForm):
    investee = forms.ModelChoiceField(label=_("被投资企业"), queryset=Organization.objects.none())
    amount = forms.DecimalField(label=_("投资额（元）"), min_value=Decimal("0.01"), **MONEY)
    share = forms.DecimalField(
        label=_("持股比例"),
        max_digits=7,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        max_value=Decimal("1"),
        help_text=_("0–1 之间的小数，如 0.3 表示 30%。"),
    )
    acquired_on = forms.DateField(label=_("投资日期"), widget=DATE)
    source_document = forms.CharField(
        label=_("决策文件"), max_length=200, help_text=_("如“三重一大”决策会议纪要编号。")
    )
    reference = forms.CharField(label=_("银行流水号/凭证号"), max_length=60)

    def __init__(self, *args, cooperative, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("acquired_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["investee"].queryset = _counterparties(cooperative).filter(kind__in=INVESTEE_KINDS)


class DisposalForm(Form):
    proceeds = forms.DecimalField(
        label=_("收回金额（元）"), min_value=Decimal("0"), help_text=_("全部损失时填 0。"), **MONEY
    )
    disposed_on = forms.DateField(label=_("退出日期"), widget=DATE)
    reference = forms.CharField(label=_("银行流水号/凭证号"), max_length=60)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("disposed_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class RedLineForm(Form):
    limit = forms.DecimalField(label=_("红线"), **THRESHOLD)
    warning = forms.DecimalField(label=_("预警线"), **THRESHOLD)
    source = forms.CharField(label=_("依据"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, direction, amount=False, **kwargs):
        super().__init__(*args, **kwargs)
        if amount:
            self.fields["limit"].label, self.fields["warning"].label = _("红线（元）"), _("预警线（元）")
        else:
            self.fields["limit"].label = _("红线（比率，如 0.75 表示 75%）")
            self.fields["warning"].label = _("预警线（比率）")
        self.fields["warning"].help_text = (
            _("不高于类：预警线不高于红线。")
            if direction == RedLineDirection.MAX
            else _("不低于类：预警线不低于红线。")
        )


# --- filters ----------------------------------------------------------------------------------


def _cooperatives(request):
    if request is None:
        return Organization.objects.none()
    return cooperatives_for(request.user)


class ReadingFilter(FilterSet):
    cooperative = django_filters.ModelChoiceFilter(label=_("合作社"), queryset=_cooperatives)
    key = django_filters.ChoiceFilter(label=_("指标"), choices=RedLineKey.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RedLineStatus.choices)
    as_of = django_filters.DateFilter(label=_("日期"), widget=DATE)
    as_of_after = django_filters.DateFilter(
        label=_("日期起"), field_name="as_of", lookup_expr="gte", widget=DATE
    )
    as_of_before = django_filters.DateFilter(
        label=_("日期止"), field_name="as_of", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = RedLineReading
        fields = ["cooperative", "key", "status", "as_of", "as_of_after", "as_of_before"]


class StakeFilter(FilterSet):
    cooperative = django_filters.ModelChoiceFilter(label=_("合作社"), queryset=_cooperatives)
    q = django_filters.CharFilter(label=_("被投资企业"), method="search")
    open = YesNoFilter(label=_("在持"), field_name="disposed_on", lookup_expr="isnull")

    class Meta:
        model = EquityStake
        fields = ["cooperative", "q", "open"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(investee__name__icontains=value) | Q(investee__uscc__icontains=value))
