"""FilterSets of the valuation API (runs, their results and rollups)."""

import django_filters
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, DivisionLevel
from tmcs.filters import FilterSet, YesNoFilter

from .. import indicators
from ..models import AccountingRun, AssetResult, PriceBasis, Rollup, RunStatus

DIVISION_LABEL = _("区划代码或前缀（含下级）")
DIVISION_DIGITS = RegexValidator(r"^\d{2,12}$", _("请填写 2 至 12 位数字的区划代码或代码前缀。"))


class DivisionPrefixFilter(django_filters.CharFilter):
    """Records whose division lies within the given one: a code prefix ("331102") or a full
    12-digit code, which stands for its whole subtree ("331102000000" = "331102")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [DIVISION_DIGITS])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        if len(value) == 12:
            division = AdministrativeDivision.objects.filter(code=value).only("code", "level").first()
            if division is not None:
                value = division.prefix
        return qs.filter(**{f"{self.field_name}__startswith": value})


INDICATOR_CHOICES = [(key, key) for key in indicators.REGISTRY]


class RunFilter(FilterSet):
    division = DivisionPrefixFilter(label=DIVISION_LABEL, field_name="division__code")
    year = django_filters.NumberFilter(label=_("核算年份"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RunStatus.choices)
    price_basis = django_filters.ChoiceFilter(label=_("价格基准"), choices=PriceBasis.choices)
    accepted = YesNoFilter(label=_("已采纳"), field_name="accepted_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = AccountingRun
        fields = ["division", "year", "status", "price_basis", "accepted"]


class ResultFilter(FilterSet):
    indicator = django_filters.ChoiceFilter(
        label=_("指标"), field_name="indicator_key", choices=INDICATOR_CHOICES
    )
    category = django_filters.ChoiceFilter(label=_("类别"), choices=indicators.Category.choices)
    asset = django_filters.CharFilter(label=_("资源编号"), field_name="asset__code")
    division = DivisionPrefixFilter(label=DIVISION_LABEL, field_name="division_code")

    class Meta:
        model = AssetResult
        fields = ["indicator", "category", "asset", "division"]


class RollupFilter(FilterSet):
    level = django_filters.ChoiceFilter(
        label=_("级别"), field_name="division__level", choices=DivisionLevel.choices
    )
    division = DivisionPrefixFilter(label=DIVISION_LABEL, field_name="division__code")
    indicator = django_filters.ChoiceFilter(
        label=_("指标"), field_name="indicator_key", choices=INDICATOR_CHOICES
    )
    category = django_filters.ChoiceFilter(label=_("类别"), choices=indicators.Category.choices)

    class Meta:
        model = Rollup
        fields = ["level", "division", "indicator", "category"]
