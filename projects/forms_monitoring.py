"""List filters of monitoring runs and alerts (shared by the pages and the API) and the “run now”
form."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from directory.filters import WithinDivisionFilter, visible_division_choices
from tmcs.filters import FilterSet
from tmcs.forms import Form

from .models import MonitorAlert, MonitorJob, MonitorRun, MonitorRunStatus

LEVEL_CHOICES = [("info", _("提示")), ("warning", _("预警")), ("danger", _("严重"))]
STATE_CHOICES = [("open", _("未解除")), ("resolved", _("已解除"))]


class RunFilter(FilterSet):
    job = django_filters.ChoiceFilter(label=_("监测任务"), choices=MonitorJob.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=MonitorRunStatus.choices)

    class Meta:
        model = MonitorRun
        fields = ["job", "status"]


class AlertFilter(FilterSet):
    job = django_filters.ChoiceFilter(label=_("监测任务"), choices=MonitorJob.choices)
    state = django_filters.ChoiceFilter(label=_("状态"), choices=STATE_CHOICES, method="filter_state")
    level = django_filters.ChoiceFilter(label=_("级别"), choices=LEVEL_CHOICES)
    division = WithinDivisionFilter(label=_("区划（含下级）"), queryset=visible_division_choices)
    q = django_filters.CharFilter(label=_("标题"), field_name="title", lookup_expr="icontains")

    class Meta:
        model = MonitorAlert
        fields = ["job", "state", "level", "division", "q"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(resolved_at__isnull=value == "open")


class RunNowForm(Form):
    """The job's parameters (today only `days`); the service validates the range again."""

    days = forms.IntegerField(label=_("天数"), required=False, min_value=0, max_value=3650)

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        names = {param.name for param in job.params}
        if "days" not in names:
            del self.fields["days"]
        else:
            param = next(p for p in job.params if p.name == "days")
            self.fields["days"].label = param.label
            self.fields["days"].help_text = _("%(min)s–%(max)s 天") % {
                "min": param.minimum,
                "max": param.maximum,
            }

    def params(self):
        return {name: value for name, value in self.cleaned_data.items() if value is not None}
