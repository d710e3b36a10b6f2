"""The public trace page shows exactly the batch's data — origin, producer, GEP, tests,
certificates, inspections, journal receipt — and no personal data."""

import datetime
import json
from decimal import Decimal

import pytest

from journal.services import PERSONAL_NUMBER, sequence_pending
from resources import services as registry
from transactions.tests.test_packages_services import make_valuation

from ..selectors import trace_view
from ..services import lifecycle, records

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def traced(make_licence, make_batch, tea_garden, households, county_staff, producer_user):
    """A batch from a tea garden held by a household (whose name must never appear), valued by GEP,
    tested, certified and inspected; and a second batch of another product."""
    garden = tea_garden()
    registry.grant_right(
        actor=county_staff, asset=garden, holder=households[0], kind="contract", share=1,
        start=D(2020, 1, 1), source_document="承包经营权证（测试）",
    )  # fmt: skip
    make_valuation(garden, [Decimal("60000"), Decimal("40000")], user=county_staff)
    licence = make_licence(origins=[garden])
    batch = make_batch(licence)
    other = make_batch(licence, product_name="另一批红茶", quantity="80")
    records.record_test(
        actor=producer_user, batch=batch, tested_on=D(2026, 4, 26), laboratory="丽水市农产品质量检测中心",
        report_number="JC-2026-001", items=[{"item": "草甘膦", "value": "未检出", "passed": True}], passed=True,
    )  # fmt: skip
    records.add_certificate(
        actor=producer_user,
        batch=batch,
        kind="green_food",
        number="LB-45-2026",
        issuer="中国绿色食品发展中心",
    )
    lifecycle.record_inspection(
        actor=county_staff, licence=licence, kind="routine", inspected_on=D(2026, 3, 15),
        inspector="丽水山耕品牌运营中心", result="pass", findings="基地管理规范。",
    )  # fmt: skip
    sequence_pending()
    return batch, other, garden, households[0]


def test_the_trace_view_is_exactly_the_batch(traced):
    batch, other, garden, _holder = traced
    t = trace_view(batch.trace_code)
    assert set(t) == {
        "batch",
        "brand",
        "producer",
        "licence",
        "origins",
        "tests",
        "certificates",
        "inspections",
        "journal",
    }
    assert t["batch"]["number"] == batch.number and t["batch"]["product"] == "丽水山耕·莲都白茶"
    assert t["brand"] == "丽水山耕" and t["producer"]["name"] == batch.producer.name
    assert [o["code"] for o in t["origins"]] == [garden.code]
    gep = t["origins"][0]["gep"]
    assert gep["total"] == Decimal("100000.00") and sum(c["value"] for c in gep["categories"]) == gep["total"]
    assert [x["report_number"] for x in t["tests"]] == ["JC-2026-001"]
    assert [c["number"] for c in t["certificates"]] == ["LB-45-2026"]
    assert [i["inspector"] for i in t["inspections"]] == ["丽水山耕品牌运营中心"]
    assert t["journal"]["seq"] >= 1
    assert trace_view(other.trace_code)["tests"] == [] and trace_view("nope") is None


def test_the_page_shows_the_batch_and_no_personal_data(
    client, traced, producer_user, county_staff, django_assert_max_num_queries
):
    batch, other, garden, holder = traced
    with django_assert_max_num_queries(20):
        page = client.get(f"/trace/{batch.trace_code}/")
    html = page.content.decode()
    assert page.status_code == 200
    for shown in (
        batch.number,
        "丽水山耕·莲都白茶",
        garden.code,
        "JC-2026-001",
        "LB-45-2026",
        "基地管理规范",
    ):
        assert shown in html
    assert other.number not in html and "另一批红茶" not in html
    for hidden in (
        holder.person.name,
        producer_user.username,
        county_staff.username,
        county_staff.get_full_name() or "@@",
    ):
        assert hidden not in html
    assert not PERSONAL_NUMBER.search(html)
    assert "path" not in json.dumps(trace_view(batch.trace_code)["producer"])


def test_query_count_does_not_grow_with_origins(client, make_licence, make_batch, tea_garden, county_staff):
    one = make_batch(make_licence(origins=[tea_garden()]))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get(f"/trace/{one.trace_code}/")
    from directory.models import Organization

    other_producer = Organization.objects.create(
        name="另一茶企（测试）", kind="enterprise", division=one.producer.division
    )
    five = make_batch(
        make_licence(producer=other_producer, origins=[tea_garden() for _ in range(5)]), actor=county_staff
    )
    with CaptureQueriesContext(connection) as second:
        client.get(f"/trace/{five.trace_code}/")
    # one GEP lookup pair per origin is the only growth allowed (each origin is valued on its own)
    assert len(second) - len(first) <= 2 * 4


def test_recall_and_suspension_are_shown_honestly(client, traced, producer_user, county_staff):
    batch, *_ = traced
    records.recall_batch(actor=producer_user, batch=batch, reason="农残复检超标")
    lifecycle.suspend_licence(actor=county_staff, licence=batch.licence, reason="整改")
    html = client.get(f"/trace/{batch.trace_code}/").content.decode()
    assert 'id="trace-recall"' in html and "农残复检超标" in html and 'id="trace-licence-warning"' in html


def test_unknown_codes_and_the_qr(client, traced):
    batch, *_ = traced
    missing = client.get("/trace/not-a-real-code/")
    assert missing.status_code == 404 and "未找到该溯源码" in missing.content.decode()
    qr = client.get(f"/trace/{batch.trace_code}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert client.get("/trace/not-a-real-code/qr.svg").status_code == 404
    assert client.get("/trace/", {"code": batch.trace_code}).url == f"/trace/{batch.trace_code}/"
