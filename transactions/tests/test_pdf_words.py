from decimal import Decimal

import pytest

from transactions.pdf import amount_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("1005.30", "壹仟零伍元叁角整"),
        ("1005.03", "壹仟零伍元零叁分"),
        ("100000", "壹拾万元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("9380000", "玖佰叁拾捌万元整"),
        ("120003000.45", "壹亿贰仟万叁仟元肆角伍分"),
        ("120000300", "壹亿贰仟万零叁佰元整"),
        ("100000001", "壹亿零壹元整"),
        ("2792800.00", "贰佰柒拾玖万贰仟捌佰元整"),
    ],
)
def test_capital_amounts(amount, words):
    assert amount_in_words(Decimal(amount)) == words
