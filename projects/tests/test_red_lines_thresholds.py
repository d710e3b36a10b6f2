# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""Thresholds: defaults and overrides, the warning line before the limit in each direction (the
service refuses with a clear message, the database check backs it), and who may set them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from projects.models import RedLine, RedLineDirection, RedLineKey
from projects.services import red_lines
from tmcs.errors import DomainError, PermissionDeniedError

from .fixtures_red_lines import auditor, red_line_defaults  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("red_line_defaults")]


def setting(**changes):
    values = dict(key="debt_ratio", direction="max", limit="0.70", warning="0.60", source="本社制度")
    values.update(changes)
    return values


def test_override_wins_and_default_applies_elsewhere(city_admin, county_cooperative, city_cooperative):
    line = red_lines.set_red_line(actor=city_admin, cooperative=county_cooperative, **setting())
    assert (line.limit, line.warning, line.updated_by) == (Decimal("0.70"), Decimal("0.60"), city_admin)
    assert red_lines.red_line_for(county_cooperative, "debt_ratio").pk == line.pk
    assert red_lines.red_line_for(city_cooperative, "debt_ratio").cooperative_id is None
    again = red_lines.set_red_line(actor=city_admin, cooperative=county_cooperative, **setting(limit="0.72"))
    assert again.pk == line.pk and again.limit == Decimal("0.72")
    assert RedLine.objects.filter(cooperative=county_cooperative).count() == 1
    assert (
        red_lines.clear_red_line(actor=city_admin, cooperative=county_cooperative, key="debt_ratio") is True
    )
    assert red_lines.red_line_for(county_cooperative, "debt_ratio").cooperative_id is None


def test_default_can_be_changed_not_deleted(city_admin):
    line = red_lines.set_red_line(
        actor=city_admin,
        cooperative=None,
        **setting(key="liquidity", direction="min", limit="1.1", warning="1.3"),
    )
    assert line.cooperative_id is None and line.limit == Decimal("1.1")
    assert RedLine.objects.filter(cooperative=None, key="liquidity").count() == 1
    with pytest.raises(DomainError):
        red_lines.clear_red_line(actor=city_admin, cooperative=None, key="liquidity")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"warning": "0.80"}, "warning", "不能高于红线"),
        (
            {"key": "liquidity", "direction": "min", "limit": "1.2", "warning": "1.0"},
            "warning",
            "不能低于红线",
        ),
        ({"direction": "min", "limit": "0.7", "warning": "0.8"}, "direction", "只能设为"),
        ({"key": "cash_ratio"}, "key", "无效"),
        ({"direction": "up"}, "direction", "无效"),
        ({"limit": "-0.1", "warning": "-0.2"}, "limit", "负数"),
        ({"limit": "abc"}, "limit", "有效的数字"),
        ({"limit": "0.1234567", "warning": "0.1"}, "limit", "六位小数"),
        ({"limit": "1e20", "warning": "0.1"}, "limit", "超出范围"),
        ({"source": " "}, "source", "依据"),
    ],
)
def test_bad_thresholds_refused(city_admin, county_cooperative, changes, field, words):
    with pytest.raises(DomainError) as info:
        red_lines.set_red_line(actor=city_admin, cooperative=county_cooperative, **setting(**changes))
    assert field in info.value.fields and words in str(info.value.detail)
    assert not RedLine.objects.filter(cooperative=county_cooperative).exists()


def test_the_database_backs_the_order_of_the_lines(county_cooperative):
    with pytest.raises(IntegrityError):
        RedLine.objects.create(
            cooperative=county_cooperative,
            key=RedLineKey.DEBT_RATIO,
            direction=RedLineDirection.MAX,
            limit=Decimal("0.5"),
            warning=Decimal("0.6"),
            source="绕过服务",
        )


def test_only_city_administrators_set_thresholds(county_staff, auditor, investor_org, county_cooperative):
    for actor in (county_staff, auditor):
        with pytest.raises(PermissionDeniedError):
            red_lines.set_red_line(actor=actor, cooperative=county_cooperative, **setting())
        with pytest.raises(PermissionDeniedError):
            red_lines.set_red_line(actor=actor, cooperative=None, **setting())
    with pytest.raises(DomainError) as info:
        red_lines.set_red_line(actor=county_staff, cooperative=investor_org, **setting())
    assert "cooperative" in info.value.fields
    assert RedLine.objects.filter(cooperative__isnull=False).count() == 0
    assert RedLine.objects.get(cooperative=None, key="debt_ratio").limit == Decimal("0.75")


def test_status_by_direction():
    status = red_lines.status_for
    m, n = RedLineDirection.MAX, RedLineDirection.MIN
    assert [
        status(Decimal(v), m, Decimal("0.75"), Decimal("0.65")) for v in ("0.65", "0.66", "0.75", "0.76")
    ] == [
        "ok",
        "warning",
        "warning",
        "breach",
    ]
    assert [
        status(Decimal(v), n, Decimal("1.0"), Decimal("1.2")) for v in ("1.2", "1.19", "1.0", "0.99")
    ] == [
        "ok",
        "warning",
        "warning",
        "breach",
    ]
    assert status(Decimal("0"), m, Decimal("0"), Decimal("0")) == "ok"
    assert status(Decimal("0.01"), m, Decimal("0"), Decimal("0")) == "breach"
