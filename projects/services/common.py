"""Small pieces shared by the projects services: permissions, numbering, the cooperative of a place."""

from django.utils.translation import gettext as _

from directory.models import LEVEL_PREFIX_LENGTH, AdministrativeDivision
from directory.permissions import can
from tmcs.errors import PermissionDeniedError
from transactions.services.common import (  # noqa: F401  (re-exported for the projects services)
    check_transition,
    cooperative_for,
    cooperative_party,
    next_number,
    required_text,
)


def require(actor, capability, division=None, organization=None):
    if not can(actor, capability, division=division, organization=organization):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


def ancestors_and_self(division):
    """The division and every division above it, nearest first (one query)."""
    codes = [division.code[:length].ljust(12, "0") for length in LEVEL_PREFIX_LENGTH.values()]
    found = {d.code: d for d in AdministrativeDivision.objects.filter(code__in=codes)}
    chain = [found[code] for code in dict.fromkeys(codes) if code in found and found[code].contains(division)]
    return sorted(chain, key=lambda d: -len(d.prefix))
