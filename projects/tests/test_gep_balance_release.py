# ruff: noqa: F811  (fixtures imported from fixtures_gep_balance)
"""Releasing an exited or withdrawn project's debit, reversing entries, and the database
refusing to change or delete an entry."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from directory.models import Notification
from projects.models import ExitReason, GepBalanceEntry, GepEntryKind, ProjectStatus
from projects.services import gep_balance
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .fixtures_gep_balance import auditor, entries_total  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def debited(gep_rule, gep_credit, valued_asset, make_project, county_staff):
    """A project admitted with a debit of 40,000 against a credit of 100,000."""
    gep_credit(Decimal("100000"))
    project = make_project(
        consumptions=[(valued_asset(gep=Decimal("80000")), "0.5")],
        status=ProjectStatus.ADMITTED,
        admitted_on=datetime.date(2026, 2, 1),
    )
    debit = gep_balance.post_project_debit(
        actor=county_staff, project=project, occurred_on=datetime.date(2026, 2, 1)
    )
    assert debit.amount == Decimal("-40000.00")
    return project, debit


def close(
    project, status=ProjectStatus.EXITED, reason=ExitReason.FAILED_CRITERIA, on=datetime.date(2026, 6, 1)
):
    project.status = status
    if status == ProjectStatus.EXITED:
        project.exit_reason, project.exited_on = reason, on
    project.save()
    return project


def release(actor, project, **extra):
    return gep_balance.release_project_debit(
        actor=actor,
        project=project,
        reason=extra.pop("reason", "项目未开工即退库，林地未占用"),
        occurred_on=extra.pop("occurred_on", datetime.date(2026, 7, 1)),
    )


# --- release ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ProjectStatus.EXITED, ProjectStatus.WITHDRAWN])
def test_release_credits_back_the_debit_once(debited, county_staff, county, status):
    project, debit = debited
    close(project, status)
    entry = release(county_staff, project)
    assert entry.kind == GepEntryKind.RELEASE
    assert entry.amount == Decimal("40000.00")
    assert entry.project == project
    assert entry.calculation["debits"] == [
        {"entry": debit.number, "occurred_on": "2026-02-01", "amount": "-40000.00"}
    ]
    assert set(entry.assets.all()) == set(debit.assets.all())
    assert gep_balance.balance_of(county) == Decimal("100000.00") == entries_total(county)
    with pytest.raises(ConflictError) as info:
        release(county_staff, project)
    assert info.value.code == "already_released"
    assert info.value.fields["entries"] == [entry.number]
    assert GepBalanceEntry.objects.filter(kind=GepEntryKind.RELEASE).count() == 1


def test_a_reversed_release_may_be_released_again(debited, county_staff, county):
    project, _debit = debited
    first = release(county_staff, close(project))
    gep_balance.reverse_entry(actor=county_staff, entry=first, reason="返还日期有误")
    assert gep_balance.balance_of(county) == Decimal("60000.00")
    assert release(county_staff, project).amount == Decimal("40000.00")
    assert gep_balance.balance_of(county) == Decimal("100000.00") == entries_total(county)


def test_a_project_that_exited_completed_keeps_its_debit(debited, county_staff, county):
    project, _debit = debited
    close(project, reason=ExitReason.COMPLETED)
    with pytest.raises(ConflictError) as info:
        release(county_staff, project)
    assert info.value.code == "consumption_realised"
    assert gep_balance.balance_of(county) == Decimal("60000.00")


def test_an_admitted_project_is_not_released(debited, county_staff):
    project, _debit = debited
    with pytest.raises(ConflictError) as info:
        release(county_staff, project)
    assert info.value.code == "project_not_closed"


def test_a_project_without_a_debit_has_nothing_to_release(gep_rule, make_project, county_staff):
    project = make_project(status=ProjectStatus.WITHDRAWN)
    with pytest.raises(DomainError) as info:
        release(county_staff, project)
    assert info.value.code == "nothing_to_release"


def test_a_reversed_debit_leaves_nothing_to_release(debited, county_staff):
    project, debit = debited
    gep_balance.reverse_entry(actor=county_staff, entry=debit, reason="占用比例填错")
    with pytest.raises(DomainError) as info:
        release(county_staff, close(project))
    assert info.value.code == "nothing_to_release"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": " "}, "reason"),
        ({"occurred_on": datetime.date(2026, 5, 31)}, "occurred_on"),  # before the exit
        ({"occurred_on": "2026-13-01"}, "occurred_on"),
    ],
)
def test_release_refuses_bad_input(debited, county_staff, county, changes, field):
    project, _debit = debited
    with pytest.raises(DomainError) as info:
        release(county_staff, close(project), **changes)
    assert field in info.value.fields
    assert gep_balance.balance_of(county) == Decimal("60000.00") == entries_total(county)


def test_release_refuses_a_future_date(debited, county_staff):
    project, _debit = debited
    with pytest.raises(DomainError) as info:
        release(county_staff, close(project), occurred_on=TODAY() + datetime.timedelta(days=1))
    assert "occurred_on" in info.value.fields


def test_release_needs_manage_projects(debited, auditor, county):
    project, _debit = debited
    with pytest.raises(PermissionDeniedError):
        release(auditor, close(project))
    assert gep_balance.balance_of(county) == Decimal("60000.00")


# --- reversal -----------------------------------------------------------------------------------


def test_reversing_a_credit_posts_the_opposite_once(gep_rule, gep_credit, county_staff, county):
    credit = gep_credit(Decimal("500"))
    reversal = gep_balance.reverse_entry(actor=county_staff, entry=credit, reason="重复登记")
    assert reversal.kind == GepEntryKind.REVERSAL
    assert reversal.amount == Decimal("-500.00")
    assert reversal.reverses == credit
    assert reversal.balance_after == Decimal("0.00")
    assert reversal.occurred_on == TODAY()
    assert "重复登记" in reversal.memo and reversal.calculation["reverses"] == credit.number
    with pytest.raises(ConflictError) as info:
        gep_balance.reverse_entry(actor=county_staff, entry=credit, reason="再次冲正")
    assert info.value.code == "already_reversed"
    assert info.value.fields["entries"] == [reversal.number]
    with pytest.raises(ConflictError) as info:
        gep_balance.reverse_entry(actor=county_staff, entry=reversal, reason="冲正冲正")
    assert info.value.code == "cannot_reverse_reversal"
    assert GepBalanceEntry.objects.count() == 2
    assert gep_balance.balance_of(county) == Decimal("0.00") == entries_total(county)


def test_reversing_a_spent_credit_is_refused_with_the_shortfall(debited, county_staff, county):
    _project, _debit = debited
    credit = GepBalanceEntry.objects.get(kind=GepEntryKind.RESTORATION)  # 100,000; 40,000 spent
    with pytest.raises(ConflictError) as info:
        gep_balance.reverse_entry(actor=county_staff, entry=credit, reason="修复验收未通过")
    assert info.value.code == "gep_shortfall"
    assert Decimal(info.value.fields["shortfall"]) == Decimal("40000.00")
    assert "40000.00" in str(info.value.detail)
    assert GepBalanceEntry.objects.count() == 2
    assert gep_balance.balance_of(county) == Decimal("60000.00")


def test_reversing_a_debit_gives_the_credit_back(debited, county_staff, county):
    _project, debit = debited
    reversal = gep_balance.reverse_entry(actor=county_staff, entry=debit, reason="占用比例填错")
    assert reversal.amount == Decimal("40000.00")
    assert reversal.project == debit.project
    assert set(reversal.assets.all()) == set(debit.assets.all())
    assert gep_balance.balance_of(county) == Decimal("100000.00") == entries_total(county)


def test_reversal_needs_a_reason_and_manage_projects(gep_rule, gep_credit, county_staff, auditor):
    credit = gep_credit(Decimal("500"))
    with pytest.raises(DomainError) as info:
        gep_balance.reverse_entry(actor=county_staff, entry=credit, reason="")
    assert "reason" in info.value.fields
    with pytest.raises(PermissionDeniedError):
        gep_balance.reverse_entry(actor=auditor, entry=credit, reason="审计发现错误")
    assert GepBalanceEntry.objects.count() == 1


def test_reversal_tells_the_oversight_readers(
    gep_rule, gep_credit, county_staff, city_admin, auditor, django_capture_on_commit_callbacks
):
    credit = gep_credit(Decimal("500"))
    with django_capture_on_commit_callbacks(execute=True):
        reversal = gep_balance.reverse_entry(actor=county_staff, entry=credit, reason="重复登记")
    notes = Notification.objects.filter(title__contains=credit.number)
    assert set(notes.values_list("recipient__username", flat=True)) == {"city_admin", "auditor"}
    assert notes.first().link == reversal.get_absolute_url()


# --- append-only --------------------------------------------------------------------------------


def test_entries_cannot_be_updated_or_deleted(gep_rule, gep_credit, county):
    credit = gep_credit(Decimal("500"))
    with pytest.raises(DatabaseError), transaction.atomic():
        GepBalanceEntry.objects.filter(pk=credit.pk).update(amount=Decimal("5000"))
    with pytest.raises(DatabaseError), transaction.atomic():
        GepBalanceEntry.objects.filter(pk=credit.pk).delete()
    credit.memo = "改过的摘要"
    with pytest.raises(DatabaseError), transaction.atomic():
        credit.save()
    credit.refresh_from_db()
    assert (credit.amount, credit.memo) == (Decimal("500.00"), "测试补充")
