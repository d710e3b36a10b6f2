"""Eco-behaviour forms and the filters of eco-behaviour records and credit scores (shared by the
pages and the API). finance.services.scoring checks everything again."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from directory.models import AdministrativeDivision, Party
from tmcs.filters import FilterSet, YesNoFilter
from tmcs.forms import Form

from ..models import (
    NEGATIVE_BEHAVIOUR,
    CreditGrade,
    CreditScore,
    EcoBehaviourCategory,
    EcoBehaviourRecord,
    ScoreSubject,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PartyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, party):
        return f"{party}（{party.get_kind_display()}）"


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, division):
        return f"{division.code} {division.name}"


class EcoBehaviourForm(Form):
    party = PartyChoiceField(label=_("主体"), queryset=Party.objects.none())
    division = DivisionChoiceField(
        label=_("发生地"),
        queryset=AdministrativeDivision.objects.none(),
        help_text=_("行为发生的村（社区）或乡镇"),
    )
    category = forms.ChoiceField(label=_("类别"), choices=EcoBehaviourCategory.choices)
    points = forms.DecimalField(
        label=_("加减分"),
        max_digits=6,
        decimal_places=2,
        help_text=_("加分项填正数，扣分项填负数（雾溪乡清单：垃圾分类每次 +1，违法排污 −3）。"),
    )
    occurred_on = forms.DateField(label=_("发生日期"), widget=DATE)
    description = forms.CharField(label=_("情况说明"), max_length=300)
    source_document = forms.CharField(
        label=_("依据"), max_length=200, help_text=_("如村“找茬团”评议记录、执法文书编号")
    )

    def __init__(self, *args, parties, divisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties
        self.fields["division"].queryset = divisions

    def clean(self):
        data = super().clean()
        category, points = data.get("category"), data.get("points")
        if category and points is not None:
            if points == 0:
                self.add_error("points", _("分值不能为 0。"))
            elif category in NEGATIVE_BEHAVIOUR and points > 0:
                self.add_error("points", _("该类别是扣分项，分值须为负数。"))
            elif category not in NEGATIVE_BEHAVIOUR and points < 0:
                self.add_error("points", _("该类别是加分项，分值须为正数。"))
        return data


class RevokeForm(Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=200)


def _party_search(queryset, value, prefix="party__"):
    value = value.strip()
    return queryset.filter(
        Q(**{f"{prefix}person__name__icontains": value})
        | Q(**{f"{prefix}organization__name__icontains": value})
    )


class EcoBehaviourFilter(FilterSet):
    q = django_filters.CharFilter(label=_("主体名称"), method="search")
    party = django_filters.NumberFilter(label=_("主体编号"), field_name="party_id")
    category = django_filters.ChoiceFilter(label=_("类别"), choices=EcoBehaviourCategory.choices)
    division = WithinDivisionFilter(label=_("发生地（含下级）"), queryset=visible_division_choices)
    revoked = YesNoFilter(label=_("已撤销"), method="filter_revoked")

    class Meta:
        model = EcoBehaviourRecord
        fields = ["q", "party", "category", "division", "revoked"]

    def search(self, queryset, name, value):
        return _party_search(queryset, value)

    def filter_revoked(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(revoked_at__isnull=not value)


class CreditScoreFilter(FilterSet):
    q = django_filters.CharFilter(label=_("主体名称"), method="search")
    party = django_filters.NumberFilter(label=_("主体编号"), field_name="party_id")
    grade = django_filters.ChoiceFilter(label=_("等级"), choices=CreditGrade.choices)
    subject = django_filters.ChoiceFilter(
        label=_("评价对象"), field_name="scorecard__subject", choices=ScoreSubject.choices
    )
    is_current = YesNoFilter(label=_("当前有效"))

    class Meta:
        model = CreditScore
        fields = ["q", "party", "grade", "subject", "is_current"]

    def search(self, queryset, name, value):
        return _party_search(queryset, value)
