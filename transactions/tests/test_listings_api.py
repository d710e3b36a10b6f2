# ruff: noqa: F811  (pytest fixtures imported from test_listings_fixtures)
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import User
from directory.services import ensure_party
from transactions.models import (
    AccountKind,
    DepositStatus,
    Listing,
    ListingApplication,
    ListingStatus,
    Movement,
)
from transactions.services import ledger
from transactions.services import listings as svc

from .test_listings_fixtures import (  # noqa: F401  (fixtures)
    collected,
    draft_listing,
    open_listing,
    terms,
    today,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/transactions"


def api(username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def test_staff_create_publish_withdraw(collected, county_staff):
    asset = collected(1)[0]
    staff = api("coop_staff")
    body = {**terms(), "asset": asset.code}
    response = staff.post(f"{BASE}/listings/", {**body, "reserve_price": "-5"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = staff.post(f"{BASE}/listings/", {**body, "asset": ""}, format="json")
    assert response.status_code == 400 and "package" in response.json()["fields"]
    response = staff.post(f"{BASE}/listings/", {**body, "deposit": "200000"}, format="json")
    assert response.status_code == 400 and "deposit" in response.json()["fields"]
    assert api("investor").post(f"{BASE}/listings/", body, format="json").status_code in (400, 403)
    response = staff.post(f"{BASE}/listings/", body, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    assert response.json()["status"] == "draft" and response.json()["public_url"] is None

    response = staff.post(
        f"{BASE}/listings/{pk}/publish/", {"notice_days": 2, "bidding_minutes": 60}, format="json"
    )
    assert response.status_code == 400 and "notice_days" in response.json()["fields"]
    assert api("investor").post(f"{BASE}/listings/{pk}/publish/", {"notice_days": 10}).status_code == 404
    response = staff.post(
        f"{BASE}/listings/{pk}/publish/", {"notice_days": 10, "bidding_minutes": 60}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "in_notice"
    response = staff.post(
        f"{BASE}/listings/{pk}/publish/", {"notice_days": 10, "bidding_minutes": 60}, format="json"
    )
    assert response.status_code == 409
    response = staff.post(f"{BASE}/listings/{pk}/withdraw/", {"reason": "调整"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_investor_sees_only_published(open_listing, draft_listing, django_assert_max_num_queries):
    published = [open_listing() for _ in range(3)]
    draft = draft_listing()
    investor = api("investor")
    with django_assert_max_num_queries(8):
        response = investor.get(f"{BASE}/listings/")
    codes = {row["code"] for row in response.json()["results"]}
    assert codes == {listing.code for listing in published}
    assert investor.get(f"{BASE}/listings/{draft.pk}/").status_code == 404
    staff_codes = {row["code"] for row in api("coop_staff").get(f"{BASE}/listings/").json()["results"]}
    assert draft.code in staff_codes


def test_applications_review_and_idempotent_deposit(
    open_listing, investor_org, county_cooperative, second_investor
):
    listing = open_listing()
    investor = api("investor")
    response = investor.post(f"{BASE}/listing-applications/", {"listing": listing.pk, "statement": "有经验"})
    assert response.status_code == 201
    pk = response.json()["id"]
    again = investor.post(f"{BASE}/listing-applications/", {"listing": listing.pk})
    assert again.status_code == 409 and again.json()["code"] == "duplicate_application"
    svc.apply_for_listing(actor=second_investor, listing=listing)
    mine = investor.get(f"{BASE}/listing-applications/").json()["results"]
    assert [row["id"] for row in mine] == [pk]

    assert investor.post(f"{BASE}/listing-applications/{pk}/review/", {"approve": True}).status_code == 403
    staff = api("coop_staff")
    response = staff.post(f"{BASE}/listing-applications/{pk}/review/", {"approve": False, "note": ""})
    assert response.status_code == 400 and "note" in response.json()["fields"]
    response = staff.post(f"{BASE}/listing-applications/{pk}/review/", {"approve": True}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"

    url = f"{BASE}/listing-applications/{pk}/record-deposit/"
    body = {"amount": "10000.00", "reference": "BANK-9", "occurred_on": today().isoformat()}
    response = staff.post(url, {**body, "amount": "10000.01"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 400 and "amount" in response.json()["fields"]
    first = staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["bidder_number"] == second.json()["bidder_number"] == "001"
    assert Movement.objects.filter(application_id=pk).count() == 1
    assert ledger.balance(AccountKind.CASH, ensure_party(county_cooperative)) == Decimal("10000.00")
    assert ledger.balance(AccountKind.DEPOSIT_HELD, ensure_party(investor_org)) == Decimal("-10000.00")
    third = staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert third.status_code == 409
    bad_key = staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="键")
    assert bad_key.status_code == 400
    assert ListingApplication.objects.get(pk=pk).deposit_status == DepositStatus.PAID


def test_application_to_draft_is_refused(draft_listing):
    listing = draft_listing()
    response = api("investor").post(f"{BASE}/listing-applications/", {"listing": listing.pk})
    assert response.status_code == 404
    assert not ListingApplication.objects.exists()
    assert Listing.objects.get().status == ListingStatus.DRAFT
