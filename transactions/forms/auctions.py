"""Forms of the auction page: a bid, and staff accepting a negotiated offer. Amounts are checked
here for shape; the services decide whether they are high enough."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from tmcs.forms import Form


class BidForm(Form):
    amount = forms.DecimalField(
        label=_("出价（元）"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.TextInput,
    )


class AcceptOfferForm(Form):
    application = forms.ModelChoiceField(label=_("意向受让方"), queryset=None, empty_label=None)
    amount = forms.DecimalField(
        label=_("报价（元）"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.TextInput,
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications
        self.fields["application"].label_from_instance = lambda a: f"{a.bidder_number or '—'} · {a.investor}"
