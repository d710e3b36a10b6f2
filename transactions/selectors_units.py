"""Reads of eco-indicator units: what a user may see, a party's holdings, the status of a serial."""

from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from directory.models import Party
from directory.permissions import Capability, is_division_scoped, memberships_with
from directory.selectors import within_reach

from .models import UnitBlock, UnitBlockStatus, UnitIssuance, UnitTransfer


def issuances_for(user):
    """Issuances from assets in the user's division reach, and those whose units the user's own
    organization (an investor) holds or held."""
    q = within_reach(user, "right__asset__division__code")
    own = [m.organization_id for m in memberships_with(user, Capability.VIEW) if not is_division_scoped(m)]
    if own:
        q |= Q(pk__in=UnitBlock.objects.filter(owner__organization_id__in=own).values("issuance_id"))
    return UnitIssuance.objects.filter(q).select_related(
        "right__asset__division", "right__asset__resource_type", "issued_by"
    )


def transfers_for(user):
    return UnitTransfer.objects.filter(issuance__in=issuances_for(user).values("pk")).select_related(
        "issuance",
        "from_party__person",
        "from_party__organization",
        "to_party__person",
        "to_party__organization",
        "recorded_by",
    )


def blocks_of(issuance):
    return issuance.blocks.select_related("owner__person", "owner__organization").order_by(
        "first_serial", "pk"
    )


def _serial_count(condition):
    return Coalesce(
        Sum("blocks__last_serial", filter=condition)
        - Sum("blocks__first_serial", filter=condition)
        + Count("blocks", filter=condition),
        0,
    )


def unit_holdings(party):
    """Issuances in which `party` holds or has retired units, with `held` and `retired` counts."""
    mine = Q(blocks__owner=party)
    return (
        UnitIssuance.objects.filter(mine, blocks__status__in=[UnitBlockStatus.HELD, UnitBlockStatus.RETIRED])
        .annotate(
            held=_serial_count(mine & Q(blocks__status=UnitBlockStatus.HELD)),
            retired=_serial_count(mine & Q(blocks__status=UnitBlockStatus.RETIRED)),
        )
        .select_related("right__asset__division")
        .order_by("-vintage_year", "serial_prefix")
    )


def parties_for_units(user):
    """Parties staff may name as unit holders: persons and organizations within reach."""
    from resources.forms import holder_choices

    return holder_choices(user)


@dataclass(frozen=True)
class SerialStatus:
    issuance: UnitIssuance
    serial: int
    block: UnitBlock

    @property
    def retired(self):
        return self.block.status == UnitBlockStatus.RETIRED

    @property
    def holder_display(self):
        return public_name(self.block.owner)


def serial_status(prefix, serial):
    """The live block that holds serial `serial` of issuance `prefix`, or None if there is none."""
    block = (
        UnitBlock.objects.filter(
            issuance__serial_prefix=prefix, first_serial__lte=serial, last_serial__gte=serial
        )
        .exclude(status=UnitBlockStatus.SPLIT)
        .select_related(
            "issuance__right__asset__division",
            "issuance__right__asset__resource_type",
            "owner__person",
            "owner__organization",
        )
        .first()
    )
    return SerialStatus(block.issuance, serial, block) if block else None


def public_name(party: Party):
    """An organization's name; a person's surname with the rest masked (张三丰 → 张**)."""
    if party.organization_id:
        return party.organization.name
    name = party.person.name if party.person_id else ""
    return name[:1] + "*" * max(len(name) - 1, 1)
