# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""Projects from application to admission: who may prepare what and where, links within reach,
submission under the published criteria, maker-checker review, admission with the GEP debit and
its refusal with the shortfall (nothing written), rejection, return, withdrawal, showcase and the
inbox notifications."""

import datetime
from decimal import Decimal

import pytest

from directory.models import Notification
from finance.tests.conftest import make_appraisal  # noqa: F401  (fixture)
from projects.models import (
    GepBalance,
    GepBalanceEntry,
    KeyProject,
    ProjectConsumption,
    ProjectReview,
    ProjectStatus,
)
from projects.services import gep_balance
from projects.services import projects as services
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from .test_projects_fixtures import (  # noqa: F401  (fixtures)
    MANUAL_OK,
    admitted,
    other_county,
    other_county_staff,
    other_owner,
    owner_member,
    prepare,
    project_values,
    submitted,
    village_clerk,
)

pytestmark = pytest.mark.django_db


# --- preparing ------------------------------------------------------------------------------------


def test_owner_member_prepares_for_own_organization_in_its_county(
    prepare, investor_org, county, other_county
):
    project = prepare(division=county)
    assert project.division == county and project.status == ProjectStatus.DRAFT
    with pytest.raises(DomainError) as info:
        prepare(division=other_county)
    assert info.value.code == "outside_owner_county" and "division" in info.value.fields


def test_owner_member_cannot_prepare_for_another_organization(prepare, county_cooperative, other_owner):
    with pytest.raises(PermissionDeniedError):
        prepare(actor=other_owner)  # the demo investor's organization is not theirs
    assert not KeyProject.objects.exists()


def test_village_clerk_prepares_for_the_collective(prepare, village_clerk, village):
    from directory.models import Organization, OrganizationKind

    collective = Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE)
    project = prepare(actor=village_clerk, owner=collective)
    assert project.owner == collective and project.created_by == village_clerk


def test_staff_prepare_in_their_divisions_only(prepare, county_staff, other_county_staff, village, bank):
    assert prepare(actor=county_staff).created_by == county_staff
    with pytest.raises(PermissionDeniedError):
        prepare(actor=other_county_staff, division=village)
    with pytest.raises(DomainError) as info:
        prepare(actor=county_staff, owner=bank)  # banks finance projects, they do not own them
    assert "owner" in info.value.fields


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"category": "casino"}, "category"),
        ({"summary": ""}, "summary"),
        ({"total_investment": "0"}, "total_investment"),
        ({"total_investment": "abc"}, "total_investment"),
        ({"total_investment": "100.001"}, "total_investment"),
        ({"social_capital": "-1"}, "social_capital"),
        ({"social_capital": "3000000.01"}, "social_capital"),
        ({"expected_gep_gain": "-0.01"}, "expected_gep_gain"),
        ({"planned_end": datetime.date(2026, 3, 1)}, "planned_end"),
        ({"planned_start": "2026-03-01"}, "planned_start"),
        ({"showcase_contact": "张经理 13857800001"}, "showcase_contact"),
        ({"showcase_contact": "+86 138-5780-0001"}, "showcase_contact"),
        ({"showcase_contact": "x" * 101}, "showcase_contact"),
    ],
)
def test_bad_project_input_is_refused_and_nothing_is_saved(prepare, county_staff, fields, field):
    with pytest.raises(DomainError) as info:
        prepare(actor=county_staff, **fields)
    assert field in info.value.fields
    assert not KeyProject.objects.exists()


def test_landline_and_email_contacts_are_public_enough(prepare):
    project = prepare(showcase_contact="0578-2123456 / invest@lishui.example")
    assert project.showcase_contact == "0578-2123456 / invest@lishui.example"


def test_links_within_the_division_and_consumptions(
    prepare, valued_asset, make_asset, other_county, county_staff
):
    asset, consumed = valued_asset(), valued_asset()
    project = prepare(assets=[asset], consumptions=[(consumed, "0.25", "林地转为建设用地")])
    assert set(project.assets.all()) == {asset, consumed}  # consumed assets are linked too
    assert project.consumptions.get().fraction == Decimal("0.25")
    for consumptions, message in [
        ([(consumed, "0", "x")], "大于 0"),
        ([(consumed, "1.2", "x")], "大于 0"),
        ([(consumed, "0.1234567", "x")], "六位小数"),
        ([(consumed, "abc", "x")], "有效数字"),
        ([(consumed, "0.5", " ")], "说明"),
        ([(consumed, "0.5", "a"), (consumed, "0.2", "b")], "同一资源"),
        ([(None, "0.5", "a")], "未选择资源"),
    ]:
        with pytest.raises(DomainError) as info:
            prepare(consumptions=consumptions)
        assert message in " ".join(info.value.fields["consumptions"])
    assert KeyProject.objects.count() == 1 and ProjectConsumption.objects.count() == 1


def test_assets_outside_the_project_division_are_refused(
    prepare, valued_asset, county, other_county, city_admin
):
    asset = valued_asset()
    with pytest.raises(DomainError) as info:
        prepare(actor=city_admin, division=other_county, assets=[asset])
    assert "assets" in info.value.fields and asset.code in info.value.detail
    retired = valued_asset()
    retired.status = "retired"
    retired.save(update_fields=["status"])
    with pytest.raises(DomainError) as info:
        prepare(assets=[retired])
    assert "已注销" in info.value.fields["assets"][0]
    assert not KeyProject.objects.exists()


def test_loans_of_the_owner_or_secured_by_project_assets(
    prepare,
    valued_right,
    make_application,
    make_loan,
    make_appraisal,
    make_pledge,
    investor_org,
    other_county,
):
    from directory.services import ensure_party

    own_loan = make_loan(make_application(applicant=ensure_party(investor_org)))
    right = valued_right()
    household_loan = make_loan(make_application(rights=[right]))
    assert prepare(loans=[own_loan]).loans.get() == own_loan
    with pytest.raises(DomainError) as info:
        prepare(loans=[household_loan])  # neither the owner's nor secured by a linked asset
    assert household_loan.number in info.value.fields["loans"][0]
    application = household_loan.application
    make_pledge(
        application, make_appraisal(right, application.product, application=application), Decimal("300000")
    )
    project = prepare(assets=[right.asset], loans=[household_loan])
    assert project.loans.get() == household_loan
    elsewhere = make_loan(make_application(applicant=ensure_party(investor_org), division=other_county))
    with pytest.raises(DomainError) as info:
        prepare(loans=[elsewhere])  # handled in another county
    assert "所在县" in info.value.fields["loans"][0]


def test_update_only_while_draft_by_preparer_owner_or_staff(prepare, other_owner, county_staff, reviewer):
    project = prepare()
    services.update_project(
        actor=county_staff, project=project, name="改名后的项目", total_investment="4000000"
    )
    project.refresh_from_db()
    assert project.name == "改名后的项目" and project.total_investment == Decimal("4000000.00")
    with pytest.raises(PermissionDeniedError):
        services.update_project(actor=other_owner, project=project, name="x")
    with pytest.raises(DomainError):
        services.update_project(actor=county_staff, project=project, owner=None)  # not editable
    with pytest.raises(DomainError) as info:
        services.update_project(actor=county_staff, project=project, social_capital="5000000")
    assert "social_capital" in info.value.fields
    project.refresh_from_db()
    assert project.social_capital == Decimal("2000000.00")


# --- submission and review -----------------------------------------------------------------------


def test_submit_needs_published_criteria(prepare, owner_member):
    project = prepare()
    with pytest.raises(ConflictError) as info:
        services.submit_project(actor=owner_member, project=project)
    assert info.value.code == "no_published_criteria"
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT and project.criteria_set is None


def test_submit_records_the_set_and_tells_reviewers(
    prepare,
    published_criteria,
    owner_member,
    county_staff,
    reviewer,
    other_owner,
    django_capture_on_commit_callbacks,
):
    project = prepare()
    with pytest.raises(PermissionDeniedError):
        services.submit_project(actor=other_owner, project=project)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_project(actor=owner_member, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED and project.criteria_set == published_criteria
    told = set(
        Notification.objects.filter(title="新的重点项目待审核").values_list("recipient__username", flat=True)
    )
    assert {county_staff.username, reviewer.username} <= told and owner_member.username not in told
    with pytest.raises(InvalidTransition):
        services.submit_project(actor=owner_member, project=project)
    with pytest.raises(ConflictError):
        services.update_project(actor=owner_member, project=project, name="x")


def test_admission_debits_the_gep_balance_and_tells_the_owner(
    submitted,
    county_staff,
    owner_member,
    gep_rule,
    gep_credit,
    valued_asset,
    django_capture_on_commit_callbacks,
):
    gep_credit(Decimal("60000"))
    asset = valued_asset(gep=Decimal("100000"))
    project = submitted(consumptions=[(asset, "0.5", "林地转为建设用地")])
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_project(
            actor=county_staff, project=project, decision="admit", note="同意", manual=MANUAL_OK
        )
    project.refresh_from_db()
    assert project.status == ProjectStatus.ADMITTED and project.admitted_on is not None
    assert review.prepared_by == owner_member and review.reviewer == county_staff
    assert all(r["met"] for r in review.criteria_results)
    assert review.gep_check["debit"] == "50000.00" and review.gep_check["shortfall"] == "0.00"
    entry = GepBalanceEntry.objects.get(project=project)
    assert entry.amount == Decimal("-50000.00") and entry.balance_after == Decimal("10000.00")
    assert gep_balance.balance_of(gep_rule.division) == Decimal("10000.00")
    assert Notification.objects.filter(recipient=owner_member, title="重点项目已入库").exists()
    admission = project.events.filter(status=ProjectStatus.ADMITTED).order_by("pgh_id").first()
    assert admission.pgh_context.metadata["reason"] == f"review key project {project.number}: admit"


def test_gep_shortfall_refuses_admission_and_writes_nothing(
    submitted, county_staff, gep_rule, gep_credit, valued_asset
):
    gep_credit(Decimal("10000"))
    project = submitted(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5", "林地转为建设用地")])
    with pytest.raises(ConflictError) as info:
        services.review_project(
            actor=county_staff, project=project, decision="admit", note="", manual=MANUAL_OK
        )
    assert info.value.code == "gep_shortfall"
    assert Decimal(info.value.fields["shortfall"]) == Decimal("40000.00")
    assert "40000.00" in info.value.detail
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED and project.admitted_on is None
    assert not ProjectReview.objects.exists() and not GepBalanceEntry.objects.filter(project=project).exists()
    assert GepBalance.objects.get(division=gep_rule.division).balance == Decimal("10000.00")
    # A rejection still records the check with the shortfall in it.
    review = services.review_project(actor=county_staff, project=project, decision="reject", note="GEP 不足")
    assert review.gep_check["shortfall"] == "40000.00"


def test_reviewer_may_not_be_creator_or_submitter(
    prepare, published_criteria, county_staff, reviewer, owner_member, city_admin
):
    own = prepare(actor=county_staff)
    services.submit_project(actor=county_staff, project=own)
    with pytest.raises(PermissionDeniedError) as info:
        services.review_project(actor=county_staff, project=own, decision="admit", note="", manual=MANUAL_OK)
    assert info.value.code == "maker_checker"
    # Created by the owner, submitted by staff: the submitter may not review either.
    theirs = prepare()
    services.submit_project(actor=reviewer, project=theirs)
    assert services.submitter_of(theirs) == reviewer
    with pytest.raises(PermissionDeniedError):
        services.review_project(actor=reviewer, project=theirs, decision="reject", note="不符合")
    assert not ProjectReview.objects.exists()
    review = services.review_project(
        actor=city_admin, project=theirs, decision="admit", note="", manual=MANUAL_OK
    )
    assert review.prepared_by == reviewer and review.reviewer == city_admin


def test_the_database_refuses_a_review_by_its_preparer(prepare, published_criteria, county_staff):
    from django.db import IntegrityError, transaction

    project = prepare()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectReview.objects.create(
            project=project,
            criteria_set=published_criteria,
            decision="reject",
            note="x",
            prepared_by=county_staff,
            reviewer=county_staff,
        )


def test_owners_and_other_counties_cannot_review(submitted, owner_member, other_county_staff):
    project = submitted()
    for actor in (owner_member, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            services.review_project(actor=actor, project=project, decision="reject", note="x")


def test_admission_needs_every_criterion_and_the_manual_marks(submitted, county_staff, make_asset):
    project = submitted(total_investment=Decimal("999999.99"), social_capital=0)
    with pytest.raises(DomainError) as info:
        services.review_project(actor=county_staff, project=project, decision="admit", note="")
    assert info.value.code == "manual_criteria_unmarked" and info.value.fields["manual"] == ["C4"]
    with pytest.raises(DomainError) as info:
        services.review_project(
            actor=county_staff, project=project, decision="admit", note="", manual=MANUAL_OK
        )
    assert info.value.code == "criteria_not_met" and info.value.fields["criteria"] == ["C1"]
    assert "999,999.99" in info.value.detail
    not_planned = {"C4": {"met": False, "reason": "位于生态保护红线内"}}
    other = submitted()
    with pytest.raises(DomainError) as info:
        services.review_project(
            actor=county_staff, project=other, decision="admit", note="", manual=not_planned
        )
    assert info.value.fields["criteria"] == ["C4"]
    assert not ProjectReview.objects.exists()
    assert set(KeyProject.objects.values_list("status", flat=True)) == {ProjectStatus.SUBMITTED}


def test_assets_not_registered_block_admission(
    prepare, published_criteria, owner_member, county_staff, make_asset
):
    draft = make_asset(name="未登记林地")
    project = prepare(assets=[draft])
    services.submit_project(actor=owner_member, project=project)
    with pytest.raises(DomainError) as info:
        services.review_project(
            actor=county_staff, project=project, decision="admit", note="", manual=MANUAL_OK
        )
    assert info.value.fields["criteria"] == ["C3"] and draft.code in info.value.detail


def test_reject_and_return_need_a_note(
    submitted, county_staff, owner_member, django_capture_on_commit_callbacks
):
    project = submitted()
    for decision in ("reject", "return"):
        with pytest.raises(DomainError) as info:
            services.review_project(actor=county_staff, project=project, decision=decision, note="  ")
        assert "note" in info.value.fields
    with pytest.raises(DomainError):
        services.review_project(actor=county_staff, project=project, decision="maybe", note="x")
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_project(
            actor=county_staff, project=project, decision="return", note="补充规划意见"
        )
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT and review.decision == "return"
    assert review.criteria_results[3]["met"] is None  # the manual criterion stays unmarked
    assert Notification.objects.filter(recipient=owner_member, title="重点项目被退回修改").exists()
    services.update_project(actor=owner_member, project=project, summary="补充了规划意见")
    services.submit_project(actor=owner_member, project=project)
    rejected = services.review_project(
        actor=county_staff, project=project, decision="reject", note="不符合产业导向"
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.REJECTED and rejected.note == "不符合产业导向"
    assert ProjectReview.objects.filter(project=project).count() == 2
    with pytest.raises(InvalidTransition):
        services.review_project(
            actor=county_staff, project=project, decision="admit", note="", manual=MANUAL_OK
        )


def test_admission_without_consumption_needs_no_gep_rule(submitted, county_staff):
    project = submitted()
    review = services.review_project(
        actor=county_staff, project=project, decision="admit", note="", manual=MANUAL_OK
    )
    assert review.gep_check["consumes"] is False and not GepBalanceEntry.objects.exists()


# --- withdraw and showcase -----------------------------------------------------------------------


def test_withdraw_by_creator_or_owner(prepare, submitted, owner_member, county_staff, other_owner, reviewer):
    draft = prepare(actor=county_staff)
    with pytest.raises(PermissionDeniedError):
        services.withdraw_project(actor=reviewer, project=draft, reason="x")  # neither creator nor owner
    with pytest.raises(DomainError):
        services.withdraw_project(actor=owner_member, project=draft, reason="")
    services.withdraw_project(actor=owner_member, project=draft, reason="业主调整投资计划")
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.WITHDRAWN
    project = submitted()
    with pytest.raises(PermissionDeniedError):
        services.withdraw_project(actor=other_owner, project=project, reason="x")
    services.withdraw_project(actor=owner_member, project=project, reason="暂缓")
    project.refresh_from_db()
    assert project.status == ProjectStatus.WITHDRAWN
    event = project.events.order_by("-pgh_id").first()
    assert "暂缓" in event.pgh_context.metadata["reason"]
    with pytest.raises(InvalidTransition):
        services.withdraw_project(actor=owner_member, project=project, reason="again")


def test_showcase_only_for_admitted_projects_without_mobile_numbers(
    submitted, admitted, owner_member, county_staff
):
    pending = submitted()
    with pytest.raises(ConflictError):
        services.set_showcase(actor=county_staff, project=pending, showcase=True, contact="0578-2123456")
    project = admitted()
    for contact in ("13857800001", "手机：138 5780 0001", "8613857800001"):
        with pytest.raises(DomainError) as info:
            services.set_showcase(actor=county_staff, project=project, showcase=True, contact=contact)
        assert info.value.code == "personal_phone"
    with pytest.raises(DomainError) as info:
        services.set_showcase(actor=county_staff, project=project, showcase=True, contact="")
    assert "contact" in info.value.fields
    project.refresh_from_db()
    assert project.showcase is False
    services.set_showcase(actor=owner_member, project=project, showcase=True, contact="0578-2123456")
    project.refresh_from_db()
    assert project.showcase and project.showcase_contact == "0578-2123456"
    services.set_showcase(actor=county_staff, project=project, showcase=False)
    project.refresh_from_db()
    assert project.showcase is False and project.showcase_contact == "0578-2123456"


def test_values_helper_matches_the_model():
    assert set(project_values()) <= {f.name for f in KeyProject._meta.get_fields()}
