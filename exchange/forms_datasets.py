"""Forms of the dataset pages (export, import) and the exchange-log filters (shared with the API)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmcs.filters import FilterSet
from tmcs.forms import Form

from .datasets import DATASETS, formats
from .models import Dataset, Direction, ExchangeFormat, ExchangeLog, ExchangeStatus
from .selectors_datasets import (
    counterpart_organizations,
    default_division,
    exchange_divisions,
    own_department,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class _ExchangeForm(Form):
    """Division within the user's exchange reach, and the counterpart (a department officer's is
    their own department)."""

    def __init__(self, *args, user, spec, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.spec = user, spec
        self.fields["division"] = DivisionChoiceField(
            label=_("数据范围（区划）"),
            queryset=exchange_divisions(user),
            initial=default_division(user),
            empty_label=None,
        )
        self.department = own_department(user)
        if self.department is None:
            self.fields["organization"] = forms.ModelChoiceField(
                label=_("对方单位"),
                queryset=counterpart_organizations(),
                required=False,
                help_text=_("提供或接收数据的部门、平台（可空）"),
            )
        self.order_fields(["division", "format", "organization"])

    def counterpart(self):
        return self.department or self.cleaned_data.get("organization")

    def _style_added_fields(self):
        """The fields added here after Form.__init__ missed the Bootstrap classes it gives every
        field (they rendered as bare browser selects and inputs): give them the same ones."""
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if css not in widget.attrs.get("class", "").split():
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class ExportForm(_ExchangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"] = forms.ChoiceField(
            label=_("格式"), choices=[(f, ExchangeFormat(f).label) for f in self.spec.formats]
        )
        if "updated_since" in self.spec.filters:
            self.fields["updated_since"] = forms.DateField(
                label=_("更新于此日期之后"), required=False, widget=DATE
            )
        if "year" in self.spec.filters:
            self.fields["year"] = forms.IntegerField(
                label=_("年份"), required=False, min_value=1990, max_value=timezone.localdate().year
            )
        self.order_fields(["division", "format", "organization", "updated_since", "year"])
        self._style_added_fields()

    def filters(self):
        return {name: self.cleaned_data.get(name) for name in self.spec.filters}


class ImportForm(_ExchangeForm):
    file = forms.FileField(
        label=_("文件"), help_text=_("CSV（UTF-8 或 GBK）、XLSX、GeoJSON 或 JSON，最多 20 MB、50000 行")
    )
    dry_run = forms.BooleanField(
        label=_("仅校验（试导入，不写入）"),
        required=False,
        help_text=_("完整校验并统计将新增、更新、未变的行数，但不写入任何数据；试导入同样记入交换记录。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"] = forms.ChoiceField(
            label=_("格式"),
            required=False,
            choices=[("", _("按文件扩展名判断")), *[(f, ExchangeFormat(f).label) for f in self.spec.formats]],
        )
        self.order_fields(["division", "file", "format", "organization", "dry_run"])
        self._style_added_fields()

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            fmt = cleaned.get("format") or formats.format_of(upload.name)
            if fmt not in self.spec.formats:
                self.add_error(
                    "format",
                    _("无法判断文件格式，或该数据集不支持此格式（支持：%(formats)s）。")
                    % {"formats": "、".join(str(label) for label in self.spec.format_labels)},
                )
            cleaned["format"] = fmt
        return cleaned


class ExchangeLogFilter(FilterSet):
    q = django_filters.CharFilter(label=_("交换编号或文件名"), method="search")
    dataset = django_filters.ChoiceFilter(label=_("数据集"), choices=Dataset.choices)
    direction = django_filters.ChoiceFilter(label=_("方向"), choices=Direction.choices)
    status = django_filters.ChoiceFilter(label=_("结果"), choices=ExchangeStatus.choices)
    organization = django_filters.ModelChoiceFilter(
        label=_("对方单位"), queryset=counterpart_organizations(), field_name="organization"
    )
    started_after = django_filters.DateFilter(
        label=_("日期起"), field_name="started_at", lookup_expr="date__gte", widget=DATE
    )
    started_before = django_filters.DateFilter(
        label=_("日期止"), field_name="started_at", lookup_expr="date__lte", widget=DATE
    )

    class Meta:
        model = ExchangeLog
        fields = ["q", "dataset", "direction", "status", "organization", "started_after", "started_before"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(file_name__icontains=value))


def dataset_choices():
    return [(key, spec.label) for key, spec in DATASETS.items()]
