"""`/api/v1/finance/products/`: banks read and change their own products only (404 for another
bank's), staff read all, city administrators create for a named bank; bad input is a 400 with the
field; the list is pinned in queries."""

import pytest
from rest_framework.test import APIClient

from directory.models import User
from directory.services import issue_api_client
from finance.models import LoanProduct

pytestmark = pytest.mark.django_db
URL = "/api/v1/finance/products/"
PAYLOAD = {
    "code": "GEP-2026",
    "name": "GEP生态贷",
    "kind": "gep_loan",
    "guarantee_requirement": "pledge",
    "eligible_right_kinds": ["contract", "management"],
    "eligible_resource_types": ["forest"],
    "max_ltv": "0.6",
    "max_amount": "1000000.00",
    "rate_min": "0.036",
    "rate_max": "0.048",
    "repayment_methods": ["equal_installment"],
    "payment_frequencies": ["monthly", "quarterly"],
}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(organization, issued_by):
    _token, raw = issue_api_client(organization=organization, name="信贷系统", issued_by=issued_by)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def village_clerk_user(demo_region):
    return User.objects.get(username="village_clerk")


def test_lists_are_scoped_and_pinned(
    make_product,
    second_bank,
    second_bank_officer,
    bank_officer,
    county_staff,
    village_clerk_user,
    django_assert_max_num_queries,
    catalog,
):
    for _n in range(3):
        make_product()
    theirs = make_product(bank_org=second_bank, created_by=second_bank_officer)
    with django_assert_max_num_queries(8):
        body = api(county_staff).get(URL).json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first["apr"][0] == {
        "frequency": "monthly",
        "simple_min": "0.030000",
        "simple_max": "0.060000",
        "compound_min": "0.030416",
        "compound_max": "0.061678",
    }
    bank = token_client(make_product().bank, bank_officer)
    with django_assert_max_num_queries(10):
        own = bank.get(URL).json()
    assert own["count"] == 4 and theirs.pk not in [row["id"] for row in own["results"]]
    assert bank.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api(second_bank_officer).get(URL).json()["count"] == 1
    assert api(village_clerk_user).get(URL).json()["count"] == 0
    assert api(county_staff).get(URL, {"bank": second_bank.pk}).json()["count"] == 1
    assert api(county_staff).get(URL, {"is_active": "false"}).json()["count"] == 0


def test_a_bank_creates_and_changes_its_own_products(bank, bank_officer, second_bank, catalog):
    client = token_client(bank, bank_officer)
    made = client.post(URL, PAYLOAD, format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["bank"] == bank.pk and body["eligible_resource_types"] == ["forest"]
    assert body["apr"][1]["frequency"] == "quarterly" and body["apr"][1]["compound_min"] == "0.036489"
    pk = body["id"]
    changed = client.patch(f"{URL}{pk}/", {"rate_max": "0.05", "name": "GEP生态贷（二期）"}, format="json")
    assert changed.status_code == 200 and changed.json()["rate_max"] == "0.050000"
    assert changed.json()["max_ltv"] == "0.600000"  # untouched fields stay
    off = client.post(f"{URL}{pk}/deactivate/")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client.post(f"{URL}{pk}/activate/").json()["is_active"] is True
    refused = client.post(URL, {**PAYLOAD, "code": "X-1", "bank": second_bank.pk}, format="json")
    assert refused.status_code == 403
    duplicate = client.post(URL, PAYLOAD, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
    moved = client.patch(f"{URL}{pk}/", {"bank": second_bank.pk}, format="json")
    assert moved.status_code == 400 and "bank" in moved.json()["fields"]
    assert LoanProduct.objects.count() == 1


def test_another_bank_gets_404_on_every_write(make_product, second_bank_officer, second_bank, catalog):
    product = make_product()
    client = token_client(second_bank, second_bank_officer)
    assert client.get(f"{URL}{product.pk}/").status_code == 404
    assert client.patch(f"{URL}{product.pk}/", {"name": "抢"}, format="json").status_code == 404
    assert client.put(f"{URL}{product.pk}/", PAYLOAD, format="json").status_code == 404
    assert client.post(f"{URL}{product.pk}/deactivate/").status_code == 404
    assert client.delete(f"{URL}{product.pk}/").status_code in (404, 405)
    product.refresh_from_db()
    assert product.is_active and product.name.startswith("测试生态贷")


def test_staff_read_but_do_not_write_and_city_admins_name_the_bank(
    make_product, county_staff, city_admin, second_bank, catalog
):
    product = make_product()
    staff = api(county_staff)
    assert staff.get(f"{URL}{product.pk}/").status_code == 200
    refused = staff.patch(f"{URL}{product.pk}/", {"name": "改"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert staff.post(URL, PAYLOAD, format="json").status_code == 403
    admin = api(city_admin)
    missing = admin.post(URL, PAYLOAD, format="json")
    assert missing.status_code == 400 and "bank" in missing.json()["fields"]
    made = admin.post(URL, {**PAYLOAD, "bank": second_bank.pk}, format="json")
    assert made.status_code == 201 and made.json()["bank"] == second_bank.pk
    not_a_bank = admin.post(
        URL, {**PAYLOAD, "code": "Y", "bank": county_staff.active_memberships[0].organization_id}
    )
    assert not_a_bank.status_code == 400 and "bank" in not_a_bank.json()["fields"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_ltv": "1.5"}, "max_ltv"),
        ({"max_ltv": "0"}, "max_ltv"),
        ({"haircut": "1"}, "haircut"),
        ({"rate_min": "0.05", "rate_max": "0.04"}, "rate_max"),
        ({"rate_max": "0.24"}, "rate_max"),
        ({"eligible_right_kinds": ["ownership"]}, "eligible_right_kinds"),
        ({"eligible_right_kinds": []}, "eligible_right_kinds"),
        ({"eligible_resource_types": ["unicorn-meadow"]}, "eligible_resource_types"),
        ({"repayment_methods": []}, "repayment_methods"),
        ({"payment_frequencies": ["daily"]}, "payment_frequencies"),
        ({"term_min_months": 24, "term_max_months": 12}, "term_max_months"),
        ({"min_amount": "2000000"}, "max_amount"),
        ({"penalty_markup": "0.8"}, "penalty_markup"),
        ({"kind": "magic"}, "kind"),
        ({"code": "A B"}, "code"),
    ],
)
def test_bad_products_are_refused_with_the_field(bank, bank_officer, changes, field, catalog):
    response = api(bank_officer).post(URL, {**PAYLOAD, **changes}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    assert LoanProduct.objects.count() == 0
