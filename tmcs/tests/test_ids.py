import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmcs.ids import (
    USCC_CHARSET,
    IdentifierError,
    mask_national_id,
    mask_phone,
    national_id_check_char,
    normalize_national_id,
    normalize_phone,
    normalize_uscc,
    uscc_check_char,
)


@pytest.mark.parametrize("number", ["11010519491231002X", "331102198001010019", "331127199006151234"])
def test_valid_national_ids_from_the_standard_and_ids_md(number):
    assert normalize_national_id(number) == number


def test_lower_case_x_is_accepted_and_stored_upper():
    assert normalize_national_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("331102198001010018", "校验位"),
        ("331102198002300018", "出生日期不存在"),  # 30 February
        ("33110219800101001", "18位"),
        ("33110219800101001A", "最后一位"),
        ("", "18位"),
    ],
)
def test_invalid_national_ids(number, message):
    with pytest.raises(IdentifierError, match=message):
        normalize_national_id(number)


def test_future_birth_date_is_rejected():
    body = "331102" + "20991231" + "001"
    number = body + national_id_check_char(body)
    with pytest.raises(IdentifierError, match="合理范围"):
        normalize_national_id(number, today=datetime.date(2026, 11, 23))


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91331100MA2A1B3C2R", "913311007451234513"])
def test_valid_usccs(code):
    assert normalize_uscc(code) == code


def test_uscc_lower_case_is_upper_cased():
    assert normalize_uscc("91331100ma2a1b3c2r") == "91331100MA2A1B3C2R"


@pytest.mark.parametrize(
    ("code", "message"),
    [("91331100MA2A1B3C2S", "不允许的字符"), ("91331100MA2A1B3C2Q", "校验位"), ("9133110", "18位")],
)
def test_invalid_usccs(code, message):
    with pytest.raises(IdentifierError, match=message):
        normalize_uscc(code)


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17))
def test_any_uscc_with_its_check_char_validates_and_one_changed_char_does_not(body):
    code = body + uscc_check_char(body)
    assert normalize_uscc(code) == code
    wrong = next(c for c in USCC_CHARSET if c != code[-1])
    with pytest.raises(IdentifierError):
        normalize_uscc(code[:-1] + wrong)


@given(
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2026, 1, 1)), st.integers(0, 999)
)
def test_any_national_id_with_its_check_char_validates(birth, sequence):
    body = f"331102{birth:%Y%m%d}{sequence:03d}"
    number = body + national_id_check_char(body)
    assert normalize_national_id(number) == number


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("0578-2123456", "0578-2123456"),
        ("(0578) 2123 456", "0578-2123456"),
        ("010-62345678", "010-62345678"),
        ("+86 578 2123456", "0578-2123456"),
    ],
)
def test_phone_numbers_are_normalized(raw, normalized):
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["12345", "23800138000", "138001380001", "0578-0123456", "138-0013-800a", ""])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(IdentifierError):
        normalize_phone(raw)


def test_masks():
    assert mask_national_id("331102198001010019") == "331102********0019"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("0578-2123456") == "0578-21***56"
