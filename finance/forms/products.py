"""The loan product form (rates and ratios are entered in per cent, stored as fractions) and the
product list filter shared by the page and the API. finance.services.products checks again."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Organization, OrganizationKind
from resources.models import ResourceType, RightKind
from resources.services import PLEDGEABLE_RIGHT_KINDS
from tmcs.filters import FilterSet, YesNoFilter
from tmcs.forms import Form

from ..models import (
    DayCount,
    GuaranteeRequirement,
    InsuranceKind,
    LoanKind,
    LoanProduct,
    PaymentFrequency,
    RepaymentMethod,
    RiskSharingScheme,
)

HUNDRED = Decimal("100")
PERCENT_FIELDS = (
    "max_ltv",
    "haircut",
    "income_share_of_gep",
    "discount_rate",
    "rate_min",
    "rate_max",
    "penalty_markup",
)


class PercentField(forms.DecimalField):
    """A ratio typed in per cent (3.6 → 0.036); up to 4 decimals of a per cent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", HUNDRED)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else value / HUNDRED


def _visible_banks(request):
    if request is None:
        return Organization.objects.none()
    from ..selectors_products import products_for

    return Organization.objects.filter(
        kind=OrganizationKind.BANK, pk__in=products_for(request.user).values("bank")
    ).order_by("name")


class ProductFilter(FilterSet):
    q = django_filters.CharFilter(label=_("产品代码或名称"), method="search")
    kind = django_filters.ChoiceFilter(label=_("产品类型"), choices=LoanKind.choices)
    bank = django_filters.ModelChoiceFilter(label=_("贷款银行"), queryset=_visible_banks)
    is_active = YesNoFilter(label=_("在售"))

    class Meta:
        model = LoanProduct
        fields = ["q", "kind", "bank", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__iexact=value) | Q(name__icontains=value))


PLEDGEABLE_CHOICES = [
    *((kind.value, kind.label) for kind in RightKind if kind in PLEDGEABLE_RIGHT_KINDS),
    # a savings slip's income right: the service accepts it for a 生态资源储蓄贷 only
    (RightKind.INCOME.value, _("收益权（生态资源储蓄单，仅限生态资源储蓄贷）")),
]


class ProductForm(Form):
    bank = forms.ModelChoiceField(label=_("贷款银行"), queryset=Organization.objects.none())
    code = forms.CharField(
        label=_("产品代码"), max_length=30, help_text=_("字母、数字、“-”或“_”，本行内唯一")
    )
    name = forms.CharField(label=_("产品名称"), max_length=100)
    kind = forms.ChoiceField(label=_("产品类型"), choices=LoanKind.choices)
    description = forms.CharField(
        label=_("产品说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    guarantee_requirement = forms.ChoiceField(label=_("担保要求"), choices=GuaranteeRequirement.choices)
    eligible_right_kinds = forms.MultipleChoiceField(
        label=_("可抵质押的权利类型"),
        choices=PLEDGEABLE_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": len(PLEDGEABLE_CHOICES)}),
        help_text=_(
            "需要抵质押的产品至少选择一种；宅基地使用权、集体土地所有权不能抵押（民法典第 399 条）。"
        ),
    )
    eligible_resource_types = forms.ModelMultipleChoiceField(
        label=_("可抵质押的资源类型"),
        queryset=ResourceType.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("不选表示不限资源类型。"),
    )
    max_ltv = PercentField(label=_("最高抵押率（%）"), help_text=_("大于 0，不超过 100。"))
    haircut = PercentField(label=_("估值折扣率（%）"), help_text=_("不小于 0，小于 100。"))
    income_share_of_gep = PercentField(label=_("GEP 计入收益比例（%）"))
    discount_rate = PercentField(label=_("折现率（%）"))
    max_valuation_years = forms.IntegerField(label=_("最长收益年限"), min_value=1, max_value=70)
    appraisal_valid_days = forms.IntegerField(label=_("评估有效天数"), min_value=1, max_value=730)
    min_amount = forms.DecimalField(
        label=_("最低金额（元）"), max_digits=16, decimal_places=2, min_value=Decimal("0.01")
    )
    max_amount = forms.DecimalField(
        label=_("最高金额（元）"), max_digits=16, decimal_places=2, min_value=Decimal("0.01")
    )
    rate_min = PercentField(label=_("最低年利率（%）"), help_text=_("如 3.6 表示 3.6%。"))
    rate_max = PercentField(label=_("最高年利率（%）"), help_text=_("低于 24%。"))
    penalty_markup = PercentField(
        label=_("罚息上浮比例（%）"), help_text=_("逾期罚息在合同利率基础上上浮 30–50（银发〔2003〕251号）。")
    )
    term_min_months = forms.IntegerField(label=_("最短期限（月）"), min_value=1, max_value=360)
    term_max_months = forms.IntegerField(label=_("最长期限（月）"), min_value=1, max_value=360)
    repayment_methods = forms.MultipleChoiceField(
        label=_("还款方式"),
        choices=RepaymentMethod.choices,
        widget=forms.SelectMultiple(attrs={"size": len(RepaymentMethod.choices)}),
    )
    payment_frequencies = forms.MultipleChoiceField(
        label=_("还款频率"),
        choices=PaymentFrequency.choices,
        widget=forms.SelectMultiple(attrs={"size": len(PaymentFrequency.choices)}),
    )
    day_count = forms.ChoiceField(label=_("计息基准"), choices=DayCount.choices)
    min_credit_score = forms.IntegerField(
        label=_("最低生态信用分"), required=False, min_value=300, max_value=1000
    )
    requires_insurance = forms.BooleanField(label=_("须投保"), required=False)
    required_insurance_kinds = forms.MultipleChoiceField(
        label=_("须投保险种"),
        choices=InsuranceKind.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": len(InsuranceKind.choices)}),
        help_text=_("申请人须持有所选各险种覆盖本次申请或抵质押物的有效保单，方可提交和复核。"),
    )
    risk_scheme = forms.ModelChoiceField(
        label=_("风险分担方案"), queryset=RiskSharingScheme.objects.none(), required=False
    )

    def __init__(self, *args, banks=None, **kwargs):
        """`banks`: the banks the user may choose from (creating, as a platform operator); None
        when the bank is fixed (an officer's own bank, or editing)."""
        super().__init__(*args, **kwargs)
        if banks is None:
            del self.fields["bank"]
        else:
            self.fields["bank"].queryset = banks
        self.fields["eligible_resource_types"].queryset = ResourceType.objects.filter(
            is_active=True
        ).order_by("family", "code")
        self.fields["risk_scheme"].queryset = RiskSharingScheme.objects.filter(is_active=True).order_by(
            "name"
        )

    def clean(self):
        data = super().clean()
        low, high = data.get("rate_min"), data.get("rate_max")
        if low is not None and high is not None and high < low:
            self.add_error("rate_max", _("最高年利率不能低于最低年利率。"))
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and high < low:
            self.add_error("max_amount", _("最高金额不能低于最低金额。"))
        low, high = data.get("term_min_months"), data.get("term_max_months")
        if low is not None and high is not None and high < low:
            self.add_error("term_max_months", _("最长期限不能短于最短期限。"))
        return data

    def service_fields(self):
        """The cleaned data as finance.services.products takes it (without the bank)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "bank"}


def product_initial(product=None):
    """Initial values: the model's defaults for a new product, the product's own when editing;
    ratios shown in per cent."""
    source = product or LoanProduct()
    fields = [name for name in ProductForm.base_fields if name not in ("bank", "eligible_resource_types")]
    initial = {name: getattr(source, name) for name in fields}
    for name in PERCENT_FIELDS:
        if initial.get(name) is not None:
            initial[name] = (initial[name] * HUNDRED).normalize()
    if product is not None:
        initial["eligible_resource_types"] = list(product.eligible_resource_types.all())
    else:
        initial["repayment_methods"] = [RepaymentMethod.EQUAL_INSTALLMENT]
        initial["payment_frequencies"] = [PaymentFrequency.MONTHLY]
    return initial
