"""Forms of the savings-slip pages. They check shapes; the rules live in the services."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from tmcs.filters import FilterSet, YesNoFilter
from tmcs.forms import Form

from ..models import SavingsSlip, SlipStatus


class SlipFilter(FilterSet):
    """Shared by the list page and the API."""

    q = django_filters.CharFilter(label=_("储蓄单号、储户或资源编号"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=SlipStatus.choices)
    division = WithinDivisionFilter(
        label=_("合同所在区划（含下级）"), field_name="contract__division", queryset=visible_division_choices
    )
    contract = django_filters.CharFilter(label=_("收储合同编号"), method="by_contract")
    pledged = YesNoFilter(label=_("已质押"), field_name="is_pledged")

    class Meta:
        model = SavingsSlip
        fields = ["q", "status", "division", "contract", "pledged"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value)
            | Q(asset__code__icontains=value)
            | Q(holder__person__name__icontains=value)
            | Q(holder__organization__name__icontains=value)
        )

    def by_contract(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(Q(contract_id=int(value)) | Q(contract__number__icontains=value))
        return queryset.filter(contract__number__icontains=value)


class CancelSlipForm(Form):
    reason = forms.CharField(
        label=_("注销原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如储蓄单遗失补发、签发错误、储户退出储蓄等"),
    )


class SlipCheckForm(Form):
    """The public page's form: the number and the verification code printed on the slip."""

    number = forms.CharField(label=_("储蓄单号"), max_length=20)
    code = forms.CharField(label=_("核验码"), max_length=20)

    def clean_number(self):
        return "".join(self.cleaned_data["number"].split()).upper()

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).upper()
