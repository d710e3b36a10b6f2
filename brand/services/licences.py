"""Brands, their standards and the licences producers hold (granting here; the licence's later
life — inspections, suspension, reinstatement, withdrawal, renewal, expiry — in licence_life.py)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from journal.models import EntryKind
from journal.services import record as journal_record
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError
from transactions.services.common import next_number, required_text

from ..models import (
    Brand,
    BrandStandard,
    Licence,
    LicenceAction,
    LicenceActionKind,
    LicenceStatus,
    ProductCategory,
)
from .common import LICENCE_PREFIX, PRODUCER_KINDS, day, invalid, require_brand_desk

# Registered assets stay eligible as origins while collected, listed, leased or pledged: the
# tea garden is still where the tea grows. Drafts, assets under review or notice, and retired
# assets are not.
ORIGIN_STATUSES = frozenset(
    {
        AssetStatus.REGISTERED,
        AssetStatus.COLLECTED,
        AssetStatus.LISTED,
        AssetStatus.LEASED,
        AssetStatus.PLEDGED,
    }
)


@transaction.atomic
def create_brand(*, actor, name, owner, division, established_on, description=""):
    require_brand_desk(actor, division)
    name = required_text(name, "name", _("请填写品牌名称。"), max_length=100)
    if Brand.objects.filter(name=name).exists():
        raise ConflictError(
            _("品牌“%(name)s”已存在。") % {"name": name}, code="duplicate", fields={"name": [_("已存在。")]}
        )
    with audit_context(user=actor, reason="create brand"):
        return Brand.objects.create(
            name=name,
            owner=owner,
            division=division,
            established_on=day(established_on, "established_on"),
            description=(description or "").strip(),
        )


@transaction.atomic
def add_standard(*, actor, brand, code, title, category, requirements, effective_from):
    require_brand_desk(actor, brand.division)
    code = required_text(code, "code", _("请填写标准编号。"), max_length=60)
    if category not in ProductCategory.values:
        raise invalid("category", _("请选择产品类别。"))
    if BrandStandard.objects.filter(brand=brand, code=code).exists():
        raise ConflictError(_("标准编号已存在。"), code="duplicate", fields={"code": [_("标准编号已存在。")]})
    with audit_context(user=actor, reason="add brand standard"):
        return BrandStandard.objects.create(
            brand=brand,
            code=code,
            title=required_text(title, "title", _("请填写标准名称。"), max_length=200),
            category=category,
            requirements=required_text(requirements, "requirements", _("请填写主要要求。"), max_length=5000),
            effective_from=day(effective_from, "effective_from", not_after_today=False),
        )


def _check_origins(actor, division, assets):
    assets = list(assets)
    if not assets:
        raise invalid("origin_assets", _("请至少选择一处生产基地（已登记资源）。"))
    locked = list(Asset.objects.select_for_update().filter(pk__in=[a.pk for a in assets]).order_by("pk"))
    for asset in locked:
        if asset.status not in ORIGIN_STATUSES:
            raise invalid(
                "origin_assets",
                _("资源 %(code)s 尚未登记或已注销，不能作为生产基地。") % {"code": asset.code},
                code="origin_not_registered",
            )
        if not division.contains(asset.division):
            raise invalid(
                "origin_assets",
                _("资源 %(code)s 不在授权区域内。") % {"code": asset.code},
                code="origin_outside_division",
            )
    return locked


def _check_standards(brand, categories, standards):
    standards = list(standards)
    categories = list(dict.fromkeys(categories or []))
    if not categories or any(c not in ProductCategory.values for c in categories):
        raise invalid("categories", _("请选择授权产品类别。"))
    for standard in standards:
        if standard.brand_id != brand.pk or standard.retired_on is not None:
            raise invalid("standards", _("标准 %(code)s 不属于该品牌或已废止。") % {"code": standard.code})
    covered = {s.category for s in standards}
    missing = [ProductCategory(c).label for c in categories if c not in covered]
    if missing:
        raise invalid(
            "standards",
            _("以下产品类别没有选择执行标准：%(list)s。") % {"list": "、".join(str(m) for m in missing)},
            code="standard_missing",
        )
    return categories, standards


@transaction.atomic
def grant_licence(
    *,
    actor,
    brand,
    producer,
    division,
    categories,
    standards,
    origin_assets,
    valid_from,
    valid_to,
    document="",
):
    """License a producer: categories each backed by a current standard of the brand, origin assets
    registered in the registry within the licence's division. One live licence per brand+producer."""
    require_brand_desk(actor, division)
    if not brand.is_active:
        raise ConflictError(_("品牌已停用，不能授权。"), code="brand_inactive")
    if producer.kind not in PRODUCER_KINDS or not producer.is_active:
        raise invalid("producer", _("生产主体应为在册的村集体、强村公司或企业。"), code="producer_ineligible")
    valid_from = day(valid_from, "valid_from", not_after_today=False)
    valid_to = day(valid_to, "valid_to", not_after_today=False)
    if valid_to <= valid_from:
        raise invalid("valid_to", _("授权截止日应晚于起始日。"))
    if valid_to < timezone.localdate():
        raise invalid("valid_to", _("授权截止日已过。"))
    categories, standards = _check_standards(brand, categories, standards)
    origins = _check_origins(actor, division, origin_assets)
    if Licence.objects.filter(brand=brand, producer=producer, status__in=["active", "suspended"]).exists():
        raise ConflictError(
            _("该生产主体已持有“%(brand)s”的有效授权。") % {"brand": brand.name},
            code="duplicate_licence",
            fields={"producer": [_("已有有效授权。")]},
        )
    try:
        with transaction.atomic(), audit_context(user=actor, reason="grant brand licence"):
            licence = Licence.objects.create(
                number=next_number(LICENCE_PREFIX),
                brand=brand,
                producer=producer,
                division=division,
                categories=categories,
                valid_from=valid_from,
                valid_to=valid_to,
                status=LicenceStatus.ACTIVE,
                granted_by=actor,
            )
    except IntegrityError:  # two desks licensing the same producer at once
        raise ConflictError(
            _("该生产主体已持有“%(brand)s”的有效授权。") % {"brand": brand.name}, code="duplicate_licence"
        ) from None
    licence.standards.set(standards)
    licence.origin_assets.set(origins)
    LicenceAction.objects.create(
        licence=licence,
        kind=LicenceActionKind.GRANT,
        effective_on=valid_from,
        reason=_("授权使用品牌"),
        document=(document or "").strip(),
        actor=actor,
    )
    journal_record(
        kind=EntryKind.LICENCE_CHANGED,
        references=[licence.number, *[a.code for a in origins]],
        public={
            "action": "grant",
            "brand": brand.name,
            "producer": producer.name,
            "categories": categories,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
        detail={"licence": licence.pk, "producer": producer.pk, "assets": [a.pk for a in origins]},
        actor=actor,
    )
    return licence
