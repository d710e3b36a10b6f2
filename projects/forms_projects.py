"""Forms and list filters of the key project list (the FilterSets serve the pages and the API).
The services validate everything again; these forms check shapes and turn codes into records."""

import re
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision, DivisionLevel, Organization
from directory.permissions import Capability, memberships_with
from directory.selectors import within_reach
from finance.models import Loan
from resources.models import Asset
from tmcs.filters import FilterSet
from tmcs.forms import Form
from transactions.models import ResourcePackage

from .models import (
    CriteriaSet,
    CriteriaStatus,
    CriterionCheck,
    EvaluationOutcome,
    ExitReason,
    KeyProject,
    ProjectCategory,
    ProjectStatus,
    ReviewDecision,
)
from .services.projects import OWNER_KINDS, county_scope

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 16, "decimal_places": 2}
SPLIT = re.compile(r"[\s,，、;；]+")


# --- filters --------------------------------------------------------------------------------------


class ProjectFilter(FilterSet):
    q = django_filters.CharFilter(label=_("项目编号、名称或业主"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ProjectStatus.choices)
    category = django_filters.ChoiceFilter(label=_("项目类型"), choices=ProjectCategory.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = KeyProject
        fields = ["q", "status", "category", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value) | Q(name__icontains=value) | Q(owner__name__icontains=value)
        )


def _counties(request):
    return (
        AdministrativeDivision.objects.filter(level=DivisionLevel.COUNTY).defer("boundary").order_by("code")
    )


class ShowcaseFilter(FilterSet):
    category = django_filters.ChoiceFilter(label=_("项目类型"), choices=ProjectCategory.choices)
    county = WithinDivisionFilter(label=_("县（市、区）"), field_name="division", queryset=_counties)

    class Meta:
        model = KeyProject
        fields = ["category", "county"]


class CriteriaFilter(FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=CriteriaStatus.choices)

    class Meta:
        model = CriteriaSet
        fields = ["status"]


# --- criteria sets ----------------------------------------------------------------------------------


class CriteriaSetForm(Form):
    name = forms.CharField(label=_("标准名称"), max_length=100)
    version = forms.CharField(label=_("版本号"), max_length=20, help_text=_("如 2026-1；发布后不可修改。"))
    source = forms.CharField(
        label=_("制定依据"), max_length=300, help_text=_("如重点项目管理办法的名称及文号。")
    )


class CriterionForm(Form):
    code = forms.CharField(label=_("编号"), max_length=20, required=False)
    title = forms.CharField(label=_("标准"), max_length=200, required=False)
    method = forms.ChoiceField(label=_("评定方式"), choices=CriterionCheck.choices, required=False)
    threshold = forms.DecimalField(
        label=_("阈值"),
        max_digits=18,
        decimal_places=6,
        required=False,
        help_text=_(
            "总投资（元）、社会资本占比（0–1）、回溯月数或信用分；人工评定、占补平衡与确权登记不填。"
        ),
    )
    applies_to_evaluation = forms.BooleanField(label=_("定期评价时复核"), required=False, initial=True)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 1}))

    def is_blank(self):
        data = self.cleaned_data
        return not (data.get("code") or data.get("title"))


CriterionFormSet = forms.formset_factory(CriterionForm, extra=3, max_num=30, validate_max=True)


def criteria_formset(data=None, criteria_set=None):
    initial = None
    if criteria_set is not None:
        initial = [
            {
                "code": c.code,
                "title": c.title,
                "method": c.method,
                "threshold": c.threshold,
                "applies_to_evaluation": c.applies_to_evaluation,
                "description": c.description,
            }
            for c in criteria_set.criteria.all()
        ]
    return CriterionFormSet(data, initial=initial, prefix="criteria")


def criteria_rows(formset):
    """The non-blank rows of a valid formset as the service expects them."""
    return [form.cleaned_data for form in formset.forms if form.cleaned_data and not form.is_blank()]


# --- projects ----------------------------------------------------------------------------------------


def _codes(value):
    return [code for code in SPLIT.split(value or "") if code]


class ProjectForm(Form):
    owner = forms.ModelChoiceField(label=_("项目业主"), queryset=Organization.objects.none())
    division = forms.ModelChoiceField(label=_("所在区划"), queryset=AdministrativeDivision.objects.none())
    name = forms.CharField(label=_("项目名称"), max_length=200)
    category = forms.ChoiceField(label=_("项目类型"), choices=ProjectCategory.choices)
    summary = forms.CharField(label=_("项目简介"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    description = forms.CharField(
        label=_("建设内容"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    total_investment = forms.DecimalField(label=_("计划总投资（元）"), min_value=Decimal("0.01"), **MONEY)
    social_capital = forms.DecimalField(
        label=_("其中社会资本（元）"), min_value=Decimal("0"), initial=0, **MONEY
    )
    expected_gep_gain = forms.DecimalField(
        label=_("预期 GEP 增量（元/年）"), min_value=Decimal("0"), initial=0, **MONEY
    )
    planned_start = forms.DateField(label=_("计划开工"), widget=DATE)
    planned_end = forms.DateField(label=_("计划完工"), widget=DATE)
    assets = forms.CharField(
        label=_("关联资源（资源编号）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("多个编号用逗号、空格或换行分隔；须在项目所在区划内。"),
    )
    packages = forms.CharField(label=_("关联资源包（资源包编号）"), required=False)
    loans = forms.CharField(
        label=_("关联贷款（借据编号）"),
        required=False,
        help_text=_("须为业主本身的借款，或以项目关联资源质押的贷款，且在项目所在县受理。"),
    )
    consumptions = forms.CharField(
        label=_("GEP 占用"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一项：资源编号, 占用比例（0–1）, 说明。例如：ZY001, 0.25, 林地转为建设用地"),
    )
    showcase_contact = forms.CharField(
        label=_("招商联系方式"),
        max_length=100,
        required=False,
        help_text=_("入库后在招商推介页公开展示，请填写单位电话或邮箱，勿填个人手机。"),
    )

    def __init__(self, *args, user, project=None, **kwargs):
        if project is not None:
            kwargs.setdefault("initial", {}).update(project_initial(project))
        super().__init__(*args, **kwargs)
        self.user = user
        own = [m.organization for m in _owner_memberships_of(user)]
        staff_divisions = AdministrativeDivision.objects.filter(
            within_reach(user, "code", Capability.MANAGE_PROJECTS)
        )
        if own and not staff_divisions.exists():
            self.fields["owner"].queryset = Organization.objects.filter(pk__in=[o.pk for o in own])
            prefixes = Q(pk__in=[])
            for organization in own:
                prefixes |= Q(code__startswith=county_scope(organization.division))
            divisions = AdministrativeDivision.objects.filter(prefixes)
        else:
            self.fields["owner"].queryset = Organization.objects.filter(
                kind__in=OWNER_KINDS, is_active=True
            ).order_by("kind", "name")
            divisions = staff_divisions
        self.fields["division"].queryset = divisions.defer("boundary").order_by("code")
        if project is not None:
            self.fields["owner"].disabled = True  # a different owner is a different project

    @staticmethod
    def _lookup(queryset, key, codes):
        wanted = Q(pk__in=[])
        for code in codes:
            wanted |= Q(**{f"{key}__iexact": code})
        found = {getattr(obj, key).upper(): obj for obj in queryset.filter(wanted)}
        if len(found) < len({c.upper() for c in codes}):
            unknown = [c for c in codes if c.upper() not in found]
            raise forms.ValidationError(_("找不到以下编号：%(codes)s") % {"codes": "、".join(unknown)})
        return list({obj.pk: obj for obj in found.values()}.values())

    def clean_assets(self):
        codes = _codes(self.cleaned_data.get("assets"))
        return self._lookup(Asset.objects.defer("geometry"), "code", codes) if codes else []

    def clean_packages(self):
        codes = _codes(self.cleaned_data.get("packages"))
        return self._lookup(ResourcePackage.objects.all(), "code", codes) if codes else []

    def clean_loans(self):
        codes = _codes(self.cleaned_data.get("loans"))
        return self._lookup(Loan.objects.all(), "number", codes) if codes else []

    def clean_consumptions(self):
        rows = []
        for number, line in enumerate((self.cleaned_data.get("consumptions") or "").splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in re.split(r"[,，]", line, maxsplit=2)]
            if len(parts) != 3 or not all(parts):
                raise forms.ValidationError(
                    _("第 %(n)s 行格式应为：资源编号, 占用比例, 说明") % {"n": number}
                )
            code, fraction, note = parts
            asset = Asset.objects.filter(code__iexact=code).defer("geometry").first()
            if asset is None:
                raise forms.ValidationError(
                    _("第 %(n)s 行：找不到资源 %(code)s") % {"n": number, "code": code}
                )
            rows.append((asset, fraction, note))
        return rows

    def service_values(self):
        data = dict(self.cleaned_data)
        data.pop("owner", None)
        return data


def _owner_memberships_of(user):
    return memberships_with(user, Capability.APPLY_PROJECTS)


def project_initial(project):
    return {
        "owner": project.owner_id,
        "division": project.division_id,
        "name": project.name,
        "category": project.category,
        "summary": project.summary,
        "description": project.description,
        "total_investment": project.total_investment,
        "social_capital": project.social_capital,
        "expected_gep_gain": project.expected_gep_gain,
        "planned_start": project.planned_start,
        "planned_end": project.planned_end,
        "assets": " ".join(project.assets.order_by("code").values_list("code", flat=True)),
        "packages": " ".join(project.packages.order_by("code").values_list("code", flat=True)),
        "loans": " ".join(project.loans.order_by("number").values_list("number", flat=True)),
        "consumptions": "\n".join(
            f"{c.asset.code}, {c.fraction.normalize()}, {c.note}"
            for c in project.consumptions.select_related("asset").order_by("pk")
        ),
        "showcase_contact": project.showcase_contact,
    }


# --- review, evaluation, exit --------------------------------------------------------------------


MARKS = [("", _("未评定")), ("met", _("符合")), ("not_met", _("不符合"))]


class _ManualMarks(Form):
    """One pair of fields (mark, reason) per manual criterion."""

    def __init__(self, *args, manual_criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.manual_criteria = list(manual_criteria)
        for criterion in self.manual_criteria:
            self.fields[f"mark_{criterion.pk}"] = forms.ChoiceField(
                label=f"{criterion.code} {criterion.title}", choices=MARKS, required=False
            )
            self.fields[f"mark_{criterion.pk}"].widget.attrs["class"] = "form-select"
            self.fields[f"reason_{criterion.pk}"] = forms.CharField(
                label=_("%(code)s 评定理由") % {"code": criterion.code}, max_length=300, required=False
            )
            self.fields[f"reason_{criterion.pk}"].widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        for criterion in self.manual_criteria:
            if data.get(f"mark_{criterion.pk}") and not (data.get(f"reason_{criterion.pk}") or "").strip():
                self.add_error(f"reason_{criterion.pk}", _("请填写评定理由。"))
        return data

    def manual(self):
        marks = {}
        for criterion in self.manual_criteria:
            mark = self.cleaned_data.get(f"mark_{criterion.pk}")
            if mark:
                marks[criterion.code] = {
                    "met": mark == "met",
                    "reason": self.cleaned_data.get(f"reason_{criterion.pk}", ""),
                }
        return marks

    def mark_fields(self):
        return [(self[f"mark_{c.pk}"], self[f"reason_{c.pk}"]) for c in self.manual_criteria]


class ReviewForm(_ManualMarks):
    decision = forms.ChoiceField(
        label=_("审核结论"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("审核意见"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不予入库或退回修改时必填。"),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("decision") in (ReviewDecision.REJECT, ReviewDecision.RETURN)
            and not (data.get("note") or "").strip()
        ):
            self.add_error("note", _("不予入库或退回修改时请填写审核意见。"))
        return data


class EvaluationForm(_ManualMarks):
    period_start = forms.DateField(label=_("评价期起"), widget=DATE)
    period_end = forms.DateField(label=_("评价期止"), widget=DATE)
    investment_to_date = forms.DecimalField(label=_("累计完成投资（元）"), min_value=Decimal("0"), **MONEY)
    jobs_created = forms.IntegerField(label=_("带动就业（人）"), min_value=0, max_value=1_000_000, initial=0)
    progress_note = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(label=_("评价结论"), choices=EvaluationOutcome.choices)
    note = forms.CharField(label=_("评价意见"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("period_end", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.order_fields(
            [
                "period_start",
                "period_end",
                "investment_to_date",
                "jobs_created",
                "progress_note",
                "outcome",
                "note",
            ]
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end <= start:
            self.add_error("period_end", _("评价期止须晚于评价期起。"))
        return data


class ExitForm(Form):
    reason = forms.ChoiceField(label=_("退库原因"), choices=ExitReason.choices)
    exited_on = forms.DateField(label=_("退库日期"), widget=DATE)
    note = forms.CharField(
        label=_("退库说明"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("因违法违规退库而平台无违规记录时，请写明处罚决定书文号等依据。"),
    )

    def __init__(self, *args, owner_only=False, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("exited_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        if owner_only:
            self.fields["reason"].choices = [(ExitReason.OWNER_REQUEST, ExitReason.OWNER_REQUEST.label)]


class WithdrawForm(Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ShowcaseForm(Form):
    showcase = forms.BooleanField(label=_("在招商推介页展示"), required=False)
    contact = forms.CharField(
        label=_("招商联系方式"),
        max_length=100,
        required=False,
        help_text=_("公开展示，请填写单位电话或邮箱，勿填个人手机。"),
    )
