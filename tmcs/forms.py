from django import forms


class BootstrapFormMixin:
    """Give every widget Bootstrap's classes, and mark fields with errors, so templates can render
    `{{ form }}` through tmcs/forms/bootstrap.html without per-field markup."""

    template_name = "tmcs/forms/bootstrap.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def add_service_errors(self, error):
        """Show a DomainError's field errors next to the fields, the rest above the form."""
        fields = getattr(error, "fields", {}) or {}
        placed = False
        for name, messages in fields.items():
            if name in self.fields:
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(name, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(error.detail))


class Form(BootstrapFormMixin, forms.Form):
    pass
