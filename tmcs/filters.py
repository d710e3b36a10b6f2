import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from tmcs.forms import BootstrapFormMixin

ALL = _("全部")


class YesNoSelect(forms.Select):
    """A yes/no filter whose empty choice reads “all” rather than “unknown”."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=[("", ALL), ("true", _("是")), ("false", _("否"))])

    def value_from_datadict(self, data, files, name):
        return {"true": True, "false": False}.get(data.get(name))


class YesNoFilter(django_filters.BooleanFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", YesNoSelect)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet whose form renders with Bootstrap classes and “all” as the empty
    choice (the same FilterSets serve the web lists and the API)."""

    def get_form_class(self):
        return type("BootstrapFilterForm", (BootstrapFormMixin, super().get_form_class()), {})

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            if getattr(field, "empty_label", None) is not None:
                field.empty_label = ALL  # django-filter and model choice fields read it when rendering
        return form
