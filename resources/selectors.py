"""Reads of the registry, restricted to what the user may see.

Cooperative staff, village clerks and auditors see assets in their division subtree; banks and
guarantors see only assets on which their organization holds an active pledge or mortgage.
"""

import pghistory.models
from django.db.models import Q

from directory.permissions import Capability, is_division_scoped, memberships_with
from directory.selectors import reach_prefixes, within_reach

from .models import Asset, ImportBatch, Restriction, RestrictionKind, Right, RightStatus


def assets_for(user):
    q = within_reach(user, "division__code")
    secured_by = [
        m.organization_id for m in memberships_with(user, Capability.VIEW) if not is_division_scoped(m)
    ]
    if secured_by:
        q |= Q(
            pk__in=Restriction.objects.filter(
                kind__in=[RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE],
                status=RightStatus.ACTIVE,
                holder__organization_id__in=secured_by,
            ).values("asset_id")
        )
    return Asset.objects.filter(q).select_related("resource_type", "division")


def rights_of(asset):
    return (
        Right.objects.filter(asset=asset)
        .select_related("holder__person", "holder__organization", "created_by")
        .order_by("status", "kind", "pk")
    )


def restrictions_of(asset):
    return (
        Restriction.objects.filter(asset=asset)
        .select_related("holder__person", "holder__organization", "right")
        .order_by("status", "kind", "pk")
    )


def history_of(asset):
    """Every recorded change of the asset, its rights and its restrictions, newest first, with the
    acting user and reason from the audit context."""
    right_ids = list(Right.objects.filter(asset=asset).values_list("pk", flat=True))
    restriction_ids = list(Restriction.objects.filter(asset=asset).values_list("pk", flat=True))
    events = pghistory.models.Events.objects.filter(
        Q(pgh_model="resources.AssetEvent", pgh_obj_id=str(asset.pk))
        | Q(pgh_model="resources.RightEvent", pgh_obj_id__in=[str(i) for i in right_ids])
        | Q(pgh_model="resources.RestrictionEvent", pgh_obj_id__in=[str(i) for i in restriction_ids])
    )
    return events.order_by("-pgh_created_at", "-pgh_id")


def listings_for(user):
    from .models import IdleAssetListing

    q = within_reach(user, "collective__division__code")
    return IdleAssetListing.objects.filter(q).select_related("collective__division", "resource_type", "asset")


def import_batches_for(user):
    """Import batches of the user and of colleagues in the same organizations."""
    if user.is_superuser:
        return ImportBatch.objects.all()
    organizations = [m.organization_id for m in user.active_memberships]
    return ImportBatch.objects.filter(Q(created_by=user) | Q(organization_id__in=organizations))


def catalog_for(user):
    """The eco-product catalog, for people who work on the registry by division (cooperative staff,
    village clerks, auditors; not banks), each type with the number of its assets they can see."""
    from django.db.models import Count

    from .models import ResourceType

    if not reach_prefixes(user):
        return ResourceType.objects.none()
    visible = within_reach(user, "assets__division__code")
    return ResourceType.objects.annotate(asset_count=Count("assets", filter=visible))


def documents_for(user):
    """Photos and documents of the assets the user may see."""
    from .models import AssetDocument

    return AssetDocument.objects.filter(asset__in=assets_for(user))
