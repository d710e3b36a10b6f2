"""Forms and list filters of risk funds, risk-sharing schemes and defaults (the FilterSets serve the
pages and the API)."""

import uuid
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability
from directory.selectors import within_reach
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import (
    DefaultStatus,
    LoanDefault,
    PledgeStatus,
    RiskCompensationFund,
    RiskRole,
    RiskSharingScheme,
)
from ..services.risk import DEFAULT_SHARES, FUND_MANAGER_KINDS, ROLE_PARTY_KINDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"min_value": Decimal("0.01"), "max_digits": 16, "decimal_places": 2}


def desk_divisions(user):
    return (
        AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.MANAGE_LOANS))
        .defer("boundary")
        .order_by("code")
    )


def organizations_of_kind(*kinds):
    """Institutions (not personal data) that can take part in risk sharing, platform-wide."""
    return Organization.objects.filter(kind__in=kinds, is_active=True).order_by("kind", "name")


# --- filters ----------------------------------------------------------------------------------


class FundFilter(FilterSet):
    q = django_filters.CharFilter(label=_("基金名称或管理机构"), method="search")

    class Meta:
        model = RiskCompensationFund
        fields = ["q"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(manager__name__icontains=value))


class SchemeFilter(FilterSet):
    q = django_filters.CharFilter(label=_("方案名称"), field_name="name", lookup_expr="icontains")
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = RiskSharingScheme
        fields = ["q", "is_active"]


class DefaultFilter(FilterSet):
    q = django_filters.CharFilter(label=_("借据编号"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=DefaultStatus.choices)
    declared_after = django_filters.DateFilter(
        label=_("认定日期起"), field_name="declared_on", lookup_expr="gte", widget=DATE
    )

    class Meta:
        model = LoanDefault
        fields = ["q", "status", "declared_after"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(loan__number__iexact=value) | Q(loan__bank_reference__iexact=value))


# --- funds ------------------------------------------------------------------------------------


class FundForm(Form):
    name = forms.CharField(label=_("基金名称"), max_length=100)
    manager = forms.ModelChoiceField(label=_("管理机构"), queryset=Organization.objects.none())
    division = forms.ModelChoiceField(label=_("覆盖区划"), queryset=AdministrativeDivision.objects.none())
    source = forms.CharField(label=_("设立依据"), max_length=200, help_text=_("政策文件名称及文号。"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = organizations_of_kind(*FUND_MANAGER_KINDS)
        self.fields["division"].queryset = desk_divisions(user)


class ContributionForm(Form):
    contributor = forms.ModelChoiceField(label=_("出资方"), queryset=Organization.objects.none())
    amount = forms.DecimalField(label=_("出资金额（元）"), **MONEY)
    occurred_on = forms.DateField(label=_("到账日期"), widget=DATE)
    reference = forms.CharField(label=_("银行流水号/凭证号"), max_length=60)
    # One token per displayed form: a double submission records the contribution once.
    token = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        kwargs["initial"].setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["contributor"].queryset = Organization.objects.filter(is_active=True).order_by(
            "kind", "name"
        )


# --- schemes ----------------------------------------------------------------------------------

ROLE_FIELDS = (RiskRole.GOVERNMENT_FUND, RiskRole.GUARANTOR, RiskRole.COOPERATIVE, RiskRole.BANK)


class SchemeForm(Form):
    """Name, place, fund and the four roles: a share (blank = the role takes no part) and, except
    for the government fund (its party is the fund's manager), the organization that bears it."""

    name = forms.CharField(label=_("方案名称"), max_length=100)
    division = forms.ModelChoiceField(label=_("适用区划"), queryset=AdministrativeDivision.objects.none())
    fund = forms.ModelChoiceField(
        label=_("风险补偿基金"), queryset=RiskCompensationFund.objects.none(), required=False
    )
    source = forms.CharField(label=_("依据"), max_length=200)

    def __init__(self, *args, user, **kwargs):
        initial = kwargs.setdefault("initial", {})
        for role, share in DEFAULT_SHARES:
            initial.setdefault(f"{role}_share", share)
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = desk_divisions(user)
        from ..selectors_risk import funds_for

        self.fields["fund"].queryset = funds_for(user).order_by("name")
        for role in ROLE_FIELDS:
            if role != RiskRole.GOVERNMENT_FUND:
                self.fields[f"{role}_party"] = forms.ModelChoiceField(
                    label=_("%(role)s（机构）") % {"role": role.label},
                    queryset=organizations_of_kind(*ROLE_PARTY_KINDS[role]),
                    required=False,
                )
                if role == RiskRole.BANK:
                    self.fields[f"{role}_party"].help_text = _(
                        "参考银行；发生损失时由该笔贷款的放款银行承担银行份额。"
                    )
            self.fields[f"{role}_share"] = forms.DecimalField(
                label=_("%(role)s分担比例") % {"role": role.label},
                min_value=Decimal("0.000001"),
                max_value=Decimal("1"),
                max_digits=7,
                decimal_places=6,
                required=False,
            )
        self.order_fields(["name", "division", "fund", "source"])

    def shares(self):
        """[(role, organization or None, share)] of the roles given a share."""
        data = self.cleaned_data
        return [
            (role, data.get(f"{role}_party"), data[f"{role}_share"])
            for role in ROLE_FIELDS
            if data.get(f"{role}_share") is not None
        ]


# --- defaults ---------------------------------------------------------------------------------


class DeclareForm(Form):
    reason = forms.CharField(label=_("违约事由"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    declared_on = forms.DateField(label=_("认定日期"), widget=DATE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("declared_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class BuyBackForm(Form):
    pledge = forms.ModelChoiceField(label=_("回购的抵质押物"), queryset=None)
    price = forms.DecimalField(label=_("回购价款（元）"), **MONEY)
    executed_on = forms.DateField(label=_("回购日期"), widget=DATE)
    source_document = forms.CharField(label=_("回购协议/处置依据"), max_length=200)

    def __init__(self, *args, default, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("executed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        from ..selectors_risk import default_pledges

        self.fields["pledge"].queryset = default_pledges(default).filter(status=PledgeStatus.ACTIVE)
        self.fields["pledge"].label_from_instance = lambda p: (
            f"{p.number} · {p.right.asset.code} {p.right.asset.name} · {p.right.get_kind_display()}"
        )


class CompensateForm(Form):
    executed_on = forms.DateField(label=_("代偿日期"), widget=DATE)
    source_document = forms.CharField(label=_("代偿依据文件"), max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("executed_on", timezone.localdate())
        super().__init__(*args, **kwargs)
