"""闲置资产挂出: a village collective offers an idle asset; cooperative staff ask for more or take
it into the resource pool (as a new draft asset or an existing one). The village follows each step
in its inbox."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from directory.models import Membership, OrganizationKind, Role
from directory.permissions import Capability, can
from directory.services import notify
from tmcs.audit import audit_context
from tmcs.errors import DomainError, InvalidTransition, PermissionDeniedError

from . import services
from .models import (
    LISTING_TRANSITIONS,
    ExpectedUse,
    IdleAssetListing,
    ListingPhoto,
    ListingStatus,
    ResourceFamily,
)

LISTABLE_FAMILIES = (
    ResourceFamily.HOMESTEAD,
    ResourceFamily.COLLECTIVE_ASSET,
    ResourceFamily.FARMLAND,
    ResourceFamily.FOREST,
    ResourceFamily.HERITAGE,
)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 9


def _clean(data):
    errors, cleaned = {}, {}
    for name, label in (("title", _("标题")), ("description", _("情况说明")), ("location", _("位置"))):
        cleaned[name] = (data.get(name) or "").strip()
        if not cleaned[name]:
            errors[name] = [_("请填写%(label)s。") % {"label": label}]
    resource_type = data.get("resource_type")
    if resource_type is None or resource_type.family not in LISTABLE_FAMILIES:
        errors["resource_type"] = [
            _("请选择可挂出的资源类型（宅基地、农房、集体资产、耕地、林地、古村落）。")
        ]
    cleaned["resource_type"] = resource_type
    if data.get("expected_use") not in ExpectedUse.values:
        errors["expected_use"] = [_("请选择意向方式。")]
    cleaned["expected_use"] = data.get("expected_use")
    for name in ("expected_price", "area_estimate_m2"):
        value = data.get(name)
        if value in (None, ""):
            cleaned[name] = None
            continue
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            errors[name] = [_("请输入数字。")]
            continue
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            errors[name] = [_("须为不小于0的数，最多两位小数。")]
        cleaned[name] = amount
    cleaned["price_note"] = (data.get("price_note") or "").strip()
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    return cleaned


def _check_photos(photos):
    if len(photos) > MAX_PHOTOS:
        raise DomainError(
            _("最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS},
            code="invalid",
            fields={"photos": [_("照片过多。")]},
        )
    for photo in photos:
        if photo.size > MAX_PHOTO_BYTES:
            raise DomainError(
                _("照片“%(name)s”超过 5 MB。") % {"name": photo.name},
                code="invalid",
                fields={"photos": [_("照片过大。")]},
            )
        try:
            with Image.open(photo) as image:
                image.verify()
                if image.format not in ("JPEG", "PNG", "WEBP"):
                    raise UnidentifiedImageError
        except (UnidentifiedImageError, OSError):
            raise DomainError(
                _("“%(name)s”不是有效的 JPEG/PNG/WebP 图片。") % {"name": photo.name},
                code="invalid",
                fields={"photos": [_("图片格式无效。")]},
            ) from None
        photo.seek(0)


def _collective_of(actor):
    for membership in actor.active_memberships:
        if (
            membership.role == Role.VILLAGE_CLERK
            and membership.organization.kind == OrganizationKind.VILLAGE_COLLECTIVE
        ):
            return membership.organization
    raise PermissionDeniedError(_("只有村集体经办人可以挂出闲置资产。"))


@transaction.atomic
def create_listing(*, actor, photos=(), **data):
    collective = _collective_of(actor)
    cleaned = _clean(data)
    _check_photos(photos)
    with audit_context(user=actor, reason="list idle asset"):
        listing = IdleAssetListing.objects.create(collective=collective, created_by=actor, **cleaned)
        for photo in photos:
            ListingPhoto.objects.create(listing=listing, image=photo)
    _notify_staff(listing, _("新的闲置资产挂出"))
    return listing


def _notify_staff(listing, title):
    staff = [
        m.user
        for m in Membership.objects.filter(
            is_active=True,
            role__in=[Role.COOP_STAFF, Role.CITY_ADMIN],
            organization__kind=OrganizationKind.COOPERATIVE,
        ).select_related("user", "organization__division")
        if m.organization.division.contains(listing.collective.division)
    ]
    if staff:
        notify(
            recipients=staff,
            title=title,
            body=f"{listing.collective}：{listing.title}",
            link=listing.get_absolute_url(),
        )


def _notify_village(listing, title, note=""):
    clerks = [
        m.user
        for m in listing.collective.memberships.filter(
            is_active=True, role=Role.VILLAGE_CLERK
        ).select_related("user")
    ]
    notify(
        recipients=clerks,
        title=title,
        body=f"{listing.title}" + (f"：{note}" if note else ""),
        link=listing.get_absolute_url(),
        level="info",
    )


def _move(listing, to_status):
    if to_status not in LISTING_TRANSITIONS[ListingStatus(listing.status)]:
        raise InvalidTransition(
            _("挂出状态不能从“%(from)s”变为“%(to)s”。")
            % {"from": listing.get_status_display(), "to": ListingStatus(to_status).label}
        )
    listing.status = to_status


def _locked_for_staff(actor, listing):
    listing = (
        IdleAssetListing.objects.select_for_update(of=("self",))
        .select_related("collective__division")
        .get(pk=listing.pk)
    )
    if not can(actor, Capability.MANAGE_REGISTRY, division=listing.collective.division):
        raise PermissionDeniedError(_("您没有权限审核该挂出。"))
    return listing


@transaction.atomic
def request_information(*, actor, listing, note):
    listing = _locked_for_staff(actor, listing)
    note = (note or "").strip()
    if not note:
        raise DomainError(
            _("请写明需要补充的材料。"), code="invalid", fields={"note": [_("请写明需要补充的材料。")]}
        )
    _move(listing, ListingStatus.INFO_REQUESTED)
    listing.staff_note = note
    with audit_context(user=actor, reason=f"request information: {note}"):
        listing.save(update_fields=["status", "staff_note", "updated_at"])
    _notify_village(listing, _("合作社请您补充挂出材料"), note)
    return listing


@transaction.atomic
def resubmit_listing(*, actor, listing, photos=(), **data):
    listing = IdleAssetListing.objects.select_for_update().get(pk=listing.pk)
    if _collective_of(actor) != listing.collective:
        raise PermissionDeniedError(_("只能修改本村的挂出。"))
    cleaned = _clean(data)
    _check_photos(photos)
    _move(listing, ListingStatus.SUBMITTED)
    for name, value in cleaned.items():
        setattr(listing, name, value)
    with audit_context(user=actor, reason="resubmit listing"):
        listing.save()
        for photo in photos:
            ListingPhoto.objects.create(listing=listing, image=photo)
    _notify_staff(listing, _("闲置资产挂出已补充材料"))
    return listing


@transaction.atomic
def decline_listing(*, actor, listing, note):
    listing = _locked_for_staff(actor, listing)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请写明不予收储的理由。"), code="invalid", fields={"note": [_("请写明理由。")]})
    _move(listing, ListingStatus.DECLINED)
    listing.staff_note = note
    with audit_context(user=actor, reason=f"decline listing: {note}"):
        listing.save(update_fields=["status", "staff_note", "updated_at"])
    _notify_village(listing, _("闲置资产挂出未被收储"), note)
    return listing


@transaction.atomic
def accept_listing(*, actor, listing, geometry=None, attributes=None, existing_asset=None, note=""):
    """Take the listing into the pool: link an existing asset, or record a new draft asset from it."""
    listing = _locked_for_staff(actor, listing)
    _move(listing, ListingStatus.ACCEPTED)
    if existing_asset is not None:
        if (
            existing_asset.division_id != listing.collective.division_id
            and not listing.collective.division.contains(existing_asset.division)
        ):
            raise DomainError(
                _("所选资源不在该村范围内。"), code="invalid", fields={"asset": [_("资源不在该村范围内。")]}
            )
        asset = existing_asset
    else:
        asset = services.create_asset(
            actor=actor,
            resource_type=listing.resource_type,
            division=listing.collective.division,
            name=listing.title,
            geometry=geometry,
            attributes=attributes or {},
        )
    listing.asset, listing.staff_note = asset, (note or "").strip()
    with audit_context(user=actor, reason="accept listing"):
        listing.save(update_fields=["status", "asset", "staff_note", "updated_at"])
    _notify_village(listing, _("闲置资产已纳入合作社资源池"), asset.code)
    return listing
