"""FilterSets shared by the web lists and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tmcs import crypto
from tmcs.filters import FilterSet, YesNoFilter
from tmcs.ids import IdentifierError, normalize_national_id

from .models import AdministrativeDivision, DivisionLevel, Organization, OrganizationKind, Person, Role, User


def visible_division_choices(request):
    from .selectors import divisions_for

    if request is None:
        return AdministrativeDivision.objects.none()
    return divisions_for(request.user).defer("boundary").order_by("code")


class DivisionFilter(FilterSet):
    level = django_filters.ChoiceFilter(label=_("级别"), choices=DivisionLevel.choices)
    parent = django_filters.CharFilter(label=_("上级区划代码（12位）"), field_name="parent__code")
    name = django_filters.CharFilter(label=_("名称"), lookup_expr="icontains")

    class Meta:
        model = AdministrativeDivision
        fields = ["level", "parent", "name"]


class WithinDivisionFilter(django_filters.ModelChoiceFilter):
    """Records in the chosen division or anywhere below it."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__code__startswith": value.prefix})


class OrganizationFilter(FilterSet):
    q = django_filters.CharFilter(label=_("名称或信用代码"), method="search")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=OrganizationKind.choices)
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)
    is_active = YesNoFilter(label=_("启用"))

    class Meta:
        model = Organization
        fields = ["q", "kind", "division", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(uscc__iexact=value.upper()))


class PersonFilter(FilterSet):
    q = django_filters.CharFilter(label=_("姓名或完整身份证号"), method="search")
    division = WithinDivisionFilter(label=_("所在区划（含下级）"), queryset=visible_division_choices)

    class Meta:
        model = Person
        fields = ["q", "division"]

    def search(self, queryset, name, value):
        value = value.strip()
        try:  # a full ID number is matched exactly through its keyed hash, never by LIKE
            number = normalize_national_id(value)
        except IdentifierError:
            return queryset.filter(name__icontains=value)
        return queryset.filter(national_id_hash=crypto.lookup_hash("national_id", number))


class UserFilter(FilterSet):
    q = django_filters.CharFilter(label=_("用户名或姓名"), method="search")
    role = django_filters.ChoiceFilter(label=_("角色"), choices=Role.choices, field_name="memberships__role")
    is_active = YesNoFilter(label=_("启用"))

    class Meta:
        model = User
        fields = ["q", "role", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value))
