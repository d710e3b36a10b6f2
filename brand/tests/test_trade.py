"""Sales of batches and the monthly trade volumes a bank reads."""

import datetime
from decimal import Decimal

import pytest

from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from ..models import Sale
from ..selectors import may_read_trade, trade_volumes
from ..services import trade

pytestmark = pytest.mark.django_db

D = datetime.date


MAY_10 = D(2026, 5, 10)


def _sell(actor, batch, qty, amount, invoice, on=MAY_10, buyer="丽水茶叶批发市场某商行"):
    return trade.record_sale(
        actor=actor, batch=batch, sold_on=on, channel="wholesale", buyer_name=buyer,
        quantity=qty, amount=amount, invoice_number=invoice,
    )  # fmt: skip


def test_sales_never_exceed_the_batch_and_reversals_give_quantity_back(
    make_licence, make_batch, producer_user
):
    batch = make_batch(make_licence())  # 500 kg
    _sell(producer_user, batch, "300", "48000.00", "FP-1")
    with pytest.raises(ConflictError) as refused:
        _sell(producer_user, batch, "200.001", "1.00", "FP-2")
    assert refused.value.code == "over_quantity" and "200" in str(refused.value.detail)
    sale = _sell(producer_user, batch, "200", "30000.00", "FP-2", on=D(2026, 6, 2))
    reversal = trade.reverse_sale(actor=producer_user, sale=sale, reason="退货")
    assert reversal.quantity == Decimal("-200") and reversal.amount == Decimal("-30000.00")
    with pytest.raises(ConflictError):
        trade.reverse_sale(actor=producer_user, sale=sale, reason="再次冲销")
    _sell(producer_user, batch, "150", "24000.00", "FP-3", on=D(2026, 6, 20), buyer="电商旗舰店")
    volumes = trade_volumes(batch.producer)
    assert [p["period"] for p in volumes["periods"]] == ["2026-05", "2026-06"]
    may, june = volumes["periods"]
    assert may["quantity"] == {"kg": Decimal("300.000")} and may["amount"] == Decimal("48000.00")
    assert june["quantity"] == {"kg": Decimal("150.000")} and june["amount"] == Decimal("24000.00")
    assert june["sales"] == 1 and volumes["total_amount"] == Decimal("72000.00")


def test_bad_sales_are_refused_and_nothing_is_written(make_licence, make_batch, producer_user, bank_officer):
    batch = make_batch(make_licence())
    _sell(producer_user, batch, "10", "100.00", "FP-1")
    cases = [
        (DomainError, {"qty": "-1"}),
        (DomainError, {"qty": "abc"}),
        (DomainError, {"amount": "1.001"}),
        (DomainError, {"on": D(2026, 4, 1)}),  # before production
        (DomainError, {"on": D(2099, 1, 1)}),
        (ConflictError, {"invoice": "FP-1"}),  # duplicate invoice
    ]
    for error, bad in cases:
        with pytest.raises(error):
            _sell(
                producer_user,
                batch,
                bad.get("qty", "1"),
                bad.get("amount", "10.00"),
                bad.get("invoice", "FP-9"),
                on=bad.get("on", D(2026, 5, 10)),
            )
    with pytest.raises(PermissionDeniedError):
        _sell(bank_officer, batch, "1", "1.00", "FP-10")
    assert Sale.objects.count() == 1


def test_a_recalled_batch_cannot_be_sold(make_licence, make_batch, producer_user):
    batch = make_batch(make_licence())
    batch.status = "recalled"
    batch.save(update_fields=["status"])
    with pytest.raises(ConflictError):
        _sell(producer_user, batch, "1", "1.00", "FP-1")


def test_banks_read_trade_only_of_producers_that_applied_to_them(
    make_licence, make_batch, producer, bank_officer, county_staff
):
    make_batch(make_licence())
    assert may_read_trade(county_staff, producer)
    assert not may_read_trade(bank_officer, producer)
