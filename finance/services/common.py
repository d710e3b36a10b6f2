"""Small pieces shared by the finance services: permissions, the acting bank, numbering."""

from django.db import transaction
from django.utils.translation import gettext as _

from directory.models import OrganizationKind
from directory.permissions import Capability, can, memberships_with
from tmcs.errors import PermissionDeniedError
from transactions.services.common import check_transition, next_number, required_text  # noqa: F401


def require(actor, capability, division=None):
    if not can(actor, capability, division=division):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


def bank_of(actor):
    """The bank the actor works for (their active bank-officer membership), or refuse."""
    for membership in memberships_with(actor, Capability.LEND):
        if membership.organization.kind == OrganizationKind.BANK:
            return membership.organization
    raise PermissionDeniedError(_("只有合作银行的工作人员可以进行此操作。"))


def acting_bank(actor):
    """The actor's bank, or None for cooperative staff and administrators."""
    for membership in memberships_with(actor, Capability.LEND):
        if membership.organization.kind == OrganizationKind.BANK:
            return membership.organization
    return None


def require_bank_or_staff(actor, *, bank, division):
    """Banks act on their own business only; cooperative staff within their divisions."""
    own = acting_bank(actor)
    if own is not None:
        if own.pk != bank.pk:
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        return own
    require(actor, Capability.MANAGE_LOANS, division)
    return None


def schedule_score_recompute(party_id):
    """After commit, recompute the party's eco-credit score (its inputs changed)."""
    from ..tasks import recompute_credit_score

    transaction.on_commit(lambda: recompute_credit_score.delay(party_id))
