"""Forms of the consent and credit-export pages, and their list filters (shared with the API)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Organization, PartyKind
from tmcs.filters import FilterSet
from tmcs.forms import Form

from .models import ConsentScope, CreditConsent, CreditExport
from .selectors_credit import ConsentState, consent_divisions, consent_parties, recipients

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PartyChoiceField(forms.ModelChoiceField):
    """Staff holding MANAGE_CONSENTS also hold VIEW_FULL_IDENTIFIERS; still, the picker shows the
    masked ID number: enough to tell namesakes apart."""

    def label_from_instance(self, obj):
        if obj.kind == PartyKind.PERSON:
            return f"{obj.person.name}（{obj.person.national_id_masked}）"
        uscc = obj.organization.uscc or "—"
        return f"{obj.organization.name}（{uscc}）"


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_kind_display()}）"


# --- filters ------------------------------------------------------------------------------------


class ConsentFilter(FilterSet):
    q = django_filters.CharFilter(label=_("授权编号或授权书"), method="search")
    party = django_filters.CharFilter(label=_("授权主体"), method="by_party")
    recipient = django_filters.ModelChoiceFilter(label=_("数据接收方"), queryset=Organization.objects.none())
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ConsentState.CHOICES, field_name="state")

    class Meta:
        model = CreditConsent
        fields = ["q", "party", "recipient", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["recipient"].queryset = recipients()

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(document__icontains=value))

    def by_party(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(party__person__name__icontains=value)
            | Q(party__organization__name__icontains=value)
            | Q(party__organization__uscc__iexact=value)
        )


class ExportFilter(FilterSet):
    q = django_filters.CharFilter(label=_("报送编号"), field_name="number", lookup_expr="iexact")
    recipient = django_filters.ModelChoiceFilter(label=_("接收方"), queryset=Organization.objects.none())
    as_of_from = django_filters.DateFilter(
        label=_("数据截止日起"), field_name="as_of", lookup_expr="gte", widget=DATE
    )
    as_of_to = django_filters.DateFilter(
        label=_("数据截止日止"), field_name="as_of", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = CreditExport
        fields = ["q", "recipient", "as_of_from", "as_of_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["recipient"].queryset = recipients()


# --- consents -----------------------------------------------------------------------------------


class ConsentForm(Form):
    party = PartyChoiceField(label=_("授权主体"), queryset=None)
    recipient = RecipientChoiceField(
        label=_("数据接收方"),
        queryset=Organization.objects.none(),
        help_text=_("担保机构（如浙江农担“浙里担”）、银行或政府信用平台。"),
    )
    purpose = forms.CharField(label=_("用途"), max_length=300, help_text=_("如：申请农业信贷担保。"))
    scopes = forms.MultipleChoiceField(
        label=_("授权范围"), choices=ConsentScope.choices, widget=forms.CheckboxSelectMultiple
    )
    document = forms.CharField(
        label=_("授权书编号/文件"), max_length=200, help_text=_("书面授权书的编号，接收方可据此核对。")
    )
    signed_on = forms.DateField(label=_("签署日期"), widget=DATE)
    valid_from = forms.DateField(label=_("有效期起"), widget=DATE)
    valid_until = forms.DateField(label=_("有效期止"), widget=DATE)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("signed_on", timezone.localdate())
        kwargs["initial"].setdefault("valid_from", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = consent_parties(user)
        self.fields["recipient"].queryset = recipients()
        # Bootstrap's form-control does not suit check boxes
        self.fields["scopes"].widget.attrs["class"] = "form-check-input me-1"

    def clean(self):
        data = super().clean()
        signed_on, valid_from, valid_until = (data.get(k) for k in ("signed_on", "valid_from", "valid_until"))
        if signed_on and signed_on > timezone.localdate():
            self.add_error("signed_on", _("签署日期不能晚于今天。"))
        if signed_on and valid_from and valid_from < signed_on:
            self.add_error("valid_from", _("有效期起不能早于签署日期。"))
        if valid_from and valid_until and valid_until < valid_from:
            self.add_error("valid_until", _("有效期止不能早于有效期起。"))
        return data


class RevokeForm(Form):
    reason = forms.CharField(
        label=_("撤回原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("撤回后不可恢复。"),
    )


# --- exports ------------------------------------------------------------------------------------


class ExportForm(Form):
    recipient = RecipientChoiceField(label=_("接收方"), queryset=Organization.objects.none())
    division = DivisionChoiceField(label=_("数据范围（区划）"), queryset=None, empty_label=None)
    as_of = forms.DateField(label=_("数据截止日"), widget=DATE)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("as_of", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients()
        self.fields["division"].queryset = consent_divisions(user)

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of > timezone.localdate():
            raise forms.ValidationError(_("数据截止日不能晚于今天。"))
        return as_of
