"""Small pieces shared by the brand services: permissions, dates, producers."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import OrganizationKind
from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError

# Who may hold a licence: the producers of the brand — village collectives, their strong-village
# companies, and enterprises (farmers' professional cooperatives and family farms are registered
# as enterprises).
PRODUCER_KINDS = frozenset(
    {
        OrganizationKind.VILLAGE_COLLECTIVE,
        OrganizationKind.STRONG_VILLAGE_COMPANY,
        OrganizationKind.ENTERPRISE,
    }
)

LICENCE_PREFIX = "PZ"  # 品牌授权 PZ2026000001
BATCH_PREFIX = "PC"  # 产品批次
SALE_PREFIX = "XS"  # 销售记录


def invalid(field, message, code="invalid"):
    return DomainError(message, code=code, fields={field: [message]})


def require_brand_desk(actor, division):
    if not can(actor, Capability.MANAGE_BRAND, division=division):
        raise PermissionDeniedError(_("您没有权限管理品牌授权。"))


def require_producer_desk(actor, producer):
    """Producers record for their own organization; staff for producers in their divisions."""
    if not can(actor, Capability.RECORD_PRODUCTION, organization=producer):
        raise PermissionDeniedError(_("您没有权限为该生产主体登记生产和销售。"))


def day(value, field, *, not_after_today=True):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise invalid(field, _("日期格式应为 YYYY-MM-DD。")) from None
    if not isinstance(value, datetime.date):
        raise invalid(field, _("请填写日期。"))
    if not_after_today and value > timezone.localdate():
        raise invalid(field, _("日期不能晚于今天。"))
    return value
