"""Small pieces shared by the transactions services: permissions, numbering, transitions."""

from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import LEVEL_PREFIX_LENGTH, Organization, OrganizationKind
from directory.permissions import Capability, can, memberships_with
from directory.services import ensure_party
from tmcs.errors import DomainError, InvalidTransition, PermissionDeniedError

from ..models import DocumentCounter


def require(actor, capability, division=None):
    if not can(actor, capability, division=division):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


def investor_of(actor):
    """The organization the actor trades for (their active investor membership), or refuse."""
    memberships = memberships_with(actor, Capability.TRADE)
    if not memberships:
        raise PermissionDeniedError(_("只有审核通过的投资主体可以进行此操作。"))
    return memberships[0].organization


def cooperative_for(division):
    """The cooperative responsible for `division`: the one whose division is the nearest ancestor
    (or the division itself). Ancestors' codes are the division's own code prefixes padded with
    zeros, so one query finds every candidate."""
    ancestor_codes = {division.code[:length].ljust(12, "0") for length in LEVEL_PREFIX_LENGTH.values()}
    nearest = (
        Organization.objects.filter(
            kind=OrganizationKind.COOPERATIVE, is_active=True, division__code__in=ancestor_codes
        )
        .select_related("division")
        .order_by("-division__code", "pk")  # the deepest ancestor has the longest non-zero code
        .first()
    )
    if nearest is None or not nearest.division.contains(division):
        raise DomainError(_("该区划没有两山合作社，不能办理交易业务。"), code="no_cooperative")
    return nearest


def cooperative_party(division):
    """The ledger party of the cooperative responsible for `division`."""
    return ensure_party(cooperative_for(division))


def next_number(prefix, *, year=None):
    """Gapless yearly number such as SC2026000001 (the counter row is locked until commit)."""
    year = year or timezone.localdate().year
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}{year}{counter.last:06d}"


def check_transition(transitions, current, target, label_of):
    if target not in transitions[current]:
        raise InvalidTransition(
            _("状态不能从“%(from)s”变为“%(to)s”。") % {"from": label_of(current), "to": label_of(target)}
        )


def required_text(value, field, message, max_length=500):
    value = (value or "").strip()
    if not value:
        raise DomainError(message, code="invalid", fields={field: [message]})
    if len(value) > max_length:
        too_long = _("不能超过 %(n)s 个字。") % {"n": max_length}
        raise DomainError(too_long, code="invalid", fields={field: [too_long]})
    return value
