"""Bank isolation over the whole finance API: two banks, each with a product, an application, an
appraisal, a pledge, a loan, a default, a risk-sharing scheme and fund, and its applicant's credit
score. Bank A's token gets 404 on every bank B object at every detail route and detail action the
router serves (GET and POST alike), and bank B's objects never appear in bank A's list responses.

The routes are read from `finance.api.urls.router`, so an endpoint added later is covered without
touching this file; a viewset over a model this file does not know fails loudly until its bank B
object (or the reason it has none) is added below."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from directory.models import Organization, OrganizationKind
from directory.services import issue_api_client
from finance.api.urls import router
from finance.models import (
    CollateralAppraisal,
    CreditGrade,
    CreditScore,
    EcoBehaviourRecord,
    Loan,
    LoanApplication,
    LoanDefault,
    LoanProduct,
    Pledge,
    RiskCompensationFund,
    RiskSharingScheme,
    Scorecard,
    ScoreSubject,
)

PAST = datetime.date(2026, 1, 15)

# Models whose rows belong to no bank: what a bank may see of them is decided elsewhere (the
# collateral lookup hides other banks' pledges and appraisals inside its answer; eco-behaviour is
# the cooperative's record). Their list answers are still searched for bank B's markers.
NOT_BANK_OWNED = {EcoBehaviourRecord, None}


def token_client(organization, issued_by):
    _token, raw = issue_api_client(organization=organization, name="信贷系统", issued_by=issued_by)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def scorecard(city_admin):
    return Scorecard.objects.filter(subject=ScoreSubject.HOUSEHOLD, is_active=True).first() or (
        Scorecard.objects.create(
            subject=ScoreSubject.HOUSEHOLD, version=99, name="隔离测试评分卡", created_by=city_admin
        )
    )


@pytest.fixture
def book(
    valued_right,
    households,
    make_product,
    make_application,
    make_appraisal,
    make_pledge,
    make_loan,
    bank,
    second_bank,
    county_staff,
    county_cooperative,
    city_admin,
):
    """{bank: {model: object}} for both banks, each over its own household's forest right."""
    guarantor = Organization.objects.get(kind=OrganizationKind.GUARANTOR)
    card = scorecard(city_admin)
    objects = {}
    for n, (org, holder, fund_manager) in enumerate(
        ((bank, households[0], county_cooperative), (second_bank, households[1], guarantor))
    ):
        fund = RiskCompensationFund.objects.create(
            name=f"风险补偿基金{n}", manager=fund_manager, division=county_cooperative.division, source="测试"
        )
        scheme = RiskSharingScheme.objects.create(
            name=f"风险分担方案{n}",
            division=county_cooperative.division,
            fund=fund,
            source="测试",
            created_by=city_admin,
        )
        right = valued_right(holder=holder)
        product = make_product(bank_org=org, risk_scheme=scheme)
        application = make_application(rights=[right], product=product, applicant=holder)
        appraisal = make_appraisal(right, product, application=application)
        pledge = make_pledge(application, appraisal, Decimal("300000"))
        loan = make_loan(application)
        default = LoanDefault.objects.create(
            loan=loan,
            declared_on=PAST + datetime.timedelta(days=200),
            declared_by=county_staff,
            reason="逾期超过90天（测试）",
            outstanding_principal=Decimal("250000"),
            outstanding_interest=Decimal("1200"),
            penalty=Decimal("300"),
        )
        score = CreditScore.objects.create(
            party=holder,
            scorecard=card,
            score=Decimal("720"),
            grade=CreditGrade.A,
            suggested_line=Decimal("120000"),
            inputs_digest=f"{n:064d}",
        )
        objects[org.pk] = {
            LoanProduct: product,
            LoanApplication: application,
            CollateralAppraisal: appraisal,
            Pledge: pledge,
            Loan: loan,
            LoanDefault: default,
            RiskSharingScheme: scheme,
            RiskCompensationFund: fund,
            CreditScore: score,
        }
    return objects


def markers(objects, organization):
    """Strings that only bank B's objects carry: none may appear anywhere in bank A's answers."""
    o = objects
    return {
        organization.name,
        o[LoanApplication].number,
        o[CollateralAppraisal].number,
        o[Pledge].number,
        o[Pledge].verification_code,
        o[Loan].number,
        o[Loan].bank_reference,
        o[LoanProduct].name,
        o[RiskSharingScheme].name,
        o[RiskCompensationFund].name,
    }


def model_of(viewset):
    serializer = getattr(viewset, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


def routes():
    """(basename, url name, detail?, [HTTP methods the viewset serves]) for every route."""
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            methods = [m for m, action in route.mapping.items() if hasattr(viewset, action)]
            if methods:
                yield viewset, basename, route.name.format(basename=basename), route.detail, methods


LIST_PARAMETERS = {"collateral": lambda o: {"asset": o[Pledge].right.asset_id}}


def test_bank_a_gets_404_on_every_bank_b_object_and_never_sees_them_in_lists(
    book, bank, second_bank, bank_officer, second_bank_officer
):
    a = token_client(bank, bank_officer)
    b = token_client(second_bank, second_bank_officer)
    theirs, ours = book[second_bank.pk], book[bank.pk]
    forbidden = markers(theirs, second_bank)
    assert not forbidden & markers(ours, bank)

    checked_details, checked_lists = [], []
    for viewset, basename, url_name, detail, methods in routes():
        model = model_of(viewset)
        if detail:
            if model in NOT_BANK_OWNED:
                continue
            assert model in theirs, f"{basename}: no bank B object for {model}; add one to the `book` fixture"
            url = reverse(f"finance-api:{url_name}", args=[theirs[model].pk])
            for method in methods:
                response = getattr(a, method)(url, {}, format="json")
                body = response.json() if response["Content-Type"].startswith("application/json") else {}
                assert response.status_code == 404, (method.upper(), url, response.status_code, body)
                assert body.get("code") == "not_found", (method.upper(), url, body)
                assert not any(marker in json.dumps(body, ensure_ascii=False) for marker in forbidden)
                checked_details.append((method, url_name))
            if "get" in methods and url_name.endswith("-detail"):
                # The object is there: its own bank reads it (so A's 404 is isolation, not absence).
                assert b.get(url).status_code == 200, url
                assert a.get(reverse(f"finance-api:{url_name}", args=[ours[model].pk])).status_code == 200
        elif "get" in methods:
            params = LIST_PARAMETERS.get(basename, lambda o: {})(theirs)
            response = a.get(reverse(f"finance-api:{url_name}"), params)
            assert response.status_code in (200, 403), (
                url_name,
                response.status_code,
                response.content[:300],
            )
            text = response.content.decode()
            assert not [marker for marker in forbidden if marker in text], url_name
            if response.status_code == 200 and model in theirs and url_name.endswith("-list"):
                body = response.json()
                ids = {row["id"] for row in (body["results"] if isinstance(body, dict) else body)}
                assert theirs[model].pk not in ids, url_name
                assert ours[model].pk in ids, url_name  # the list works: A's own object is there
            checked_lists.append(url_name)

    # Every area's routes were exercised, detail actions included.
    basenames = {basename for _p, _v, basename in router.registry}
    assert {"product-list", "pledge-list", "loan-list", "application-list", "collateral-list"} <= set(
        checked_lists
    )
    assert {("post", "pledge-release"), ("post", "application-decide"), ("get", "loan-detail")} <= set(
        checked_details
    )
    assert basenames >= {
        "product",
        "application",
        "appraisal",
        "pledge",
        "loan",
        "loan-default",
        "credit-score",
    }


def test_bank_a_cannot_create_anything_on_bank_b_objects(book, bank, second_bank, bank_officer):
    """The create endpoints that name another object: a pledge on bank B's application and a
    disbursement of it answer 404 like a missing application, and write nothing (keys included)."""
    from finance.models import BankRequestKey

    a = token_client(bank, bank_officer)
    theirs = book[second_bank.pk]
    application, right = theirs[LoanApplication], theirs[Pledge].right
    before = (Pledge.objects.count(), Loan.objects.count(), BankRequestKey.objects.count())
    attempts = [
        (
            "pledges",
            {"application": application.pk, "right": right.pk, "secured_amount": "1000.00", "rank": 5},
        ),
        (
            "loans",
            {
                "application": application.pk,
                "principal": "1000.00",
                "disbursed_on": str(PAST),
                "bank_reference": "JJ-ISOLATION-1",
            },
        ),
    ]
    for prefix, body in attempts:
        response = a.post(f"/api/v1/finance/{prefix}/", body, format="json", HTTP_IDEMPOTENCY_KEY="iso-1")
        assert response.status_code == 404, (prefix, response.json())
        assert response.json()["code"] == "not_found"
        assert application.number not in response.content.decode()
    assert (Pledge.objects.count(), Loan.objects.count(), BankRequestKey.objects.count()) == before
