"""Licence life: inspections, suspension blocking new batches, reinstatement, withdrawal, expiry."""

import datetime

import pytest

from journal.models import EntryKind, JournalEntry
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from ..models import Inspection, LicenceAction, LicenceStatus
from ..services import lifecycle
from ..tasks import expire_licences

pytestmark = pytest.mark.django_db

D = datetime.date


JUNE_1 = D(2026, 6, 1)


def _inspect(actor, licence, result, on=JUNE_1, **extra):
    return lifecycle.record_inspection(
        actor=actor,
        licence=licence,
        kind="routine",
        inspected_on=on,
        inspector="丽水市农产品质量安全检测中心",
        result=result,
        findings="基地台账齐全。" if result == "pass" else "检出禁用农药残留。",
        **extra,
    )


def test_suspension_blocks_new_batches_until_a_passed_inspection_reinstates(
    make_licence, make_batch, county_staff, producer_user
):
    licence = make_licence()
    make_batch(licence)
    lifecycle.suspend_licence(
        actor=county_staff, licence=licence, reason="抽检不合格", effective_on=D(2026, 6, 1)
    )
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.SUSPENDED
    with pytest.raises(ConflictError) as refused:
        make_batch(licence, product_name="暂停期间的新茶")
    assert refused.value.code == "licence_not_active"
    assert licence.batches.count() == 1
    before = _inspect(county_staff, licence, "pass", on=D(2026, 5, 20))
    with pytest.raises(ConflictError) as early:
        lifecycle.reinstate_licence(actor=county_staff, licence=licence, reason="整改完成", inspection=before)
    assert early.value.code == "inspection_required"
    passed = _inspect(county_staff, licence, "pass", on=D(2026, 7, 1))
    lifecycle.reinstate_licence(actor=county_staff, licence=licence, reason="整改完成", inspection=passed)
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.ACTIVE
    make_batch(
        licence,
        product_name="恢复后的秋茶",
        produced_on=D(2026, 9, 1),
        harvest_start=D(2026, 8, 20),
        harvest_end=D(2026, 8, 30),
    )
    assert licence.batches.count() == 2
    kinds = list(LicenceAction.objects.filter(licence=licence).values_list("kind", flat=True))
    assert kinds == ["grant", "suspend", "reinstate"]
    assert (
        JournalEntry.objects.filter(
            kind=EntryKind.LICENCE_CHANGED, references__contains=[licence.number]
        ).count()
        == 3
    )


def test_a_failed_inspection_suspends_at_once(make_licence, make_batch, county_staff):
    licence = make_licence()
    inspection = _inspect(county_staff, licence, "fail")
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.SUSPENDED
    assert LicenceAction.objects.get(kind="suspend").inspection == inspection
    with pytest.raises(ConflictError):
        make_batch(licence)


def test_rectification_needs_a_later_deadline(make_licence, county_staff):
    licence = make_licence()
    with pytest.raises(DomainError) as refused:
        _inspect(county_staff, licence, "rectify", rectify_by=D(2026, 5, 1))
    assert "rectify_by" in refused.value.fields and not Inspection.objects.exists()
    _inspect(county_staff, licence, "rectify", rectify_by=D(2026, 8, 1))
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.ACTIVE


def test_bad_inspection_input_writes_nothing(make_licence, county_staff):
    licence = make_licence()
    for bad in ({"on": D(2099, 1, 1)}, {"on": D(2025, 1, 1)}):
        with pytest.raises(DomainError):
            _inspect(county_staff, licence, "pass", **bad)
    with pytest.raises(DomainError):
        lifecycle.record_inspection(
            actor=county_staff, licence=licence, kind="nonsense", inspected_on=D(2026, 6, 1),
            inspector="x", result="pass", findings="y",
        )  # fmt: skip
    assert not Inspection.objects.exists()


def test_withdrawal_is_final(make_licence, make_batch, county_staff):
    licence = make_licence()
    lifecycle.withdraw_licence(actor=county_staff, licence=licence, reason="冒用品牌")
    with pytest.raises(ConflictError):
        lifecycle.suspend_licence(actor=county_staff, licence=licence, reason="再次暂停")
    with pytest.raises(ConflictError):
        make_batch(licence)
    # a withdrawn licence frees the producer for a new grant
    assert make_licence(origins=list(licence.origin_assets.all())).status == LicenceStatus.ACTIVE


def test_producers_and_banks_cannot_suspend(make_licence, producer_user, bank_officer):
    licence = make_licence()
    for outsider in (producer_user, bank_officer):
        with pytest.raises(PermissionDeniedError):
            lifecycle.suspend_licence(actor=outsider, licence=licence, reason="越权")
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.ACTIVE and LicenceAction.objects.count() == 1


def test_expiry_task_is_idempotent(make_licence, celery_eager):
    licence = make_licence(valid_from=D(2025, 1, 1), valid_to=D(2026, 12, 31))
    assert lifecycle.expire_licences(on=D(2026, 12, 31)) == 0
    assert lifecycle.expire_licences(on=D(2027, 1, 1)) == 1
    assert lifecycle.expire_licences(on=D(2027, 1, 1)) == 0
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.EXPIRED
    assert expire_licences.delay().get() == 0
