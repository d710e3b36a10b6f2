"""Printable contracts: WeasyPrint with the Noto CJK font (no network), and amounts written out
in capital Chinese numerals (人民币大写) as contracts require."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ["", "拾", "佰", "仟"]
BIG_UNITS = ["", "万", "亿", "万亿"]


def render_pdf(template_name, context):
    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def _four_digits(n):
    """0 < n < 10000 in capitals, with inner zeros collapsed (e.g. 1005 → 壹仟零伍)."""
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[digit] + SMALL_UNITS[position]
    return out


def amount_in_words(amount):
    """人民币大写 of an amount in 元, e.g. 1005.30 → 壹仟零伍元叁角整, 0.05 → 伍分."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + amount_in_words(-amount)
    yuan, cents = divmod(int(amount * 100), 100)
    jiao, fen = divmod(cents, 10)
    words = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(words)
                continue
            if words and (need_zero or group < 1000):
                words += "零"
            words += _four_digits(group) + BIG_UNITS[index]
            need_zero = False
        words += "元"
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += DIGITS[fen] + "分"
    else:
        words += "整"
    return words
