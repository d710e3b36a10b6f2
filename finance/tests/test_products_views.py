"""Product pages: the list (staff all, a bank its own) with XLSX export, the product page with the
annualised rates, and the create / edit / off-sale forms (per cent in, fractions stored)."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from finance.models import LoanProduct
from resources.models import ResourceType

pytestmark = pytest.mark.django_db

FORM = {
    "code": "ECO-01",
    "name": "两山信用贷",
    "kind": "eco_credit_loan",
    "description": "",
    "guarantee_requirement": "none",
    "max_ltv": "60",
    "haircut": "20",
    "income_share_of_gep": "30",
    "discount_rate": "6",
    "max_valuation_years": "20",
    "appraisal_valid_days": "365",
    "min_amount": "10000",
    "max_amount": "300000",
    "rate_min": "3.6",
    "rate_max": "5.25",
    "penalty_markup": "50",
    "term_min_months": "6",
    "term_max_months": "60",
    "repayment_methods": ["equal_installment", "equal_principal"],
    "payment_frequencies": ["monthly"],
    "day_count": "act_360",
    "min_credit_score": "650",
}


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_list_scope_and_export(
    make_product,
    second_bank,
    second_bank_officer,
    login,
    county_staff,
    bank_officer,
    django_assert_max_num_queries,
):
    ours = make_product(name="示范GEP贷")
    theirs = make_product(bank_org=second_bank, created_by=second_bank_officer, name="他行碳汇贷")
    client = login(county_staff)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("finance:product-list")).content.decode()
    assert "示范GEP贷" in page and "他行碳汇贷" in page and "3.00%" in page
    assert reverse("finance:product-create") not in page  # staff read, banks write
    bank_page = login(bank_officer).get(reverse("finance:product-list")).content.decode()
    assert "示范GEP贷" in bank_page and "他行碳汇贷" not in bank_page
    assert reverse("finance:product-create") in bank_page
    filtered = login(county_staff).get(reverse("finance:product-list"), {"bank": second_bank.pk})
    assert "示范GEP贷" not in filtered.content.decode()
    export = login(county_staff).get(reverse("finance:product-list"), {"export": "xlsx", "kind": "gep_loan"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("产品代码", "产品名称", "贷款银行") and len(rows) == 3
    assert {row[1] for row in rows[1:]} == {ours.name, theirs.name} and rows[1][6] == "3.00%"


def test_product_page_shows_the_annualised_rates(
    make_product, second_bank, second_bank_officer, login, bank_officer
):
    product = make_product(rate_min=Decimal("0.036"), rate_max=Decimal("0.06"))
    page = login(bank_officer).get(product.get_absolute_url()).content.decode()
    assert "product-apr" in page and "3.60% — 6.00%" in page
    assert "3.66% — 6.17%" in page  # monthly: (1 + r/12)^12 − 1
    assert "3.65% — 6.14%" in page  # quarterly: (1 + r/4)^4 − 1
    assert "product-actions" in page
    assert login(second_bank_officer).get(product.get_absolute_url()).status_code == 404


def test_a_bank_officer_creates_a_product_in_per_cent(bank, login, bank_officer, catalog):
    client = login(bank_officer)
    assert "bank" not in client.get(reverse("finance:product-create")).context["form"].fields
    forest = ResourceType.objects.get(code="forest")
    response = client.post(
        reverse("finance:product-create"), {**FORM, "eligible_resource_types": [forest.pk]}
    )
    product = LoanProduct.objects.get()
    assert list(product.eligible_resource_types.all()) == [forest]
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert (product.bank, product.rate_min, product.rate_max) == (bank, Decimal("0.036"), Decimal("0.0525"))
    assert (product.max_ltv, product.haircut, product.penalty_markup) == (
        Decimal("0.6"),
        Decimal("0.2"),
        Decimal("0.5"),
    )
    bad = client.post(reverse("finance:product-create"), {**FORM, "code": "ECO-02", "penalty_markup": "80"})
    assert bad.status_code == 200 and "银发〔2003〕251号" in bad.content.decode()
    duplicate = client.post(reverse("finance:product-create"), FORM)
    assert duplicate.status_code == 200 and "该银行已有代码为" in duplicate.content.decode()
    assert LoanProduct.objects.count() == 1


def test_city_admins_choose_the_bank_and_staff_may_not_create(
    second_bank, login, city_admin, county_staff, catalog
):
    assert login(county_staff).get(reverse("finance:product-create")).status_code == 403
    client = login(city_admin)
    assert "bank" in client.get(reverse("finance:product-create")).context["form"].fields
    missing = client.post(reverse("finance:product-create"), FORM)
    assert missing.status_code == 200 and LoanProduct.objects.count() == 0
    assert client.post(reverse("finance:product-create"), {**FORM, "bank": second_bank.pk}).status_code == 302
    assert LoanProduct.objects.get().bank == second_bank


def test_edit_and_take_off_sale(
    make_product, login, bank_officer, second_bank_officer, county_staff, catalog
):
    product = make_product()
    edit = reverse("finance:product-edit", args=[product.pk])
    assert login(second_bank_officer).get(edit).status_code == 404
    assert login(county_staff).get(edit).status_code == 403
    client = login(bank_officer)
    form = client.get(edit).context["form"]
    assert form.initial["rate_max"] == Decimal("6") and form.initial["max_ltv"] == Decimal("60")
    data = {**FORM, "code": product.code, "guarantee_requirement": "pledge", "eligible_right_kinds": []}
    refused = client.post(edit, data)
    assert refused.status_code == 200 and "需要抵质押的产品须至少选择一种" in refused.content.decode()
    product.refresh_from_db()
    assert product.name.startswith("测试生态贷")
    farmland = ResourceType.objects.get(code="farmland")
    saved = client.post(
        edit, {**data, "eligible_right_kinds": ["contract"], "eligible_resource_types": [farmland.pk]}
    )
    assert saved.status_code == 302
    product.refresh_from_db()
    assert list(product.eligible_resource_types.all()) == [farmland]
    assert product.name == "两山信用贷" and product.eligible_right_kinds == ["contract"]
    active = reverse("finance:product-active", args=[product.pk])
    assert login(second_bank_officer).post(active, {"active": "0"}).status_code == 404
    assert login(county_staff).post(active, {"active": "0"}).status_code == 403
    login(bank_officer).post(active, {"active": "0"})
    product.refresh_from_db()
    assert product.is_active is False
