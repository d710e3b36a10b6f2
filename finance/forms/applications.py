"""Forms and the list filters of loan applications and collateral appraisals (the FilterSets serve
the pages and the API alike). The services validate everything again."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import Organization, OrganizationKind
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import (
    ApplicationStatus,
    CollateralAppraisal,
    LoanApplication,
    LoanProduct,
    PaymentFrequency,
    RepaymentMethod,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _visible_products(request):
    if request is None:
        return LoanProduct.objects.none()
    from ..selectors_applications import visible_products

    return visible_products(request.user)


def _visible_banks(request):
    if request is None:
        return Organization.objects.none()
    return Organization.objects.filter(
        kind=OrganizationKind.BANK, pk__in=_visible_products(request).values("bank")
    ).order_by("name")


class ApplicationFilter(FilterSet):
    q = django_filters.CharFilter(label=_("申请编号或申请人"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ApplicationStatus.choices)
    product = django_filters.ModelChoiceFilter(label=_("贷款产品"), queryset=_visible_products)
    bank = django_filters.ModelChoiceFilter(
        label=_("贷款银行"), field_name="product__bank", queryset=_visible_banks
    )
    division = WithinDivisionFilter(label=_("受理区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = LoanApplication
        fields = ["q", "status", "product", "bank", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(applicant__person__name__icontains=value)
            | Q(applicant__organization__name__icontains=value)
        )


class AppraisalFilter(FilterSet):
    q = django_filters.CharFilter(label=_("评估编号或资源编号"), method="search")
    product = django_filters.ModelChoiceFilter(label=_("贷款产品"), queryset=_visible_products)
    application = django_filters.CharFilter(label=_("申请编号"), field_name="application__number")

    class Meta:
        model = CollateralAppraisal
        fields = ["q", "product", "application"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(asset__code__iexact=value))


def _party_label(party):
    if party.person_id:
        return f"{party.person.name}（{_('自然人')}）"
    return f"{party.organization.name}（{party.organization.get_kind_display()}）"


def _right_label(right):
    holder = right.holder.person.name if right.holder.person_id else right.holder.organization.name
    return f"{right.asset.code} {right.asset.name} · {right.get_kind_display()} · {holder} · {right.share_display}"


class ApplicationForm(Form):
    applicant = forms.ModelChoiceField(label=_("申请人"), queryset=None)
    product = forms.ModelChoiceField(label=_("贷款产品"), queryset=None)
    amount = forms.DecimalField(
        label=_("申请金额（元）"), min_value=Decimal("0.01"), max_digits=16, decimal_places=2
    )
    term_months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=600)
    repayment_method = forms.ChoiceField(label=_("还款方式"), choices=RepaymentMethod.choices)
    payment_frequency = forms.ChoiceField(label=_("还款频率"), choices=PaymentFrequency.choices)
    annual_rate_percent = forms.DecimalField(
        label=_("年利率（%）"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("24"),
        max_digits=8,
        decimal_places=4,
        help_text=_("如 3.6 表示年利率 3.6%，须在产品利率区间内。"),
    )
    purpose = forms.CharField(label=_("贷款用途"), max_length=300)
    rights = forms.ModelMultipleChoiceField(
        label=_("抵质押权利"),
        queryset=None,
        required=False,
        help_text=_("须为申请人持有的有效权利；信用类产品可不选。"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    consent_document = forms.CharField(
        label=_("授权书编号"),
        max_length=100,
        required=False,
        help_text=_("申请人为自然人时必填：其签署的个人信息查询使用授权书编号。"),
    )

    def __init__(self, *args, user, editing=False, **kwargs):
        from ..selectors_applications import active_products, applicants_for, pledgeable_rights_for

        super().__init__(*args, **kwargs)
        self.fields["applicant"].queryset = applicants_for(user)
        self.fields["applicant"].label_from_instance = _party_label
        self.fields["product"].queryset = active_products()
        self.fields["product"].label_from_instance = lambda p: f"{p.name}（{p.bank.name}）"
        self.fields["rights"].queryset = pledgeable_rights_for(user)
        self.fields["rights"].label_from_instance = _right_label
        if editing:  # the applicant decides the division: a new applicant is a new application
            del self.fields["applicant"]

    def service_values(self):
        data = dict(self.cleaned_data)
        data["annual_rate"] = data.pop("annual_rate_percent") / 100
        data["rights"] = list(data["rights"])
        return data


class CheckForm(Form):
    approve = forms.TypedChoiceField(
        label=_("复核结论"),
        choices=[("1", _("复核通过，提交银行审批")), ("0", _("退回经办人修改"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("复核意见"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(Form):
    approve = forms.TypedChoiceField(
        label=_("审批结论"),
        choices=[("1", _("批准")), ("0", _("拒绝"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    approved_amount = forms.DecimalField(
        label=_("批准金额（元）"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        help_text=_("不填则按申请金额批准；不能超过申请金额。"),
    )
    note = forms.CharField(
        label=_("银行意见"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawForm(Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class AppraiseForm(Form):
    right = forms.ModelChoiceField(label=_("权利"), queryset=None)
    product = forms.ModelChoiceField(label=_("贷款产品"), queryset=None)
    appraised_on = forms.DateField(
        label=_("评估基准日"), widget=DATE, required=False, help_text=_("不填为今天。")
    )
    appraiser_licence_no = forms.CharField(label=_("评估资质编号"), max_length=50, required=False)

    def __init__(self, *args, user, rights=None, products=None, **kwargs):
        from ..selectors_applications import active_products, pledgeable_rights_for

        super().__init__(*args, **kwargs)
        self.fields["right"].queryset = rights if rights is not None else pledgeable_rights_for(user)
        self.fields["right"].label_from_instance = _right_label
        self.fields["product"].queryset = products if products is not None else active_products()
        self.fields["product"].label_from_instance = lambda p: f"{p.name}（{p.bank.name}）"
