"""元 to the cent."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from tmcs.errors import DomainError

CENT = Decimal("0.01")


def parse_money(value, field, *, allow_zero=False, maximum=Decimal("99999999999999.99")):
    """A money amount from user input: a number with at most 2 decimal places, positive (or zero)."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        message = _("请输入有效的金额。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        message = _("金额最多保留两位小数。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    if amount < 0 or (amount == 0 and not allow_zero):
        message = _("金额必须大于0。") if not allow_zero else _("金额不能为负数。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    if amount > maximum:
        message = _("金额超出范围。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    return amount.quantize(CENT)
