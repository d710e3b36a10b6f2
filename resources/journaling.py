"""What the registry appends to the public journal (journal/): registrations, certificates, rights
and restrictions set and ended. Called inside the registry services' transactions."""

from journal.models import EntryKind
from journal.publish import asset_public, party_label, period_public
from journal.services import record

from .models import RestrictionKind

SECURITY_KINDS = (RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE)


def asset_registered(actor, asset, *, via=""):
    record(
        kind=EntryKind.ASSET_REGISTERED,
        references=[asset.code],
        public={**asset_public(asset), "via": via},
        detail={"asset": asset.pk},
        actor=actor,
    )


def asset_status_changed(actor, asset, before):
    """Registration (into 已登记 from 公示) and retirement are journaled; other moves are operations."""
    from .models import AssetStatus

    if asset.status == AssetStatus.REGISTERED and before == AssetStatus.IN_PUBLIC_NOTICE:
        asset_registered(actor, asset, via="public_notice")
    elif asset.status == AssetStatus.RETIRED:
        record(
            kind=EntryKind.ASSET_RETIRED,
            references=[asset.code],
            public=asset_public(asset),
            detail={"asset": asset.pk, "before": before},
            actor=actor,
        )


def asset_changed(actor, asset, changed_fields):
    record(
        kind=EntryKind.ASSET_CHANGED,
        references=[asset.code],
        public={**asset_public(asset), "changed": sorted(changed_fields)},
        detail={"asset": asset.pk},
        actor=actor,
    )


def certificate_issued(actor, asset, number):
    record(
        kind=EntryKind.CERTIFICATE_ISSUED,
        references=[number, asset.code],
        public={**asset_public(asset), "certificate": number},
        detail={"asset": asset.pk},
        actor=actor,
    )


def _right_public(right):
    return {
        "asset": right.asset.code,
        "right": right.get_kind_display(),
        "holder": party_label(right.holder),
        "share": f"{right.share_numerator}/{right.share_denominator}",
        "period": period_public(right.period),
        "certificate": right.certificate_number,
    }


def right_granted(actor, right):
    record(
        kind=EntryKind.RIGHT_GRANTED,
        references=[right.asset.code, right.certificate_number],
        public={**_right_public(right), "supersedes": right.supersedes_id},
        detail={"right": right.pk, "holder": right.holder_id, "supersedes": right.supersedes_id},
        actor=actor,
    )


def right_ended(actor, right):
    record(
        kind=EntryKind.RIGHT_ENDED,
        references=[right.asset.code, right.certificate_number],
        public={**_right_public(right), "right_id": right.pk},
        detail={"right": right.pk, "reason": right.end_reason},
        actor=actor,
    )


def _restriction_public(restriction):
    right = restriction.right
    return {
        "asset": restriction.asset.code,
        "restriction": restriction.get_kind_display(),
        "holder": party_label(restriction.holder),
        "rank": restriction.rank,
        "secured_amount": restriction.secured_amount,
        "period": period_public(restriction.period),
        "certificate": right.certificate_number if right else None,
    }


def _restriction_references(restriction, extra):
    right = restriction.right
    return [restriction.asset.code, right.certificate_number if right else None, *extra]


def restriction_added(actor, restriction, references=()):
    kind = EntryKind.PLEDGE_REGISTERED if restriction.kind in SECURITY_KINDS else EntryKind.RESTRICTION_ADDED
    record(
        kind=kind,
        references=_restriction_references(restriction, references),
        public=_restriction_public(restriction),
        detail={
            "restriction": restriction.pk,
            "holder": restriction.holder_id,
            "right": restriction.right_id,
        },
        actor=actor,
    )


def restriction_released(actor, restriction, references=()):
    kind = EntryKind.PLEDGE_RELEASED if restriction.kind in SECURITY_KINDS else EntryKind.RESTRICTION_RELEASED
    record(
        kind=kind,
        references=_restriction_references(restriction, references),
        public={**_restriction_public(restriction), "restriction_id": restriction.pk},
        detail={"restriction": restriction.pk, "reason": restriction.end_reason},
        actor=actor,
    )
