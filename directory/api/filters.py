import django_filters

from directory.models import AdministrativeDivision, DivisionLevel


class DivisionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=DivisionLevel.choices)
    parent = django_filters.CharFilter(field_name="parent__code", label="上级区划代码（12位）")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = AdministrativeDivision
        fields = ["level", "parent", "name"]
