"""Reads of collection contracts, restricted to the user: staff and auditors see the contracts of
their divisions, village clerks those over assets in their village (read-only), organization-scoped
roles (investors, banks) none."""

from django.db.models import Prefetch, Q

from directory.models import OrganizationKind, Party, PartyKind
from directory.permissions import Capability
from directory.selectors import organizations_for, persons_for, within_reach
from resources.models import AssetStatus
from resources.selectors import assets_for

from .models import CollectionBeneficiary, CollectionContract, CollectionItem, ScheduledPayment


def collection_contracts_for(user):
    in_village = CollectionItem.objects.filter(within_reach(user, "asset__division__code")).values(
        "contract_id"
    )
    return CollectionContract.objects.filter(
        within_reach(user, "division__code") | Q(pk__in=in_village)
    ).select_related("division", "cooperative", "grantor__person", "grantor__organization")


def contract_detail(contract):
    """The contract's items (with assets and the rights they created), beneficiaries and schedule."""
    items = list(
        contract.items.select_related("asset__resource_type", "asset__division", "granted_right").defer(
            "asset__geometry"
        )
    )
    beneficiaries = list(contract.beneficiaries.select_related("party__person", "party__organization"))
    schedule = list(
        contract.schedule.select_related("beneficiary__party__person", "beneficiary__party__organization")
    )
    return items, beneficiaries, schedule


def with_details(queryset):
    """Prefetch what the API's detail representation shows."""
    return queryset.prefetch_related(
        Prefetch("items", queryset=CollectionItem.objects.select_related("asset").defer("asset__geometry")),
        Prefetch(
            "beneficiaries",
            queryset=CollectionBeneficiary.objects.select_related("party__person", "party__organization"),
        ),
        Prefetch("schedule", queryset=ScheduledPayment.objects.all()),
    )


def grantor_choices(user):
    """Parties that may sign as 出让方: village collectives (and strong-village companies) and
    persons within the user's trading reach."""
    organizations = organizations_for(user, Capability.MANAGE_TRADING).filter(
        kind__in=[OrganizationKind.VILLAGE_COLLECTIVE, OrganizationKind.STRONG_VILLAGE_COMPANY]
    )
    persons = persons_for(user, Capability.MANAGE_TRADING)
    return (
        Party.objects.filter(
            Q(kind=PartyKind.ORGANIZATION, organization__in=organizations.values("pk"))
            | Q(kind=PartyKind.PERSON, person__in=persons.values("pk"))
        )
        .select_related("person", "organization")
        .order_by("kind", "pk")
    )


def collectable_assets(user):
    """Registered assets within the user's trading reach (the create form's picker)."""
    return (
        assets_for(user)
        .filter(
            within_reach(user, "division__code", Capability.MANAGE_TRADING), status=AssetStatus.REGISTERED
        )
        .defer("geometry")
        .order_by("code")
    )
