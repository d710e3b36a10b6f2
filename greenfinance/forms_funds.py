"""Forms and list filters of green bonds and funds (the FilterSets serve the pages and the API).
The services validate everything again under the fund's lock."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability
from directory.selectors import within_reach
from tmcs.filters import FilterSet
from tmcs.forms import Form

from .models import FundKind, FundMovement, FundMovementKind, FundStatus, GreenFund

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"min_value": Decimal("0.01"), "max_digits": 16, "decimal_places": 2}
REFERENCE_HELP = _("同一凭证号的同类业务只能登记一次，可防止重复入账。")


def _visible_managers(request):
    if request is None:
        return Organization.objects.none()
    from finance.selectors_risk import funds_for as risk_funds_for

    from .selectors_funds import funds_for

    return Organization.objects.filter(
        Q(pk__in=funds_for(request.user).values("manager"))
        | Q(pk__in=risk_funds_for(request.user).values("manager"))
    ).order_by("name")


def _visible_funds(request):
    if request is None:
        return GreenFund.objects.none()
    from .selectors_funds import funds_for

    return funds_for(request.user).order_by("number")


def active_organizations():
    """Institutions are reference data (not personal data): any active one may contribute to,
    manage or receive from a fund."""
    return Organization.objects.filter(is_active=True).select_related("division").order_by("kind", "name")


def desk_divisions(user):
    return (
        AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.MANAGE_GREEN_FINANCE))
        .defer("boundary")
        .order_by("code")
    )


# --- filters ----------------------------------------------------------------------------------


class FundFilter(FilterSet):
    q = django_filters.CharFilter(label=_("编号、名称或管理人"), method="search")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=FundKind.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=FundStatus.choices)
    manager = django_filters.ModelChoiceFilter(label=_("管理人/发行人"), queryset=_visible_managers)
    division = WithinDivisionFilter(label=_("覆盖区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = GreenFund
        fields = ["q", "kind", "status", "manager", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value) | Q(name__icontains=value) | Q(manager__name__icontains=value)
        )


class FundMovementFilter(FilterSet):
    fund = django_filters.ModelChoiceFilter(label=_("基金"), queryset=_visible_funds)
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=FundMovementKind.choices)
    occurred_after = django_filters.DateFilter(
        label=_("业务日期起"), field_name="occurred_on", lookup_expr="gte", widget=DATE
    )
    occurred_before = django_filters.DateFilter(
        label=_("业务日期止"), field_name="occurred_on", lookup_expr="lte", widget=DATE
    )
    reference = django_filters.CharFilter(label=_("凭证号"), lookup_expr="iexact")

    class Meta:
        model = FundMovement
        fields = ["fund", "kind", "occurred_after", "occurred_before", "reference"]


# --- funds ------------------------------------------------------------------------------------


class FundForm(Form):
    name = forms.CharField(label=_("名称"), max_length=200)
    kind = forms.ChoiceField(label=_("类型"), choices=FundKind.choices)
    manager = forms.ModelChoiceField(label=_("管理人/发行人"), queryset=Organization.objects.none())
    division = forms.ModelChoiceField(label=_("覆盖区划"), queryset=AdministrativeDivision.objects.none())
    size = forms.DecimalField(label=_("规模（元）"), help_text=_("募集目标或发行规模。"), **MONEY)
    issue_date = forms.DateField(label=_("设立/发行日"), widget=DATE)
    maturity_date = forms.DateField(
        label=_("到期日"), widget=DATE, required=False, help_text=_("绿色债券必填。")
    )
    coupon_rate = forms.DecimalField(
        label=_("票面利率/预期收益率"),
        min_value=Decimal("0"),
        max_value=Decimal("0.999999"),
        max_digits=7,
        decimal_places=6,
        required=False,
        help_text=_("小数，如 0.035 表示 3.5%。"),
    )
    purpose = forms.CharField(label=_("资金用途"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.CharField(label=_("设立依据/批文"), max_length=300)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("issue_date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = active_organizations()
        self.fields["division"].queryset = desk_divisions(user)


class CommitmentForm(Form):
    contributor = forms.ModelChoiceField(label=_("出资人/认购人"), queryset=Organization.objects.none())
    amount = forms.DecimalField(label=_("认缴金额（元）"), **MONEY)
    committed_on = forms.DateField(label=_("认缴日期"), widget=DATE)
    document = forms.CharField(label=_("认缴协议/文件"), max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("committed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["contributor"].queryset = active_organizations()


class _MoneyForm(Form):
    amount = forms.DecimalField(label=_("金额（元）"), **MONEY)
    occurred_on = forms.DateField(label=_("业务日期"), widget=DATE)
    reference = forms.CharField(label=_("银行流水号/凭证号"), max_length=60, help_text=REFERENCE_HELP)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class ContributionForm(_MoneyForm):
    commitment = forms.ModelChoiceField(label=_("认缴"), queryset=None)
    memo = forms.CharField(label=_("摘要"), max_length=200, required=False)

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commitment"].queryset = fund.commitments.select_related(
            "contributor__organization", "contributor__person"
        ).order_by("pk")
        self.fields["commitment"].label_from_instance = lambda c: f"{c.contributor} · {c.amount}"
        self.order_fields(["commitment", "amount", "occurred_on", "reference", "memo"])


class RedeemForm(_MoneyForm):
    commitment = forms.ModelChoiceField(label=_("出资人"), queryset=None)

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commitment"].queryset = fund.commitments.select_related(
            "contributor__organization", "contributor__person"
        ).order_by("pk")
        self.fields["commitment"].label_from_instance = lambda c: str(c.contributor)
        self.order_fields(["commitment", "amount", "occurred_on", "reference"])


class DrawdownForm(_MoneyForm):
    """The recipient follows from what is backed: the project's owner or the loan's borrower."""

    project = forms.ModelChoiceField(label=_("支持的重点项目"), queryset=None, required=False)
    loan = forms.ModelChoiceField(label=_("支持的贷款"), queryset=None, required=False)
    memo = forms.CharField(label=_("投放用途"), max_length=200)

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors_funds import fundable_loans, fundable_projects

        self.fields["project"].queryset = fundable_projects(fund)
        self.fields["project"].label_from_instance = lambda p: f"{p.number} {p.name}（{p.owner.name}）"
        self.fields["loan"].queryset = fundable_loans(fund)
        self.fields["loan"].label_from_instance = lambda loan: (
            f"{loan.number} · {loan.borrower} · {loan.bank.name}"
        )
        self.order_fields(["project", "loan", "amount", "occurred_on", "reference", "memo"])

    def clean(self):
        data = super().clean()
        if not data.get("project") and not data.get("loan") and not self.errors:
            raise forms.ValidationError(_("投放须指明支持的重点项目或贷款。"))
        return data

    def recipient(self):
        from directory.services import ensure_party

        data = self.cleaned_data
        if data.get("loan") is not None:
            return data["loan"].borrower
        return ensure_party(data["project"].owner)


class _DrawdownChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        backed = obj.project.number if obj.project_id else obj.loan.number
        return f"#{obj.pk} {obj.occurred_on} · {obj.counterparty} · {backed} · {obj.amount}"


class ReturnForm(_MoneyForm):
    drawdown = _DrawdownChoice(label=_("对应投放"), queryset=None)
    memo = forms.CharField(label=_("摘要"), max_length=200, required=False)

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors_funds import open_drawdowns

        self.fields["drawdown"].queryset = open_drawdowns(fund)
        self.order_fields(["drawdown", "amount", "occurred_on", "reference", "memo"])


class WriteOffForm(Form):
    drawdown = _DrawdownChoice(label=_("对应投放"), queryset=None)
    amount = forms.DecimalField(label=_("核销金额（元）"), **MONEY)
    occurred_on = forms.DateField(label=_("核销日期"), widget=DATE)
    reason = forms.CharField(label=_("核销原因及依据"), max_length=200)

    def __init__(self, *args, fund, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        from .selectors_funds import open_drawdowns

        self.fields["drawdown"].queryset = open_drawdowns(fund)


class IncomeExpenseForm(_MoneyForm):
    memo = forms.CharField(
        label=_("摘要"), max_length=200, help_text=_("如利息收入、担保费、管理费、债券付息。")
    )
    counterparty = forms.ModelChoiceField(
        label=_("对方机构"), queryset=Organization.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterparty"].queryset = active_organizations()


class ReverseForm(Form):
    reason = forms.CharField(label=_("冲正原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))


class StatementForm(Form):
    start = forms.DateField(label=_("期间起"), widget=DATE)
    end = forms.DateField(label=_("期间止"), widget=DATE)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("期间起不能晚于期间止。"))
        return data
