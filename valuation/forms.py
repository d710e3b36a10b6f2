"""Forms of the ecological input pages: pick an object and year, pick an indicator, enter the values
of one indicator (fields built from its InputSpecs), upload a workbook."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tmcs.forms import Form

from . import indicators
from .indicators import units
from .services.input_import import ASSET, DIVISION, check_indicator_set, range_text

FIRST_YEAR = 1990


def default_year():
    """GEP is accounted for a finished year: last year by default."""
    return timezone.localdate().year - 1


def _year_field():
    return forms.IntegerField(
        label=gettext_lazy("年份"),
        min_value=FIRST_YEAR,
        max_value=timezone.localdate().year,
        initial=default_year,
    )


def plain(value):
    """A stored Decimal without trailing zeros, never in exponent notation."""
    if not isinstance(value, Decimal):
        return value
    return format(value.normalize(), "f")


class InputTargetForm(Form):
    """Which asset or division, and which year."""

    kind = forms.ChoiceField(
        label=gettext_lazy("对象类型"),
        choices=[(ASSET, gettext_lazy("资产")), (DIVISION, gettext_lazy("区划"))],
        initial=ASSET,
    )
    code = forms.CharField(
        label=gettext_lazy("编码"),
        max_length=30,
        help_text=gettext_lazy("资产编号（如 ZY…）或 12 位统计用区划代码"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"] = _year_field()
        style_fields(self)

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class IndicatorChoiceForm(Form):
    """The indicator and year whose inputs are shown (a GET form on the entry page)."""

    def __init__(self, *args, offered, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = {indicator.key: indicator for indicator in offered}
        self.fields["indicator"] = forms.ChoiceField(
            label=gettext_lazy("指标"),
            required=False,
            choices=[("", _("请选择指标"))] + [(i.key, f"{i.code} {i.name}") for i in self.offered.values()],
        )
        self.fields["year"] = _year_field()
        style_fields(self)

    def clean_indicator(self):
        key = self.cleaned_data.get("indicator")
        return self.offered.get(key) if key else None


class IndicatorInputsForm(Form):
    """The values of one indicator for one object and year: for each input a value, a unit (those
    convertible to the input's unit) and a source; one common source for rows without their own.

    A blank value removes a stored one. The whole set is checked as the accounting run will read it.
    """

    source = forms.CharField(
        label=gettext_lazy("数据来源（统一）"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("各输入项未单独填写数据来源时采用此来源。"),
    )

    def __init__(self, *args, indicator, stored, area_m2=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.area_m2 = area_m2
        self.specs = {spec.key: spec for spec in indicator.inputs}
        self.stored = stored
        for spec in indicator.inputs:
            record = stored.get(spec.key)
            uses_area = spec.key == "area" and area_m2 is not None
            self.fields[f"value_{spec.key}"] = forms.CharField(
                label=spec.label,
                required=spec.required and not uses_area,
                max_length=60,
                initial=plain(record.value) if record else "",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields[f"unit_{spec.key}"] = forms.ChoiceField(
                label=_("单位"),
                choices=units.unit_choices(units.unit(spec.unit).dimension),
                initial=record.unit if record else spec.unit,
            )
            self.fields[f"source_{spec.key}"] = forms.CharField(
                label=_("数据来源"),
                max_length=200,
                required=False,
                initial=record.source if record else "",
            )
        style_fields(self, small=True)

    def rows(self):
        """(spec, value field, unit field, source field, range text, uses asset area) per input."""
        for spec in self.indicator.inputs:
            yield {
                "spec": spec,
                "value": self[f"value_{spec.key}"],
                "unit": self[f"unit_{spec.key}"],
                "source": self[f"source_{spec.key}"],
                "range": range_text(spec),
                "uses_area": spec.key == "area" and self.area_m2 is not None,
            }

    def clean(self):
        cleaned = super().clean()
        raw, broken = {}, False
        for key in self.specs:
            if f"value_{key}" in self.errors or f"unit_{key}" in self.errors:
                broken = True
                continue
            value = (cleaned.get(f"value_{key}") or "").strip()
            if not value:
                continue
            raw[key] = indicators.Measure(value, cleaned[f"unit_{key}"])
            if not (cleaned.get(f"source_{key}") or "").strip() and not (cleaned.get("source") or "").strip():
                self.add_error(f"source_{key}", _("请填写数据来源。"))
        errors = check_indicator_set(self.indicator, raw, area_m2=self.area_m2, complete=not broken)
        for key, messages in errors.items():
            name = f"value_{key}" if key in self.specs else None
            if name in self.errors:
                continue  # a value refused by its own field says enough
            for message in messages:
                self.add_error(name, message)
        mark_invalid(self)
        return cleaned

    def values(self):
        """{input key: (value, unit, source) or None} for services.record_indicator_inputs."""
        common = (self.cleaned_data.get("source") or "").strip()
        result = {}
        for key in self.specs:
            value = (self.cleaned_data.get(f"value_{key}") or "").strip()
            source = (self.cleaned_data.get(f"source_{key}") or "").strip() or common
            result[key] = (value, self.cleaned_data[f"unit_{key}"], source) if value else None
        return result

    def add_service_errors(self, error):
        """A service's DomainError next to the fields: input keys → value fields, "<key>.source" →
        source fields, the rest above the form."""
        fields = getattr(error, "fields", {}) or {}
        for name, messages in fields.items():
            if name in self.specs:
                target = f"value_{name}"
            elif name.endswith(".source") and name[: -len(".source")] in self.specs:
                target = f"source_{name[: -len('.source')]}"
            else:
                target = None
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(target, str(message))
        if not fields:
            self.add_error(None, str(error.detail))
        mark_invalid(self)


def style_fields(form, small=False):
    """Bootstrap classes for the fields added after BootstrapFormMixin.__init__ ran."""
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        classes = widget.attrs.get("class", "").split()
        for name in (css, f"{css}-sm") if small else (css,):
            if name not in classes:
                classes.append(name)
        widget.attrs["class"] = " ".join(classes)


def mark_invalid(form):
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class InputImportForm(Form):
    file = forms.FileField(
        label=gettext_lazy("导入文件"),
        help_text=gettext_lazy("XLSX 或 CSV（UTF-8 或 GBK 编码），每行一个数值，最多 20000 行、10 MB。"),
    )
