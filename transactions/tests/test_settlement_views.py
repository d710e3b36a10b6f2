"""Settlement pages: ledger lists and details, balances, statements, the payment, distribution
and schedule forms, with permissions and query-count pins."""

# ruff: noqa: F811  (the `build` fixture is imported)
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from directory.models import User
from transactions.models import (
    AccountKind,
    Distribution,
    Movement,
    MovementKind,
    RevenueModel,
    ScheduleKind,
    ScheduleStatus,
)
from transactions.services import distribution as dist
from transactions.services import ledger, settlement
from transactions.tests.test_settlement_support import assets_of, build, ledger_total  # noqa: F401

PAID_ON = datetime.date(2025, 6, 1)


def _login(client, username):
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def scene(county_staff, build, households):
    """A dividend contract with three holders, a trade contract paid three times, a declaration."""
    contract = build.collection(
        [(households[0], "1/2"), (households[1], "1/4"), (households[2], "1/4")], rate=Decimal("0.5")
    )
    trade = build.trade(assets_of(contract), installments=("600.00", "600.00"))
    for n, amount in enumerate(("100.00", "200.00", "300.00")):
        settlement.record_investor_payment(
            actor=county_staff, contract=trade, amount=amount, occurred_on=PAID_ON, reference=f"B-{n}"
        )
    distribution = dist.declare_distribution(
        actor=county_staff,
        contract=contract,
        kind="dividend",
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2026, 1, 1),
    )
    return contract, trade, distribution


def test_movement_list_filters_exports_and_is_pinned(client, scene, django_assert_max_num_queries):
    _contract, trade, _distribution = scene
    _login(client, "coop_staff")
    url = reverse("transactions:movement-list")
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "B-2" in page and "确认分红" in page and trade.number in page
    response = client.get(url, {"kind": MovementKind.PAYMENT_RECEIVED, "date_from": "2025-06-01"})
    rows = response.context["rows"]
    assert len(rows) == 3 and all(obj.kind == MovementKind.PAYMENT_RECEIVED for obj, _cells in rows)
    assert client.get(url, {"contract": trade.number}).context["page"].paginator.count == 4
    assert client.get(url, {"date_from": "bad"}).context["page"].paginator.count == 0
    export = client.get(url, {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_investor_and_clerk_see_only_their_movements(client, scene, households):
    _distribution = scene[2]
    _login(client, "investor")
    rows = client.get(reverse("transactions:movement-list")).context["rows"]
    # The investor's own accounts: the price recognised and the three payments, not the dividend.
    assert {obj.kind for obj, _cells in rows} == {MovementKind.PRICE_DUE, MovementKind.PAYMENT_RECEIVED}
    dividend = Movement.objects.get(kind=MovementKind.DIVIDEND_DECLARED)
    assert client.get(reverse("transactions:movement-detail", args=[dividend.pk])).status_code == 404
    client.logout()
    _login(client, "village_clerk")
    rows = client.get(reverse("transactions:movement-list")).context["rows"]
    assert [obj.kind for obj, _cells in rows] == [MovementKind.DIVIDEND_DECLARED]
    response = client.get(reverse("transactions:distribution-detail", args=[_distribution.pk]))
    assert response.status_code == 200 and "支付收益" not in response.content.decode()


def test_movement_detail_and_reversal(client, scene, build):
    _contract, trade, _distribution = scene
    payment = Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).order_by("pk").last()
    _login(client, "coop_staff")
    url = reverse("transactions:movement-detail", args=[payment.pk])
    page = client.get(url).content.decode()
    assert "银行存款" in page and "应收交易价款" in page and "300.00" in page and "冲正" in page
    reverse_url = reverse("transactions:movement-reverse", args=[payment.pk])
    response = client.post(reverse_url, {"reason": ""}, follow=True)
    assert "请填写冲正原因" in response.content.decode()
    assert not Movement.objects.filter(kind=MovementKind.REVERSAL).exists()
    response = client.post(reverse_url, {"reason": "重复登记"}, follow=True)
    reversal = Movement.objects.get(kind=MovementKind.REVERSAL)
    assert response.redirect_chain[-1][0] == reverse("transactions:movement-detail", args=[reversal.pk])
    assert "凭证已冲正" in response.content.decode()
    assert trade.installments.get(sequence=1).paid_amount == Decimal("300.00")
    assert ledger_total() == 0
    client.logout()
    _login(client, "investor")
    other = Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).order_by("pk").first()
    assert "冲正" not in client.get(reverse("transactions:movement-detail", args=[other.pk])).content.decode()
    assert (
        client.post(reverse("transactions:movement-reverse", args=[other.pk]), {"reason": "x"}).status_code
        == 403
    )


def test_balances_and_statement(client, scene, build, households, django_assert_max_num_queries):
    _login(client, "coop_staff")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("transactions:ledger-balances"))
    rows = {row["party"].pk: row for row in response.context["rows"]}
    assert rows[build.investor_party.pk]["receivable"] == Decimal("600.00")
    assert rows[build.coop_party.pk]["cash"] == Decimal("600.00")
    assert rows[households[0].pk]["payable"] == Decimal("150.00")
    assert response.context["totals"]["payable"] == Decimal("300.00")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("transactions:party-statement", args=[build.coop_party.pk]))
    cash = [p for p in response.context["postings"] if p.account.kind == AccountKind.CASH]
    assert [p.running for p in cash] == [Decimal("100.00"), Decimal("300.00"), Decimal("600.00")]
    client.logout()
    _login(client, "investor")
    rows = client.get(reverse("transactions:ledger-balances")).context["rows"]
    assert [row["party"].pk for row in rows] == [build.investor_party.pk]
    assert households[0].pk not in {row["party"].pk for row in rows}
    assert client.get(reverse("transactions:party-statement", args=[households[0].pk])).status_code == 403


def test_payment_form(client, build, county_staff):
    trade = build.trade([build.asset()], installments=("500.00",))
    url = reverse("transactions:payment-create") + f"?contract={trade.pk}"
    _login(client, "coop_staff")
    page = client.get(url)
    assert page.status_code == 200 and "500.00" in page.content.decode()
    key = page.context["form"].initial["idempotency_key"]
    data = {"amount": "600.00", "occurred_on": "2025-06-01", "reference": "BK-1", "idempotency_key": key}
    response = client.post(url, data)
    assert response.status_code == 400 and "尚欠 500.00 元" in response.content.decode()
    assert "500.00" in response.context["form"].errors["amount"][0]  # shown at the field
    response = client.post(url, {**data, "amount": "200.00"})
    movement = Movement.objects.get(kind=MovementKind.PAYMENT_RECEIVED)
    assert response.status_code == 302 and response["Location"].endswith(f"/movements/{movement.pk}/")
    client.post(url, {**data, "amount": "200.00"})  # a double submit
    assert Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).count() == 1
    assert client.post(url, {**data, "amount": ""}).status_code == 400
    client.logout()
    _login(client, "investor")
    assert client.get(url).status_code == 403
    _login(client, "village_clerk")
    assert client.post(url, {**data, "idempotency_key": "x2"}).status_code == 403


def test_distribution_form_and_pay(client, build, county_staff, households):
    contract = build.collection([(households[0], 1)], rate=Decimal("0.5"))
    settlement.record_investor_payment(
        actor=county_staff,
        contract=build.trade(assets_of(contract), installments=("1000.00",)),
        amount="1000.00",
        occurred_on=PAID_ON,
        reference="B",
    )
    url = reverse("transactions:distribution-create") + f"?contract={contract.pk}"
    _login(client, "coop_staff")
    assert client.get(url).context["form"].initial["kind"] == "dividend"
    bad = client.post(url, {"kind": "dividend", "period_start": "2026-01-01", "period_end": "2025-01-01"})
    assert bad.status_code == 400 and "期间止须晚于期间起" in bad.content.decode()
    response = client.post(
        url, {"kind": "dividend", "period_start": "2025-01-01", "period_end": "2026-01-01"}
    )
    distribution = Distribution.objects.get()
    assert response.status_code == 302 and response["Location"] == distribution.get_absolute_url()
    page = client.get(distribution.get_absolute_url()).content.decode()
    assert "500.00" in page and "1000.00" in page and "支付收益" in page
    pay_url = reverse("transactions:distribution-pay", args=[distribution.pk])
    client.post(pay_url, {"occurred_on": "2026-01-05", "reference": "PAY-9"})
    assert ledger.balance(AccountKind.PAYABLE, households[0]) == 0
    response = client.post(pay_url, {"occurred_on": "2026-01-05", "reference": "PAY-10"}, follow=True)
    assert "不能重复支付" in response.content.decode()
    assert Movement.objects.filter(kind=MovementKind.PAYOUT).count() == 1
    overlap = client.post(url, {"kind": "dividend", "period_start": "2025-06-01", "period_end": "2025-12-01"})
    assert overlap.status_code == 400 and "重叠" in overlap.content.decode()
    client.logout()
    _login(client, "village_clerk")
    assert client.get(url).status_code == 403


def test_distribution_list_is_pinned(client, build, county_staff, households, django_assert_max_num_queries):
    for _n in range(3):
        contract = build.collection([(households[0], 1)])
        dist.declare_distribution(
            actor=county_staff,
            contract=contract,
            kind="dividend",
            period_start=datetime.date(2025, 1, 1),
            period_end=datetime.date(2026, 1, 1),
        )
    _login(client, "coop_staff")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("transactions:distribution-list"))
    assert response.context["page"].paginator.count == 3
    assert client.get(reverse("transactions:distribution-list"), {"export": "xlsx"}).status_code == 200


def test_schedule_pay_page(client, build, households):
    contract = build.collection([(households[0], 1)], model=RevenueModel.FIXED_RENT, annual=Decimal("80"))
    build.schedule(
        contract,
        kind=ScheduleKind.RENT,
        due=datetime.date(2025, 1, 1),
        period_start=datetime.date(2024, 1, 1),
        period_end=datetime.date(2025, 1, 1),
        amount="80.00",
    )
    url = reverse("transactions:schedule-pay") + f"?contract={contract.pk}"
    _login(client, "coop_staff")
    assert "80.00" in client.get(url).content.decode()
    assert (
        client.post(url, {"due_on_or_before": "2025-01-01", "occurred_on": "", "reference": "R"}).status_code
        == 400
    )
    response = client.post(
        url, {"due_on_or_before": "2025-01-01", "occurred_on": "2025-01-02", "reference": "R-1"}, follow=True
    )
    assert "已支付 1 笔" in response.content.decode()
    assert contract.schedule.get().status == ScheduleStatus.PAID
    client.logout()
    _login(client, "investor")
    assert client.get(url).status_code == 403
