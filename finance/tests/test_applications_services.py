# ruff: noqa: F811  (fixtures imported from test_applications_fixtures)
"""Loan applications: every validation rule (nothing written when refused), maker-checker (in the
service and in the database), the bank's decision on its own products only, the borrower's consent
turned into the bank's access, notifications, withdrawal and the transition map."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from directory.models import Notification, PersonAccessGrant
from finance.models import ApplicationCollateral, ApplicationStatus, LoanApplication
from finance.services import applications as services
from finance.services.appraisal import appraise
from resources import services as registry
from resources.models import RightKind
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.tests.test_packages_services import make_valuation

from .test_applications_fixtures import (  # noqa: F401  (fixtures)
    PAST,
    approved,
    credit_product,
    draft,
    make_score,
    other_county_staff,
    staff_terms,
    submitted,
)

pytestmark = pytest.mark.django_db


def _refused(exc_type, call, field=None, code=None):
    with pytest.raises(exc_type) as exc:
        call()
    if field:
        assert field in exc.value.fields, exc.value.fields
    if code:
        assert exc.value.code == code
    return exc.value


# --- preparing --------------------------------------------------------------------------------


def test_a_valid_draft(draft, county_staff, households):
    application, right = draft()
    assert application.status == ApplicationStatus.DRAFT
    assert application.number.startswith("SQ2026")
    assert application.prepared_by == county_staff and application.applicant == households[0]
    assert application.division == households[0].person.division
    assert list(application.collateral.values_list("right", flat=True)) == [right.pk]
    assert application.amount == Decimal("150000.00") and application.annual_rate == Decimal("0.036")


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"amount": Decimal("9999.99")}, "amount"),  # below the product's minimum 10,000
        ({"amount": Decimal("1000000.01")}, "amount"),  # above its maximum
        ({"amount": "150000.001"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": Decimal("-5")}, "amount"),
        ({"term_months": 5}, "term_months"),
        ({"term_months": 61}, "term_months"),
        ({"term_months": None}, "term_months"),
        ({"term_months": 37, "payment_frequency": "quarterly"}, "term_months"),
        ({"repayment_method": "balloon"}, "repayment_method"),
        ({"payment_frequency": "weekly"}, "payment_frequency"),
        ({"annual_rate": Decimal("0.029999")}, "annual_rate"),
        ({"annual_rate": Decimal("0.060001")}, "annual_rate"),
        ({"annual_rate": Decimal("0.0360001")}, "annual_rate"),
        ({"annual_rate": "3.6%"}, "annual_rate"),
        ({"purpose": "  "}, "purpose"),
        ({"purpose": "用" * 301}, "purpose"),
        ({"consent_document": ""}, "consent_document"),  # the applicant is a person
        ({"consent_document": "x" * 101}, "consent_document"),
    ],
)
def test_terms_outside_the_product_are_refused(valued_right, make_product, county_staff, terms, field):
    right = valued_right()
    product = make_product()
    _refused(
        DomainError,
        lambda: services.create_application(
            actor=county_staff,
            applicant=right.holder,
            product=product,
            rights=[right],
            **staff_terms(**terms),
        ),
        field=field,
    )
    assert not LoanApplication.objects.exists() and not ApplicationCollateral.objects.exists()


def test_product_methods_and_frequencies_are_the_products_own(valued_right, make_product, county_staff):
    right = valued_right()
    product = make_product(repayment_methods=["equal_principal"], payment_frequencies=["quarterly"])
    error = _refused(
        DomainError,
        lambda: services.create_application(
            actor=county_staff, applicant=right.holder, product=product, rights=[right], **staff_terms()
        ),
    )
    assert {"repayment_method", "payment_frequency"} <= set(error.fields)  # every problem at once
    ok = services.create_application(
        actor=county_staff,
        applicant=right.holder,
        product=product,
        rights=[right],
        **staff_terms(repayment_method="equal_principal", payment_frequency="quarterly", term_months=36),
    )
    assert ok.payment_frequency == "quarterly"


def test_an_inactive_product_is_refused(valued_right, make_product, county_staff):
    right = valued_right()
    product = make_product(is_active=False)
    _refused(
        DomainError,
        lambda: services.create_application(
            actor=county_staff, applicant=right.holder, product=product, rights=[right], **staff_terms()
        ),
        field="product",
    )


def test_collateral_rules(
    valued_right, registered_asset, households, make_product, county_staff, farmland_type, make_asset
):
    mine, theirs = valued_right(), valued_right(holder=households[1])
    product = make_product()

    def create(rights, product=product):
        return services.create_application(
            actor=county_staff, applicant=households[0], product=product, rights=rights, **staff_terms()
        )

    error = _refused(DomainError, lambda: create([theirs]), field="rights")
    assert "权利人不是申请人" in error.fields["rights"][0]
    _refused(DomainError, lambda: create([]), field="rights")  # a pledge product needs collateral
    _refused(DomainError, lambda: create([mine, mine]), field="rights")
    error = _refused(DomainError, lambda: create([mine], product=make_product(eligible_right_kinds=["use"])))
    assert "不接受" in error.fields["rights"][0]
    typed = make_product()
    typed.eligible_resource_types.set([farmland_type])
    _refused(DomainError, lambda: create([mine], product=typed), field="rights")
    registry.freeze_for_dispute(
        actor=county_staff, asset=mine.asset, reason="边界争议", source_document="调解申请（测试）"
    )
    error = _refused(DomainError, lambda: create([mine]), field="rights")
    assert "争议冻结" in error.fields["rights"][0]
    ended = registry.end_right(actor=county_staff, right=theirs, reason="转让")
    error = _refused(
        DomainError,
        lambda: services.create_application(
            actor=county_staff, applicant=households[1], product=product, rights=[ended], **staff_terms()
        ),
    )
    assert "已终止" in error.fields["rights"][0]
    expiring_asset = make_asset(name="到期林地")
    expired = registry.grant_right(
        actor=county_staff,
        asset=expiring_asset,
        holder=households[0],
        kind=RightKind.MANAGEMENT,
        start=datetime.date(2015, 1, 1),
        end=datetime.date(2025, 1, 1),
        source_document="经营权合同（测试）",
    )
    error = _refused(DomainError, lambda: create([expired]), field="rights")
    assert "有效期" in error.fields["rights"][0]
    assert not LoanApplication.objects.exists()


def test_who_may_prepare(valued_right, make_product, bank_officer, other_county_staff, city_admin):
    right = valued_right()
    product = make_product()
    for outsider in (bank_officer, other_county_staff):
        _refused(
            PermissionDeniedError,
            lambda outsider=outsider: services.create_application(
                actor=outsider, applicant=right.holder, product=product, rights=[right], **staff_terms()
            ),
        )
    assert not LoanApplication.objects.exists()
    made = services.create_application(
        actor=city_admin, applicant=right.holder, product=product, rights=[right], **staff_terms()
    )
    assert made.prepared_by == city_admin


def test_an_organization_applicant_needs_no_consent(registered_asset, collective, make_product, county_staff):
    asset = registered_asset([(collective, 1)])
    make_valuation(asset, [Decimal("100000")], user=county_staff)
    application = services.create_application(
        actor=county_staff,
        applicant=collective,
        product=make_product(),
        rights=[asset.rights.get()],
        **staff_terms(consent_document=""),
    )
    assert application.consent_document == "" and application.division == collective.organization.division


# --- eco-credit ----------------------------------------------------------------------------------


def test_eco_credit_needs_a_sufficient_current_score_and_a_line(
    credit_product, households, county_staff, make_score
):
    applicant = households[0]

    def create(amount="50000.00"):
        return services.create_application(
            actor=county_staff,
            applicant=applicant,
            product=credit_product,
            **staff_terms(amount=Decimal(amount)),
        )

    error = _refused(DomainError, create, field="applicant")
    assert "尚无生态信用评分" in str(error.detail)
    make_score(applicant, "640", "40000")
    error = _refused(DomainError, create, field="applicant")
    assert "640" in error.fields["applicant"][0] and "650" in error.fields["applicant"][0]
    score = make_score(applicant, "700", "40000")
    error = _refused(DomainError, create, field="amount")
    assert "40000" in error.fields["amount"][0]
    assert not LoanApplication.objects.exists()
    application = create("40000.00")
    assert application.credit_score == score and not application.collateral.exists()
    submitted = services.submit_application(actor=county_staff, application=application)
    assert submitted.status == ApplicationStatus.SUBMITTED  # no collateral, no appraisal needed


# --- submitting ----------------------------------------------------------------------------------


def test_submission_needs_a_current_appraisal_covering_the_amount(draft, county_staff, make_appraisal):
    application, right = draft(amount=Decimal("200000.00"))
    error = _refused(
        ConflictError, lambda: services.submit_application(actor=county_staff, application=application)
    )
    assert error.code == "appraisal_missing" and right.asset.code in str(error.detail)
    expired = make_appraisal(
        right, application.product, number="PGTEST000001", valid_until=datetime.date(2026, 2, 1)
    )
    _refused(ConflictError, lambda: services.submit_application(actor=county_staff, application=application))
    appraisal = appraise(
        actor=county_staff,
        right=right,
        product=application.product,
        application=application,
        appraised_on=PAST,
    )
    assert appraisal.max_loan < Decimal("200000")
    error = _refused(
        ConflictError, lambda: services.submit_application(actor=county_staff, application=application)
    )
    assert error.code == "over_collateral_value"
    assert "200000.00" in str(error.detail) and str(appraisal.max_loan) in str(error.detail)
    assert appraisal.number in str(error.detail)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT and application.prepared_at is None
    services.update_application(actor=county_staff, application=application, amount=Decimal("150000.00"))
    done = services.submit_application(actor=county_staff, application=application)
    assert done.status == ApplicationStatus.SUBMITTED and done.prepared_at is not None
    assert done.collateral.get().appraisal == appraisal != expired


def test_only_the_maker_edits_and_submits_drafts(draft, checker):
    application, _right = draft()
    _refused(
        PermissionDeniedError, lambda: services.submit_application(actor=checker, application=application)
    )
    _refused(
        PermissionDeniedError,
        lambda: services.update_application(actor=checker, application=application, purpose="改"),
    )


def test_editing_replaces_collateral_and_unknown_fields_are_refused(
    draft, valued_right, county_staff, make_product
):
    application, right = draft()
    second = valued_right()
    _refused(
        DomainError,
        lambda: services.update_application(actor=county_staff, application=application, status="approved"),
    )
    appraise(
        actor=county_staff,
        right=right,
        product=application.product,
        application=application,
        appraised_on=PAST,
    )
    changed = services.update_application(
        actor=county_staff, application=application, rights=[second], purpose="茶园改造"
    )
    assert list(changed.collateral.values_list("right", flat=True)) == [second.pk]
    assert changed.purpose == "茶园改造"
    services.update_application(actor=county_staff, application=application, rights=[right, second])
    appraise(
        actor=county_staff,
        right=right,
        product=application.product,
        application=application,
        appraised_on=PAST,
    )
    assert application.collateral.filter(appraisal__isnull=False).count() == 1
    services.update_application(actor=county_staff, application=application, product=make_product())
    assert not application.collateral.filter(appraisal__isnull=False).exists()  # appraisals are per product
    bad = _refused(
        DomainError,
        lambda: services.update_application(actor=county_staff, application=application, amount=Decimal("5")),
        field="amount",
    )
    assert bad.code == "invalid"
    application.refresh_from_db()
    assert application.amount == Decimal("150000.00")


# --- maker-checker ------------------------------------------------------------------------------


def test_the_maker_cannot_check_and_the_database_refuses_it_too(submitted, county_staff, checker):
    application, _right = submitted()
    error = _refused(
        PermissionDeniedError,
        lambda: services.check_application(actor=county_staff, application=application, approve=True),
        code="maker_checker",
    )
    assert "经办人不能复核自己经办的申请" in str(error.detail)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and application.checked_by is None
    with pytest.raises(IntegrityError, match="application_maker_is_not_checker"), transaction.atomic():
        LoanApplication.objects.filter(pk=application.pk).update(checked_by=county_staff)


def test_return_and_resubmit_then_approve_grants_the_bank_access(
    submitted, county_staff, checker, bank, bank_officer, households, django_capture_on_commit_callbacks
):
    application, _right = submitted()
    _refused(
        DomainError,
        lambda: services.check_application(actor=checker, application=application, approve=False, note=" "),
        field="note",
    )
    with django_capture_on_commit_callbacks(execute=True):
        returned = services.check_application(
            actor=checker, application=application, approve=False, note="请补充用途说明"
        )
    assert returned.status == ApplicationStatus.RETURNED and returned.checked_by == checker
    note = Notification.objects.get(recipient=county_staff)
    assert "退回" in note.title and "请补充用途说明" in note.body
    services.update_application(
        actor=county_staff, application=application, purpose="林下经济种植（补充说明）"
    )
    again = services.submit_application(actor=county_staff, application=application)
    assert again.checked_by is None and again.check_note == ""
    assert not PersonAccessGrant.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.check_application(
            actor=checker, application=application, approve=True, note="同意"
        )
    assert approved.status == ApplicationStatus.APPROVED and approved.checked_at is not None
    grant = PersonAccessGrant.objects.get()
    assert (grant.person, grant.organization, grant.granted_by) == (households[0].person, bank, checker)
    assert "SQ-AUTH-2026-001" in grant.reason and application.number in grant.reason
    assert bank_officer.has_perm("directory.view_person", households[0].person)
    to_bank = Notification.objects.get(recipient=bank_officer)
    assert to_bank.link == application.get_absolute_url() and application.number in to_bank.body
    assert Notification.objects.filter(recipient=county_staff, title__contains="复核通过").exists()


def test_a_second_approval_for_the_same_borrower_reuses_the_grant(approved):
    approved()
    approved()
    assert PersonAccessGrant.objects.count() == 1


def test_the_checker_approval_rechecks_the_application(submitted, checker, county_staff):
    application, _right = submitted()
    product = application.product
    product.is_active = False
    product.save(update_fields=["is_active"])
    _refused(
        DomainError,
        lambda: services.check_application(actor=checker, application=application, approve=True),
        field="product",
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert not PersonAccessGrant.objects.exists()


# --- the bank ------------------------------------------------------------------------------------


def test_the_bank_decides_its_own_products_only(
    approved, bank_officer, second_bank_officer, checker, county_staff, django_capture_on_commit_callbacks
):
    application, _right = approved()
    for outsider in (second_bank_officer, checker):
        _refused(
            PermissionDeniedError,
            lambda outsider=outsider: services.bank_decide(
                actor=outsider, application=application, approve=True
            ),
        )
    _refused(
        DomainError,
        lambda: services.bank_decide(
            actor=bank_officer, application=application, approve=True, approved_amount=Decimal("150000.01")
        ),
        field="approved_amount",
    )
    _refused(
        DomainError,
        lambda: services.bank_decide(actor=bank_officer, application=application, approve=False, note=""),
        field="note",
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED and application.bank_decided_by is None
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.bank_decide(
            actor=bank_officer, application=application, approve=True, approved_amount=Decimal("120000")
        )
    assert decided.status == ApplicationStatus.BANK_APPROVED
    assert decided.approved_amount == Decimal("120000.00") and decided.bank_decided_by == bank_officer
    note = Notification.objects.filter(recipient=county_staff).latest("pk")
    assert "批准" in note.title and "120000.00" in note.body
    _refused(
        InvalidTransition,
        lambda: services.bank_decide(actor=bank_officer, application=application, approve=False, note="x"),
    )


def test_a_decline_and_a_full_approval(approved, bank_officer):
    declined, _right = approved()
    declined = services.bank_decide(
        actor=bank_officer, application=declined, approve=False, note="现金流不足"
    )
    assert declined.status == ApplicationStatus.BANK_DECLINED and declined.approved_amount is None
    assert declined.bank_note == "现金流不足"
    full, _right = approved()
    full = services.bank_decide(actor=bank_officer, application=full, approve=True)
    assert full.approved_amount == full.amount


def test_a_bank_cannot_decide_before_the_checker(submitted, bank_officer):
    application, _right = submitted()
    _refused(
        InvalidTransition,
        lambda: services.bank_decide(actor=bank_officer, application=application, approve=True),
    )


# --- withdrawal, disbursement and transitions -----------------------------------------------------


def test_withdrawal(approved, submitted, county_staff, bank_officer, django_capture_on_commit_callbacks):
    application, _right = approved()
    _refused(
        DomainError,
        lambda: services.withdraw_application(actor=county_staff, application=application, reason=""),
        field="reason",
    )
    _refused(
        PermissionDeniedError,
        lambda: services.withdraw_application(actor=bank_officer, application=application, reason="x"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = services.withdraw_application(actor=county_staff, application=application, reason="借款人放弃")
    assert done.status == ApplicationStatus.WITHDRAWN
    assert Notification.objects.filter(
        recipient=bank_officer, title__contains="撤回", body__contains="借款人放弃"
    ).exists()
    waiting, _right = submitted()
    _refused(
        InvalidTransition,
        lambda: services.withdraw_application(actor=county_staff, application=waiting, reason="x"),
    )


def test_mark_disbursed_follows_the_transition_map(approved, bank_officer):
    application, _right = approved()
    _refused(InvalidTransition, lambda: services.mark_disbursed(application))
    services.bank_decide(actor=bank_officer, application=application, approve=True)
    with transaction.atomic():
        services.mark_disbursed(application)
    assert application.status == ApplicationStatus.DISBURSED
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DISBURSED
    _refused(
        ConflictError,
        lambda: services.withdraw_application(
            actor=application.prepared_by, application=application, reason="x"
        ),
    )


def test_a_submitted_application_is_not_edited_or_submitted_again(submitted, county_staff):
    application, _right = submitted()
    _refused(
        ConflictError,
        lambda: services.update_application(actor=county_staff, application=application, purpose="x"),
        code="not_editable",
    )
    _refused(
        InvalidTransition, lambda: services.submit_application(actor=county_staff, application=application)
    )
