# ruff: noqa: F811  (fixtures imported from fixtures_insurance and the application fixtures)
"""“A loan product can require insurance and an application is blocked without a valid policy”:
an application under a product requiring 森林火灾及病虫害保险 is refused at submission and at the
checker's approval (code requirement_unmet, the kind named, nothing changed) until the applicant
holds a policy of that kind in force covering the collateral or tied to the application; expired,
cancelled, exhausted, other-insured and other-kind policies do not count. The product side: the
form, the page and the API carry the required kinds, validated."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from finance.models import ApplicationStatus, LoanProduct
from finance.services import applications
from finance.services import products as product_services
from finance.services.appraisal import appraise
from finance.tests.test_applications_fixtures import (  # noqa: F401  (fixtures)
    PAST,
    draft,
)
from greenfinance import checks
from greenfinance.models import PolicyStatus
from greenfinance.services import insurance as services
from tmcs.errors import ConflictError, DomainError

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    insurer,
    make_policy,
)

pytestmark = pytest.mark.django_db
FOREST = "森林火灾及病虫害保险"


@pytest.fixture
def appraised(draft, make_product, county_staff):
    """appraised() → (application, right): a DRAFT under a product requiring forest insurance,
    appraised and otherwise ready to submit."""

    def make(kinds=("forest",)):
        product = make_product(required_insurance_kinds=list(kinds))
        application, right = draft(product=product)
        appraise(actor=county_staff, right=right, product=product, application=application, appraised_on=PAST)
        return application, right

    return make


def refused_for_insurance(call, application, status):
    with pytest.raises(ConflictError) as exc:
        call()
    assert exc.value.code == "requirement_unmet"
    assert FOREST in str(exc.value.detail) and exc.value.fields["product"]
    application.refresh_from_db()
    assert application.status == status
    return exc.value


def test_submission_needs_a_valid_policy_covering_the_collateral(
    appraised, make_policy, county_staff, households, registered_asset
):
    application, right = appraised()
    submit = lambda: applications.submit_application(actor=county_staff, application=application)  # noqa: E731
    error = refused_for_insurance(submit, application, ApplicationStatus.DRAFT)
    assert application.product.name in str(error.detail)
    application.refresh_from_db()
    assert application.prepared_at is None

    asset = right.asset
    # none of these counts
    expired = make_policy(
        start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2026, 1, 1), assets=[asset]
    )
    services.expire_policies(datetime.date(2026, 1, 1))
    not_yet_marked = make_policy(start_date=datetime.date(2025, 6, 1), end_date=PAST, assets=[asset])
    cancelled = make_policy(assets=[asset])
    services.cancel_policy(actor=county_staff, policy=cancelled, reason="退保", on=datetime.date(2026, 2, 1))
    make_policy(insured=households[1], assets=[asset])  # another insured
    make_policy(kind="homestay", assets=[asset])  # another kind
    make_policy(assets=[registered_asset([(households[0], 1)], dx=0.09)])  # not the collateral
    exhausted = make_policy(assets=[asset], sum_insured=Decimal("1000"), premium=Decimal("10"))
    claim = services.report_claim(
        actor=county_staff,
        policy=exhausted,
        incident_date=datetime.date(2026, 3, 1),
        cause="火",
        claimed_amount="1000",
    )
    services.start_assessment(actor=county_staff, claim=claim)
    services.approve_claim(actor=county_staff, claim=claim, approved_amount="1000", note="")
    expired.refresh_from_db()
    exhausted.refresh_from_db()
    assert (expired.status, exhausted.status) == (PolicyStatus.EXPIRED, PolicyStatus.EXHAUSTED)
    assert not_yet_marked.status == PolicyStatus.ACTIVE  # its term has ended all the same
    refused_for_insurance(submit, application, ApplicationStatus.DRAFT)
    assert not checks.valid_policies(application, timezone.localdate()).filter(kind="forest").exists()

    valid = make_policy(assets=[asset])
    submitted = submit()
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert list(checks.valid_policies(application, timezone.localdate()).filter(kind="forest")) == [valid]


def test_a_policy_tied_to_the_application_counts(appraised, make_policy, county_staff):
    application, _right = appraised()
    make_policy(application=application)
    done = applications.submit_application(actor=county_staff, application=application)
    assert done.status == ApplicationStatus.SUBMITTED


def test_every_required_kind_is_named(appraised, make_policy, county_staff):
    application, right = appraised(kinds=("forest", "eco_liability"))
    make_policy(assets=[right.asset])
    with pytest.raises(ConflictError) as exc:
        applications.submit_application(actor=county_staff, application=application)
    assert "生态环境损害责任保险" in str(exc.value.detail) and FOREST not in str(exc.value.detail)


def test_the_checker_approval_rechecks_the_policy(appraised, make_policy, county_staff, checker):
    application, right = appraised()
    policy = make_policy(assets=[right.asset])
    applications.submit_application(actor=county_staff, application=application)
    services.cancel_policy(
        actor=county_staff, policy=policy, reason="农户退保", on=datetime.date(2026, 10, 1)
    )
    check = lambda: applications.check_application(actor=checker, application=application, approve=True)  # noqa: E731
    refused_for_insurance(check, application, ApplicationStatus.SUBMITTED)
    application.refresh_from_db()
    assert application.checked_by is None
    make_policy(assets=[right.asset])
    assert check().status == ApplicationStatus.APPROVED


# --- the product side -------------------------------------------------------------------------


def test_the_product_service_validates_the_kinds(make_product, bank_officer):
    product = make_product()
    for bad in (["fire"], "forest", ["forest", "forest"], 5):
        with pytest.raises(DomainError) as exc:
            product_services.update_product(actor=bank_officer, product=product, required_insurance_kinds=bad)
        assert "required_insurance_kinds" in exc.value.fields
    product.refresh_from_db()
    assert product.required_insurance_kinds == [] and product.requires_insurance is False
    done = product_services.update_product(
        actor=bank_officer, product=product, required_insurance_kinds=["homestay", "forest"]
    )
    assert done.required_insurance_kinds == ["homestay", "forest"]  # the declared order
    assert done.requires_insurance is True


def test_the_product_api_and_pages_carry_the_kinds(bank_officer, client, catalog):
    api = APIClient()
    api.force_authenticate(bank_officer)
    payload = {
        "code": "FOREST-INS",
        "name": "林权贷（须投保）",
        "kind": "gep_loan",
        "guarantee_requirement": "pledge",
        "eligible_right_kinds": ["contract"],
        "max_ltv": "0.6",
        "max_amount": "1000000.00",
        "rate_min": "0.036",
        "rate_max": "0.048",
        "repayment_methods": ["equal_installment"],
        "payment_frequencies": ["monthly"],
    }
    for bad in (["forest", "forest"], ["fire"], "forest"):
        response = api.post(
            "/api/v1/finance/products/", {**payload, "required_insurance_kinds": bad}, format="json"
        )
        assert response.status_code == 400 and "required_insurance_kinds" in response.json()["fields"]
    assert not LoanProduct.objects.exists()
    created = api.post(
        "/api/v1/finance/products/", {**payload, "required_insurance_kinds": ["forest"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["required_insurance_kinds"] == ["forest"] and body["requires_insurance"] is True
    product = LoanProduct.objects.get()
    changed = api.patch(
        f"/api/v1/finance/products/{product.pk}/", {"required_insurance_kinds": []}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["required_insurance_kinds"] == []
    api.patch(
        f"/api/v1/finance/products/{product.pk}/", {"required_insurance_kinds": ["forest"]}, format="json"
    )

    client.force_login(bank_officer)
    page = client.get(product.get_absolute_url()).content.decode()
    assert FOREST in page and "product-insurance" in page
    form = client.get(reverse("finance:product-edit", args=[product.pk])).context["form"]
    assert form.initial["required_insurance_kinds"] == ["forest"]
    assert "required_insurance_kinds" in form.fields


def test_the_product_form_posts_the_kinds(bank_officer, client, catalog):
    from finance.tests.test_products_views import FORM

    client.force_login(bank_officer)
    response = client.post(
        reverse("finance:product-create"), {**FORM, "required_insurance_kinds": ["crop", "forest"]}
    )
    product = LoanProduct.objects.get()
    assert response.status_code == 302 and product.required_insurance_kinds == ["forest", "crop"]
    bad = client.post(
        reverse("finance:product-create"), {**FORM, "code": "ECO-09", "required_insurance_kinds": ["fire"]}
    )
    assert bad.status_code == 200 and bad.context["form"].errors["required_insurance_kinds"]
    assert LoanProduct.objects.count() == 1
