"""Forms and list filters of green insurance (the FilterSets serve the pages and the API).
greenfinance.services.insurance checks everything again."""

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability
from directory.selectors import within_reach
from finance.forms.products import PercentField
from finance.models import InsuranceKind
from tmcs.filters import FilterSet
from tmcs.forms import Form

from .models import ClaimStatus, InsuranceClaim, InsurancePolicy, PolicyStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 16, "decimal_places": 2}
MAX_DAYS_AHEAD = 3650


def party_label(party):
    if party.person_id:
        return f"{party.person.name}（{_('自然人')}）"
    return f"{party.organization.name}（{party.organization.get_kind_display()}）"


# --- filters ----------------------------------------------------------------------------------


def _readable_divisions(request):
    if request is None or not request.user.is_authenticated:
        return AdministrativeDivision.objects.none()
    user = request.user
    reach = within_reach(user, "code", Capability.MANAGE_GREEN_FINANCE) | within_reach(
        user, "code", Capability.VIEW_OVERSIGHT
    )
    return AdministrativeDivision.objects.filter(reach).defer("boundary").order_by("code")


def _insurers(request):
    from .selectors_insurance import insurers

    return insurers() if request is not None else Organization.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class DaysFilter(django_filters.Filter):
    field_class = forms.IntegerField


@extend_schema_field(OpenApiTypes.STR)
class DivisionFilter(django_filters.ModelChoiceFilter):
    """A division by its code; the rows of its whole subtree."""

    def __init__(self, *, field, **kwargs):
        self.division_field = field
        kwargs.setdefault("label", _("区划（含下级）"))
        super().__init__(queryset=_readable_divisions, to_field_name="code", **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.division_field}__code__startswith": value.prefix})


class PolicyFilter(FilterSet):
    q = django_filters.CharFilter(label=_("保单号或被保险人"), method="search")
    kind = django_filters.ChoiceFilter(label=_("险种"), choices=InsuranceKind.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=PolicyStatus.choices)
    insurer = django_filters.ModelChoiceFilter(label=_("保险机构"), queryset=_insurers)
    division = DivisionFilter(field="division")
    expiring_within = DaysFilter(
        label=_("N 天内到期"), method="expiring", min_value=0, max_value=MAX_DAYS_AHEAD
    )
    application = django_filters.NumberFilter(field_name="application", widget=forms.HiddenInput)
    loan = django_filters.NumberFilter(field_name="loan", widget=forms.HiddenInput)

    class Meta:
        model = InsurancePolicy
        fields = ["q", "kind", "status", "insurer", "division", "expiring_within", "application", "loan"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value)
            | Q(insured__person__name__icontains=value)
            | Q(insured__organization__name__icontains=value)
        )

    def expiring(self, queryset, name, value):
        from .selectors_insurance import expiring_within

        return expiring_within(queryset, value) if value is not None else queryset


class ClaimFilter(FilterSet):
    q = django_filters.CharFilter(label=_("理赔编号或保单号"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ClaimStatus.choices)
    kind = django_filters.ChoiceFilter(
        label=_("险种"), field_name="policy__kind", choices=InsuranceKind.choices
    )
    division = DivisionFilter(field="policy__division")
    incident_after = django_filters.DateFilter(
        label=_("出险日期起"), field_name="incident_date", lookup_expr="gte", widget=DATE
    )
    policy = django_filters.NumberFilter(field_name="policy", widget=forms.HiddenInput)

    class Meta:
        model = InsuranceClaim
        fields = ["q", "status", "kind", "division", "incident_after", "policy"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(policy__number__icontains=value))


# --- policies ---------------------------------------------------------------------------------


class PolicyForm(Form):
    number = forms.CharField(label=_("保单号"), max_length=40, help_text=_("保险机构出具的保单号码。"))
    kind = forms.ChoiceField(label=_("险种"), choices=InsuranceKind.choices)
    insurer = forms.ModelChoiceField(label=_("保险机构"), queryset=Organization.objects.none())
    insured = forms.ModelChoiceField(label=_("被保险人"), queryset=None)
    beneficiary = forms.ModelChoiceField(
        label=_("第一受益人"), queryset=None, required=False, help_text=_("如贷款银行；可不填。")
    )
    division = forms.ModelChoiceField(label=_("所在区划"), queryset=AdministrativeDivision.objects.none())
    sum_insured = forms.DecimalField(label=_("保险金额（元）"), min_value=Decimal("0.01"), **MONEY)
    premium = forms.DecimalField(label=_("保费（元）"), min_value=Decimal("0"), **MONEY)
    subsidy_rate = PercentField(
        label=_("财政补贴比例（%）"), initial=0, help_text=_("如 60 表示保费的 60% 由财政补贴。")
    )
    start_date = forms.DateField(label=_("保险起期"), widget=DATE)
    end_date = forms.DateField(
        label=_("保险止期（不含）"), widget=DATE, help_text=_("保障至该日零时止，如一年期保单填次年同日。")
    )
    assets = forms.ModelMultipleChoiceField(
        label=_("保险标的（资源资产）"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    application = forms.ModelChoiceField(label=_("关联贷款申请"), queryset=None, required=False)
    loan = forms.ModelChoiceField(label=_("关联贷款"), queryset=None, required=False)
    project = forms.ModelChoiceField(label=_("关联重点项目"), queryset=None, required=False)
    terms = forms.CharField(
        label=_("主要条款"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, **kwargs):
        from . import selectors_insurance as selectors

        super().__init__(*args, **kwargs)
        self.fields["insurer"].queryset = selectors.insurers()
        self.fields["insured"].queryset = selectors.insured_candidates(user)
        self.fields["insured"].label_from_instance = party_label
        self.fields["beneficiary"].queryset = selectors.beneficiary_candidates(user)
        self.fields["beneficiary"].label_from_instance = party_label
        self.fields["division"].queryset = selectors.desk_divisions(user)
        self.fields["assets"].queryset = selectors.insurable_assets(user)
        self.fields["assets"].label_from_instance = lambda a: f"{a.code} {a.name}（{a.division.name}）"
        self.fields["application"].queryset = selectors.linkable_applications(user)
        self.fields["application"].label_from_instance = lambda a: f"{a.number} · {a.applicant}"
        self.fields["loan"].queryset = selectors.linkable_loans(user)
        self.fields["loan"].label_from_instance = lambda loan: f"{loan.number} · {loan.borrower}"
        self.fields["project"].queryset = selectors.linkable_projects(user)
        self.fields["project"].label_from_instance = lambda p: f"{p.number} {p.name}"

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("保险止期须晚于保险起期。"))
        return data


def policy_initial(params):
    """Initial values from the query string (?application=…, ?loan=…, ?asset=…, ?project=…): a
    policy recorded from a loan or an asset page starts linked to it."""
    today = timezone.localdate()
    try:
        a_year_on = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        a_year_on = today + datetime.timedelta(days=365)
    initial = {"start_date": today, "end_date": a_year_on}
    for name in ("application", "loan", "project"):
        if str(params.get(name, "")).isdigit():
            initial[name] = int(params[name])
    if str(params.get("asset", "")).isdigit():
        initial["assets"] = [int(params["asset"])]
    return initial


class CancelForm(Form):
    on = forms.DateField(label=_("退保生效日期"), widget=DATE, help_text=_("自该日零时起不再承保。"))
    reason = forms.CharField(label=_("退保原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("on", timezone.localdate())
        super().__init__(*args, **kwargs)


# --- claims -----------------------------------------------------------------------------------


class ClaimForm(Form):
    incident_date = forms.DateField(label=_("出险日期"), widget=DATE)
    cause = forms.CharField(label=_("出险原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    claimed_amount = forms.DecimalField(label=_("报损金额（元）"), min_value=Decimal("0.01"), **MONEY)
    asset = forms.ModelChoiceField(label=_("出险标的"), queryset=None, required=False)

    def __init__(self, *args, policy, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = policy.assets.defer("geometry").order_by("code")
        self.fields["asset"].label_from_instance = lambda a: f"{a.code} {a.name}"


class ApproveForm(Form):
    approved_amount = forms.DecimalField(label=_("核定赔款（元）"), min_value=Decimal("0.01"), **MONEY)
    note = forms.CharField(
        label=_("核赔说明"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(Form):
    note = forms.CharField(label=_("说明"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class PayoutForm(Form):
    amount = forms.DecimalField(label=_("赔付金额（元）"), min_value=Decimal("0.01"), **MONEY)
    paid_on = forms.DateField(label=_("赔付日期"), widget=DATE)
    payee = forms.ModelChoiceField(label=_("领款人"), queryset=None)
    reference = forms.CharField(label=_("赔付凭证号"), max_length=60)

    def __init__(self, *args, claim, **kwargs):
        from directory.models import Party

        policy = claim.policy
        left = (claim.approved_amount or Decimal("0")) - claim.paid_amount
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("paid_on", timezone.localdate())
        initial.setdefault("amount", left)
        initial.setdefault("payee", policy.insured_id)
        super().__init__(*args, **kwargs)
        ids = [pk for pk in (policy.insured_id, policy.beneficiary_id) if pk]
        self.fields["payee"].queryset = Party.objects.filter(pk__in=ids).select_related(
            "person", "organization"
        )
        self.fields["payee"].label_from_instance = party_label
