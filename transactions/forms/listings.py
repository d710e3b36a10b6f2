"""Forms of listings, applications, deposits and Q&A. Money stays text here: the services parse
it to the cent (transactions._money.parse_money) and their field errors are shown in place."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision, DivisionLevel
from resources.models import Asset, ResourceType
from tmcs.filters import FilterSet
from tmcs.forms import Form

from ..models import (
    DepositStatus,
    Listing,
    ListingApplication,
    ListingMode,
    ListingStatus,
    PackageItem,
    ResourcePackage,
    ReviewStatus,
    TradeKind,
)
from ..services.listings import MAX_BIDDING_MINUTES, MIN_BIDDING_MINUTES, QUESTION_MAX_LENGTH


def _text(label, rows=3, required=False):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}))


class ListingForm(Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    package_code = forms.CharField(
        label=_("资源包编号"), required=False, help_text=_("资源包与单项资源二选一")
    )
    asset_code = forms.CharField(label=_("资源编号"), required=False)
    trade_kind = forms.ChoiceField(label=_("交易方式"), choices=TradeKind.choices)
    mode = forms.ChoiceField(label=_("交易模式"), choices=ListingMode.choices)
    term_start = forms.DateField(label=_("出让期限起"), widget=forms.DateInput(attrs={"type": "date"}))
    term_end = forms.DateField(label=_("出让期限止（不含）"), widget=forms.DateInput(attrs={"type": "date"}))
    reserve_price = forms.CharField(label=_("底价/起始价（元，整个期限）"))
    deposit = forms.CharField(label=_("保证金（元）"))
    increment = forms.CharField(label=_("加价幅度（元）"), required=False, initial="0")
    description = _text(_("标的介绍"))
    qualification_requirements = _text(_("受让方资格条件"))
    payment_terms = _text(_("付款方式"))
    obligations = _text(_("受让方义务"))
    extension_window_seconds = forms.IntegerField(label=_("延时触发窗口（秒）"), initial=300)
    extension_seconds = forms.IntegerField(label=_("每次延时（秒）"), initial=300)

    def __init__(self, *args, assets=None, packages=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.assets, self.packages = assets, packages
        if editing:
            del self.fields["package_code"], self.fields["asset_code"]

    def clean(self):
        cleaned = super().clean()
        if "package_code" not in self.fields:
            return cleaned
        package_code = (cleaned.get("package_code") or "").strip()
        asset_code = (cleaned.get("asset_code") or "").strip()
        if bool(package_code) == bool(asset_code):
            self.add_error("package_code", _("请填写资源包编号或资源编号（二者选一）。"))
            return cleaned
        cleaned["package"] = cleaned["asset"] = None
        if package_code:
            cleaned["package"] = (
                (self.packages or ResourcePackage.objects.none()).filter(code=package_code).first()
            )
            if cleaned["package"] is None:
                self.add_error("package_code", _("未找到该资源包。"))
        else:
            cleaned["asset"] = (self.assets or Asset.objects.none()).filter(code=asset_code).first()
            if cleaned["asset"] is None:
                self.add_error("asset_code", _("未找到该资源。"))
        return cleaned

    def service_kwargs(self):
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("package_code", "asset_code")}
        return data


class PublishForm(Form):
    notice_days = forms.IntegerField(label=_("公示天数"), min_value=1)
    bidding_minutes = forms.IntegerField(
        label=_("竞价时长（分钟）"),
        required=False,
        min_value=MIN_BIDDING_MINUTES,
        max_value=MAX_BIDDING_MINUTES,
        help_text=_("网络竞价和拍卖必填"),
    )


class WithdrawForm(Form):
    reason = forms.CharField(label=_("撤牌原因"), max_length=500)


class ApplyForm(Form):
    statement = _text(_("资格说明"), rows=4)


class ReviewForm(Form):
    decision = forms.ChoiceField(
        label=_("审核结果"), choices=[("approve", _("通过")), ("reject", _("不予通过"))]
    )
    note = forms.CharField(label=_("审核意见"), max_length=500, required=False)


class DepositForm(Form):
    amount = forms.CharField(label=_("到账金额（元）"))
    reference = forms.CharField(label=_("银行流水号"), max_length=60)
    occurred_on = forms.DateField(
        label=_("到账日期"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )


class QuestionForm(Form):
    question = forms.CharField(
        label=_("问题"), max_length=QUESTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class AnswerForm(Form):
    answer = forms.CharField(label=_("答复"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# --- filter sets (shared by the list pages and the API) ---------------------------------------


def _public_divisions(request):
    return (
        AdministrativeDivision.objects.filter(level__in=[DivisionLevel.COUNTY])
        .defer("boundary")
        .order_by("code")
    )


class ListingFilter(FilterSet):
    q = django_filters.CharFilter(label=_("编号或标题"), method="search")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ListingStatus.choices)
    mode = django_filters.ChoiceFilter(label=_("交易模式"), choices=ListingMode.choices)
    trade_kind = django_filters.ChoiceFilter(label=_("交易方式"), choices=TradeKind.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = Listing
        fields = ["q", "status", "mode", "trade_kind", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__iexact=value) | Q(title__icontains=value))


class PublicListingFilter(FilterSet):
    division = WithinDivisionFilter(label=_("区县"), queryset=_public_divisions)
    resource_type = django_filters.ModelChoiceFilter(
        label=_("资源类型"), queryset=ResourceType.objects.filter(is_active=True), method="by_type"
    )

    class Meta:
        model = Listing
        fields = ["division", "resource_type"]

    def by_type(self, queryset, name, value):
        in_packages = PackageItem.objects.filter(asset__resource_type=value).values("package_id")
        return queryset.filter(Q(asset__resource_type=value) | Q(package_id__in=in_packages))


class ApplicationFilter(FilterSet):
    status = django_filters.ChoiceFilter(label=_("资格审核"), choices=ReviewStatus.choices)
    deposit_status = django_filters.ChoiceFilter(label=_("保证金"), choices=DepositStatus.choices)
    listing = django_filters.CharFilter(label=_("挂牌编号"), field_name="listing__code")

    class Meta:
        model = ListingApplication
        fields = ["status", "deposit_status", "listing"]
