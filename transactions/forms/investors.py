"""The public investor sign-up form, the registrations list filter and the review form."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision, DivisionLevel
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import InvestorRegistration, ReviewStatus

DEMO_CITY_CODE = "331100000000"


def counties():
    """County-level divisions of the region (Lishui) an investor can register in."""
    return (
        AdministrativeDivision.objects.filter(level=DivisionLevel.COUNTY, parent__code=DEMO_CITY_CODE)
        .defer("boundary")
        .order_by("code")
    )


class RegistrationForm(Form):
    name = forms.CharField(label=_("企业名称"), max_length=200)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18)
    county = forms.ModelChoiceField(
        label=_("所在县（市、区）"), queryset=AdministrativeDivision.objects.none()
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50)
    contact_phone = forms.CharField(label=_("联系人手机号码"), max_length=20)
    email = forms.EmailField(label=_("电子邮箱"), required=False, help_text=_("审核结果将发送到此邮箱。"))
    business_scope = forms.CharField(
        label=_("经营范围/投资意向"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    licence = forms.FileField(label=_("营业执照"), help_text=_("PDF 或 JPEG/PNG/WebP 图片，不超过 10 MB。"))
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)
    password_confirmation = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties()


class RegistrationFilter(FilterSet):
    q = django_filters.CharFilter(label=_("名称或信用代码"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ReviewStatus.choices)
    division = WithinDivisionFilter(
        label=_("所在区划（含下级）"), field_name="organization__division", queryset=visible_division_choices
    )

    class Meta:
        model = InvestorRegistration
        fields = ["q", "status", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(organization__name__icontains=value) | Q(organization__uscc__iexact=value.upper())
        )


class ReviewForm(Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("approve", _("通过")), ("reject", _("不予通过"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("审核意见"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
