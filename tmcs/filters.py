import django_filters

from tmcs.forms import BootstrapFormMixin


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet whose form renders with Bootstrap classes (same filters in UI and API)."""

    def get_form_class(self):
        return type("BootstrapFilterForm", (BootstrapFormMixin, super().get_form_class()), {})
