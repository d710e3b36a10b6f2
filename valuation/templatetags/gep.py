"""Display of GEP amounts: computed unrounded, shown rounded half-up in 元, 万元 or 亿元."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

register = template.Library()

WAN = Decimal(10_000)
YI = Decimal(100_000_000)


def _decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def yuan(value):
    """12345.678 → '12,345.68'."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


@register.filter
def gep_amount(value):
    """An amount in the unit a reader expects: 亿元 from one hundred million, else 万元 from ten
    thousand, else 元 — e.g. 467289000000 → '4,672.89 亿元'."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    if abs(amount) >= YI:
        return _("%(amount)s 亿元") % {
            "amount": f"{(amount / YI).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
        }
    if abs(amount) >= WAN:
        return _("%(amount)s 万元") % {
            "amount": f"{(amount / WAN).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
        }
    return _("%(amount)s 元") % {"amount": yuan(amount)}


@register.filter
def share_of(value, total):
    """Percentage of `total`, one decimal ('72.8%')."""
    amount, whole = _decimal(value), _decimal(total)
    if amount is None or not whole:
        return "—"
    return f"{(amount * 100 / whole).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
