"""Forms and list filters of performance evaluation (the FilterSets serve the pages and the API)."""

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import DivisionLevel, Organization, OrganizationKind
from directory.permissions import Capability
from directory.selectors import within_reach
from tmcs.filters import FilterSet, YesNoFilter
from tmcs.forms import Form

from .models import EvaluationScheme, IndicatorKey, PerformanceEvaluation
from .services.performance import COOPERATIVE_LEVELS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LEVEL_CHOICES = [(level.value, level.label) for level in COOPERATIVE_LEVELS]

# Example weights and full-score targets offered on the form. No official method is published
# (guidance 四(四) asks for one to be drawn up), so these are a starting point to be replaced by
# the adopted method's figures, not a rule.
SUGGESTED = {
    IndicatorKey.RESOURCE_ACTIVATION: (Decimal("25"), Decimal("0.6")),
    IndicatorKey.INVESTMENT_ATTRACTED: (Decimal("20"), Decimal("100000000")),
    IndicatorKey.PROJECTS_ADMITTED: (Decimal("10"), Decimal("5")),
    IndicatorKey.FINANCIAL_LEVERAGE: (Decimal("20"), Decimal("10")),
    IndicatorKey.FARMER_INCOME: (Decimal("25"), Decimal("10000000")),
}
TARGET_HELP = {
    IndicatorKey.RESOURCE_ACTIVATION: _("比例，如 0.6 表示盘活率达到 60% 得满分"),
    IndicatorKey.INVESTMENT_ATTRACTED: _("元"),
    IndicatorKey.PROJECTS_ADMITTED: _("个"),
    IndicatorKey.FINANCIAL_LEVERAGE: _("倍，贷款本金 ÷ 风险补偿基金出资"),
    IndicatorKey.FARMER_INCOME: _("元"),
}


def default_period():
    """Last calendar year: a period that is surely over."""
    year = timezone.localdate().year - 1
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


# --- filters ----------------------------------------------------------------------------------


class SchemeFilter(FilterSet):
    q = django_filters.CharFilter(label=_("名称或版本"), method="search")
    is_active = YesNoFilter(label=_("启用"))

    class Meta:
        model = EvaluationScheme
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(version__icontains=value))


def _schemes(request):
    return EvaluationScheme.objects.order_by("-pk")


def _cooperatives(request):
    """Cooperatives the reader may see evaluations of (their oversight reach)."""
    user = getattr(request, "user", None)
    if user is None:
        return Organization.objects.none()
    reach = within_reach(user, "division__code", Capability.VIEW_OVERSIGHT) | within_reach(
        user, "division__code", Capability.MANAGE_OVERSIGHT
    )
    return (
        Organization.objects.filter(reach, kind=OrganizationKind.COOPERATIVE)
        .select_related("division")
        .defer("division__boundary")
        .order_by("division__code")
    )


class EvaluationFilter(FilterSet):
    scheme = django_filters.ModelChoiceFilter(label=_("评价方案"), queryset=_schemes)
    cooperative = django_filters.ModelChoiceFilter(label=_("合作社"), queryset=_cooperatives)
    level = django_filters.ChoiceFilter(
        label=_("合作社级别"), field_name="cooperative__division__level", choices=LEVEL_CHOICES
    )
    period_start = django_filters.DateFilter(label=_("评价期起"), widget=DATE)
    period_end = django_filters.DateFilter(label=_("评价期止（不含）"), widget=DATE)

    class Meta:
        model = PerformanceEvaluation
        fields = ["scheme", "cooperative", "level", "period_start", "period_end"]


# --- forms ------------------------------------------------------------------------------------


class SchemeForm(Form):
    """Name, version, source, and for each indicator a weight (blank = not used), a target and a
    note."""

    name = forms.CharField(label=_("方案名称"), max_length=100)
    version = forms.CharField(label=_("版本"), max_length=20)
    source = forms.CharField(label=_("依据"), max_length=300)

    def __init__(self, *args, **kwargs):
        initial = kwargs.setdefault("initial", {})
        for key, (weight, target) in SUGGESTED.items():
            initial.setdefault(f"{key}_weight", weight)
            initial.setdefault(f"{key}_target", target)
        super().__init__(*args, **kwargs)
        for key in IndicatorKey:
            self.fields[f"{key}_weight"] = forms.DecimalField(
                label=_("%(label)s · 权重（分）") % {"label": key.label},
                min_value=Decimal("0.01"),
                max_digits=6,
                decimal_places=2,
                required=False,
                help_text=_("留空表示本方案不使用该指标"),
            )
            self.fields[f"{key}_target"] = forms.DecimalField(
                label=_("%(label)s · 满分目标值") % {"label": key.label},
                min_value=Decimal("0.000001"),
                max_digits=18,
                decimal_places=6,
                required=False,
                help_text=TARGET_HELP[key],
            )
            self.fields[f"{key}_note"] = forms.CharField(
                label=_("%(label)s · 说明") % {"label": key.label}, max_length=300, required=False
            )

    def clean(self):
        data = super().clean()
        for key in IndicatorKey:
            if data.get(f"{key}_weight") is not None and data.get(f"{key}_target") is None:
                self.add_error(f"{key}_target", _("使用该指标时须填写满分目标值。"))
        return data

    def indicators(self):
        data = self.cleaned_data
        return [
            {
                "key": key.value,
                "weight": data[f"{key}_weight"],
                "target": data[f"{key}_target"],
                "note": data.get(f"{key}_note", ""),
            }
            for key in IndicatorKey
            if data.get(f"{key}_weight") is not None
        ]


class PeriodFields(Form):
    period_start = forms.DateField(label=_("评价期起"), widget=DATE)
    period_end = forms.DateField(
        label=_("评价期止（不含）"),
        widget=DATE,
        help_text=_("评价期为起日（含）至止日（不含），如全年填次年 1 月 1 日"),
    )


class EvaluateForm(PeriodFields):
    ONE, PEERS = "one", "peers"

    scheme = forms.ModelChoiceField(label=_("评价方案"), queryset=EvaluationScheme.objects.none())
    scope = forms.ChoiceField(
        label=_("评价范围"),
        choices=[(ONE, _("单个合作社")), (PEERS, _("同级全部合作社（并排名）"))],
        initial=ONE,
        widget=forms.RadioSelect,
    )
    cooperative = forms.ModelChoiceField(
        label=_("合作社"), queryset=Organization.objects.none(), required=False
    )
    level = forms.ChoiceField(
        label=_("合作社级别"), choices=LEVEL_CHOICES, initial=DivisionLevel.COUNTY, required=False
    )

    def __init__(self, *args, cooperatives, **kwargs):
        start, end = default_period()
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("period_start", start)
        initial.setdefault("period_end", end)
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = EvaluationScheme.objects.filter(is_active=True).order_by("-pk")
        self.fields["cooperative"].queryset = cooperatives
        self.fields["scope"].widget.attrs["class"] = "form-check-input"  # not the mixin's form-control
        self.order_fields(["scheme", "scope", "cooperative", "level", "period_start", "period_end"])

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.ONE and not data.get("cooperative"):
            self.add_error("cooperative", _("请选择要评价的合作社。"))
        if data.get("scope") == self.PEERS and not data.get("level"):
            self.add_error("level", _("请选择合作社级别。"))
        return data


class ComparisonForm(PeriodFields):
    level = forms.ChoiceField(label=_("合作社级别"), choices=LEVEL_CHOICES, initial=DivisionLevel.COUNTY)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end <= start:
            self.add_error("period_end", _("评价期止须晚于评价期起。"))
        return data
