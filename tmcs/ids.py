"""Check digits of Chinese identifiers (see shared/domain/ids.md for the published algorithms).

python-stdnum is not used: its cn.ric lacks Zhejiang address codes and accepts future birth
dates, and its cn.uscc rejects the N… codes of rural collective economic organizations.
"""

import datetime
import re

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(rf"^[{USCC_CHARSET}]{{18}}$")

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
_RIC_RE = re.compile(r"^\d{17}[\dX]$")


class IdentifierError(ValueError):
    """Raised with a message fit to show the person who typed the identifier."""


def uscc_check_char(first17: str) -> str:
    total = sum(
        USCC_CHARSET.index(char) * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """Return the canonical (upper-case) USCC or raise IdentifierError."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise IdentifierError("统一社会信用代码应为18位。")
    if not _USCC_RE.match(code):
        raise IdentifierError("统一社会信用代码含有不允许的字符（不使用 I、O、S、V、Z）。")
    if uscc_check_char(code[:17]) != code[17]:
        raise IdentifierError("统一社会信用代码校验位不正确。")
    return code


def national_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def normalize_national_id(value: str, *, today: datetime.date | None = None) -> str:
    """Return the canonical resident ID number (upper-case X) or raise IdentifierError."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise IdentifierError("身份证号码应为18位。")
    if not _RIC_RE.match(number):
        raise IdentifierError("身份证号码前17位应为数字，最后一位为数字或X。")
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError("身份证号码中的出生日期不存在。") from None
    today = today or datetime.date.today()
    if birth > today or birth.year < 1900:
        raise IdentifierError("身份证号码中的出生日期超出合理范围。")
    if national_id_check_char(number[:17]) != number[17]:
        raise IdentifierError("身份证号码校验位不正确。")
    return number


_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value: str) -> str:
    """A mainland mobile (13800138000) or landline (0578-2123456) number, or IdentifierError."""
    raw = (value or "").strip()
    if re.search(r"[^\d\s\-+()（）]", raw):
        raise IdentifierError("电话号码只能包含数字、空格、括号、加号和连字符。")
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") or raw.startswith("0086"):
        digits = re.sub(r"^(0086|86)", "", digits)
        if not digits.startswith("1"):
            digits = "0" + digits  # +86 578 2123456 is the landline 0578-2123456
    if _MOBILE_RE.match(digits):
        return digits
    if digits.startswith("0"):
        area_length = 3 if digits[1] in "12" else 4  # 010 and 02x have three digits, others four
        area, local = digits[:area_length], digits[area_length:]
        if len(local) in (7, 8) and local[0] in "23456789":
            return f"{area}-{local}"
    raise IdentifierError("电话号码格式不正确：手机号为11位（1开头），固定电话为区号加7-8位号码。")


def mask_national_id(number: str) -> str:
    return f"{number[:6]}********{number[-4:]}"


def mask_phone(number: str) -> str:
    if "-" in number:
        area, local = number.split("-", 1)
        return f"{area}-{local[:2]}{'*' * (len(local) - 4)}{local[-2:]}"
    return f"{number[:3]}****{number[-4:]}"
