"""The brand API: public trace JSON, scoped licence/batch lists, trade volumes for the right bank."""

import datetime

import pytest
from rest_framework.test import APIClient

from ..services import trade

pytestmark = pytest.mark.django_db


def test_public_trace_json_needs_no_token(make_licence, make_batch):
    batch = make_batch(make_licence())
    client = APIClient()
    data = client.get(f"/api/v1/brand/trace/{batch.trace_code}/").json()
    assert data["batch"]["number"] == batch.number and data["brand"] == "丽水山耕"
    assert client.get("/api/v1/brand/trace/nothing-here/").status_code == 404


def test_lists_are_scoped_and_do_not_grow_queries(
    make_licence, make_batch, producer_user, bank_officer, django_assert_max_num_queries
):
    licence = make_licence()
    for n in range(3):
        make_batch(licence, product_name=f"批次{n}")
    client = APIClient()
    client.force_authenticate(producer_user)
    with django_assert_max_num_queries(12):
        batches = client.get("/api/v1/brand/batches/").json()
    assert batches["count"] == 3
    assert client.get("/api/v1/brand/licences/").json()["results"][0]["number"] == licence.number
    client.force_authenticate(bank_officer)
    assert client.get("/api/v1/brand/batches/").json()["count"] == 0
    assert client.get(f"/api/v1/brand/licences/{licence.number}/").status_code == 404


def test_a_bank_reads_trade_volumes_only_after_the_producer_applied_to_it(
    make_licence, make_batch, producer, producer_user, bank_officer, make_application
):
    batch = make_batch(make_licence())
    trade.record_sale(
        actor=producer_user, batch=batch, sold_on=datetime.date(2026, 5, 3), channel="wholesale",
        buyer_name="茶商甲", quantity="100", amount="16000.00", invoice_number="FP-1",
    )  # fmt: skip
    client = APIClient()
    client.force_authenticate(bank_officer)
    url = f"/api/v1/brand/trade-volumes/{producer.pk}/"
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/brand/trade-volumes/abc/").status_code == 404
    make_application(applicant=producer.party)
    data = client.get(url).json()
    assert data["periods"][0]["period"] == "2026-05" and data["periods"][0]["amount"] == "16000.00"
    assert APIClient().get(url).status_code in (401, 403)
