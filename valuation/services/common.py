from django.utils.translation import gettext as _

from directory.permissions import can
from tmcs.errors import PermissionDeniedError


def require(actor, capability, division=None):
    if not can(actor, capability, division=division):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))
