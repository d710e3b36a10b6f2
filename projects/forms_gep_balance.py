"""Forms of the GEP balance (占补平衡) ledger and the entry filter shared by the pages and the API.
The forms check what can be checked at the edge; the services check everything again."""

from decimal import Decimal

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from directory.models import AdministrativeDivision, DivisionLevel
from directory.permissions import Capability
from directory.selectors import within_reach
from tmcs.filters import FilterSet
from tmcs.forms import Form
from valuation.models import AccountingRun

from .models import GepBalanceEntry, GepEntryKind, KeyProject
from .services.gep_balance import ALL_CATEGORIES, MAX_OFFSET_RATIO

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# in the order of services.gep_balance.ALL_CATEGORIES
CATEGORY_CHOICES = [
    ("material", _("物质产品")),
    ("regulating", _("调节服务")),
    ("cultural", _("文化服务")),
]
RULE_LEVELS = (DivisionLevel.CITY, DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP)


def run_label(run):
    return (
        f"#{run.pk} {run.division.name} {run.year} 年（{run.get_price_basis_display()}，{run.parameter_set}）"
    )


class RunChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return run_label(obj)


class AssetChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}（{obj.division.name}）"


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} {obj.name}"


# --- filter -------------------------------------------------------------------------------------


class EntryFilter(FilterSet):
    division = django_filters.NumberFilter(label=_("平衡区划（id）"), field_name="division_id")
    division_code = django_filters.CharFilter(label=_("平衡区划代码"), field_name="division__code")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=GepEntryKind.choices)
    project = django_filters.NumberFilter(label=_("项目（id）"), field_name="project_id")
    occurred_after = django_filters.DateFilter(
        label=_("业务日期起"), field_name="occurred_on", lookup_expr="gte", widget=DATE
    )
    occurred_before = django_filters.DateFilter(
        label=_("业务日期止"), field_name="occurred_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = GepBalanceEntry
        fields = ["division", "division_code", "kind", "project", "occurred_after", "occurred_before"]


# --- rule ---------------------------------------------------------------------------------------


class RuleForm(Form):
    division = forms.ModelChoiceField(label=_("平衡区划"), queryset=AdministrativeDivision.objects.none())
    offset_ratio = forms.DecimalField(
        label=_("占补比例"),
        min_value=Decimal("1"),
        max_value=MAX_OFFSET_RATIO,
        max_digits=12,
        decimal_places=6,
        help_text=_("每占用 1 元 GEP 需要的补充 GEP（元），不小于 1，如 1.2。"),
    )
    categories = forms.MultipleChoiceField(
        label=_("计入的 GEP 类别"), choices=CATEGORY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    warning_balance = forms.DecimalField(
        label=_("余额预警线（元）"), min_value=Decimal("0"), max_digits=16, decimal_places=2
    )
    effective_from = forms.DateField(
        label=_("生效日期"),
        widget=DATE,
        help_text=_("规则发布后不可修改；新版本自生效日期起取代旧版本，且须晚于台账最后记账日。"),
    )
    source = forms.CharField(label=_("依据"), max_length=300, help_text=_("文件名称及文号。"))

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("effective_from", timezone.localdate())
        kwargs["initial"].setdefault("categories", list(ALL_CATEGORIES))
        kwargs["initial"].setdefault("offset_ratio", Decimal("1.0"))
        kwargs["initial"].setdefault("warning_balance", Decimal("0"))
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = (
            AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.MANAGE_OVERSIGHT))
            .filter(level__in=RULE_LEVELS)
            .defer("boundary")
            .order_by("code")
        )
        self.fields["categories"].widget.attrs["class"] = ""  # checkboxes render their own classes


# --- credits ------------------------------------------------------------------------------------


class _CreditForm(Form):
    occurred_on = forms.DateField(label=_("业务日期"), widget=DATE)
    memo = forms.CharField(label=_("摘要"), max_length=300)

    def __init__(self, *args, division, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.division = division

    def clean_occurred_on(self):
        value = self.cleaned_data["occurred_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("业务日期不能晚于今天。"))
        return value


class RestorationForm(_CreditForm):
    baseline_run = RunChoiceField(label=_("基期核算批次"), queryset=AccountingRun.objects.none())
    run = RunChoiceField(label=_("核算批次"), queryset=AccountingRun.objects.none())
    assets = AssetChoiceField(
        label=_("修复的资源"),
        queryset=None,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("所选资源须在两个批次中都有核算结果；GEP 下降的资源同样计入并冲减合计。"),
    )
    project = ProjectChoiceField(
        label=_("关联项目（可选）"), queryset=KeyProject.objects.none(), required=False
    )

    field_order = ["baseline_run", "run", "assets", "project", "occurred_on", "memo"]

    def __init__(self, *args, runs, assets, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["baseline_run"].queryset = runs
        self.fields["run"].queryset = runs
        self.fields["assets"].queryset = assets
        self.fields["project"].queryset = projects

    def clean(self):
        data = super().clean()
        base, run = data.get("baseline_run"), data.get("run")
        if base and run and run.year <= base.year:
            self.add_error("run", _("核算批次的年份须晚于基期批次的年份。"))
        return data


class ProtectionForm(_CreditForm):
    run = RunChoiceField(
        label=_("核算批次"),
        queryset=AccountingRun.objects.none(),
        help_text=_("须为所选资源最新的已采纳核算。"),
    )
    assets = AssetChoiceField(
        label=_("新增保护的资源"), queryset=None, widget=forms.SelectMultiple(attrs={"size": 10})
    )
    protection_document = forms.CharField(
        label=_("保护依据"), max_length=300, help_text=_("划定或批准保护的文件名称及文号。")
    )

    field_order = ["run", "assets", "protection_document", "occurred_on", "memo"]

    def __init__(self, *args, runs, assets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["run"].queryset = runs
        self.fields["assets"].queryset = assets


class ReleaseForm(Form):
    project = ProjectChoiceField(
        label=pgettext_lazy("key project", "项目"), queryset=KeyProject.objects.none()
    )
    occurred_on = forms.DateField(label=_("返还日期"), widget=DATE)
    reason = forms.CharField(
        label=_("返还原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("说明占用未实际发生（或已恢复）的情况；建成达效退库的项目不予返还。"),
    )

    def __init__(self, *args, projects, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects


class ReverseForm(Form):
    reason = forms.CharField(label=_("冲正原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
