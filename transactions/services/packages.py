"""资源包: collected assets bundled for one investor. Rows are locked asset → package; an asset
sits in at most one open package (services check under the asset locks, the partial unique index
one_open_package_per_asset is the backstop for anything that slips past)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from directory.permissions import Capability
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, InvalidTransition

from ..models import (
    PACKAGE_TRANSITIONS,
    CollectionItem,
    ContractStatus,
    PackageItem,
    PackagePhoto,
    PackageStatus,
    ResourcePackage,
)
from .common import check_transition, next_number, require, required_text

EDITABLE_STATUSES = (PackageStatus.DRAFT, PackageStatus.READY)
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 12


def _status_label(value):
    return PackageStatus(value).label


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def _lock_package(actor, package):
    package = (
        ResourcePackage.objects.select_for_update(of=("self",)).select_related("division").get(pk=package.pk)
    )
    require(actor, Capability.MANAGE_TRADING, division=package.division)
    return package


def _require_editable(package):
    if package.status not in EDITABLE_STATUSES:
        raise ConflictError(
            _("资源包“%(status)s”时不能修改资产。") % {"status": package.get_status_display()},
            code="not_editable",
        )


def _lock_assets(assets):
    """Lock the assets (by pk, so that two requests never wait on each other in a circle)."""
    ids = sorted({asset.pk for asset in assets})
    if not ids:
        raise _invalid("assets", _("请至少选择一项资源。"))
    return list(
        Asset.objects.select_for_update(of=("self",))
        .select_related("division")
        .filter(pk__in=ids)
        .order_by("pk")
    )


def _check_packable(actor, division, assets, *, package=None):
    """Every asset is collected (in a signed collection contract), lies within the division and is
    not in another open package."""
    collected = set(
        CollectionItem.objects.filter(
            asset__in=assets, is_open=True, contract__status=ContractStatus.SIGNED
        ).values_list("asset_id", flat=True)
    )
    taken = {
        item.asset_id: item.package
        for item in PackageItem.objects.filter(asset__in=assets, is_open=True)
        .exclude(package=package)
        .select_related("package")
    }
    for asset in assets:
        require(actor, Capability.MANAGE_TRADING, division=asset.division)
        if not division.contains(asset.division):
            raise _invalid(
                "assets",
                _("资源 %(code)s 不在%(division)s范围内。") % {"code": asset.code, "division": division.name},
            )
        if asset.status != AssetStatus.COLLECTED or asset.pk not in collected:
            raise _invalid(
                "assets",
                _("资源 %(code)s 未被收储（须在履行中的流转收储合同内），不能打包。") % {"code": asset.code},
            )
        if asset.pk in taken:
            raise _in_other_package(asset, taken[asset.pk])


def _in_other_package(asset, other):
    message = _("资源 %(code)s 已在资源包 %(package)s（%(name)s）中。") % {
        "code": asset.code,
        "package": other.code,
        "name": other.name,
    }
    return ConflictError(message, code="in_other_package", fields={"assets": [message]})


def _add_items(package, assets):
    """Insert the items; a concurrent package that got there first trips the unique index."""
    for asset in assets:
        try:
            with transaction.atomic():
                PackageItem.objects.create(package=package, asset=asset)
        except IntegrityError:
            other = (
                PackageItem.objects.filter(asset=asset, is_open=True)
                .exclude(package=package)
                .select_related("package")
                .first()
            )
            if other is None:
                raise ConflictError(
                    _("资源 %(code)s 已在本资源包中。") % {"code": asset.code}, code="duplicate"
                ) from None
            raise _in_other_package(asset, other.package) from None


def _texts(name, description, suggested_use):
    return {
        "name": required_text(name, "name", _("请填写资源包名称。"), max_length=200),
        "description": (description or "").strip(),
        "suggested_use": _optional(suggested_use, "suggested_use", 200),
    }


def _optional(value, field, max_length):
    value = (value or "").strip()
    if len(value) > max_length:
        raise _invalid(field, _("不能超过 %(n)s 个字。") % {"n": max_length})
    return value


@transaction.atomic
def create_package(*, actor, division, name, description="", suggested_use="", assets):
    require(actor, Capability.MANAGE_TRADING, division=division)
    texts = _texts(name, description, suggested_use)
    locked = _lock_assets(assets)
    _check_packable(actor, division, locked)
    with audit_context(user=actor, reason="create package"):
        package = ResourcePackage.objects.create(
            code=next_number("ZB"), division=division, created_by=actor, **texts
        )
        _add_items(package, locked)
    return package


@transaction.atomic
def update_package(*, actor, package, name, description="", suggested_use=""):
    package = _lock_package(actor, package)
    if package.status == PackageStatus.DISSOLVED:
        raise ConflictError(_("资源包已解散，不能修改。"), code="dissolved")
    for field, value in _texts(name, description, suggested_use).items():
        setattr(package, field, value)
    with audit_context(user=actor, reason="update package"):
        package.save(update_fields=["name", "description", "suggested_use"])
    return package


@transaction.atomic
def add_package_assets(*, actor, package, assets):
    locked = _lock_assets(assets)
    package = _lock_package(actor, package)
    _require_editable(package)
    _check_packable(actor, package.division, locked, package=package)
    already = set(package.items.filter(asset__in=locked, is_open=True).values_list("asset__code", flat=True))
    if already:
        raise ConflictError(
            _("资源 %(codes)s 已在本资源包中。") % {"codes": "、".join(sorted(already))},
            code="duplicate",
            fields={"assets": [_("资源已在本资源包中。")]},
        )
    with audit_context(user=actor, reason="add package assets"):
        _add_items(package, locked)
    return package


@transaction.atomic
def remove_package_asset(*, actor, package, asset):
    (asset,) = _lock_assets([asset])
    package = _lock_package(actor, package)
    _require_editable(package)
    item = package.items.filter(asset=asset, is_open=True).first()
    if item is None:
        raise DomainError(_("资源 %(code)s 不在本资源包中。") % {"code": asset.code}, code="not_found")
    if package.status == PackageStatus.READY and package.items.filter(is_open=True).count() == 1:
        raise ConflictError(_("可挂牌的资源包至少要有一项资源；请先退回编制或解散。"), code="last_asset")
    with audit_context(user=actor, reason=f"remove package asset {asset.code}"):
        item.delete()
    return package


def _move(actor, package, to_status, reason):
    package = _lock_package(actor, package)
    check_transition(PACKAGE_TRANSITIONS, PackageStatus(package.status), to_status, _status_label)
    package.status = to_status
    with audit_context(user=actor, reason=reason):
        package.save(update_fields=["status"])
    return package


@transaction.atomic
def mark_package_ready(*, actor, package):
    locked = _lock_package(actor, package)
    # The map also lets a listed or contracted package fall back to READY, but only the listing
    # and contract services may do that (withdrawal, 流拍, expiry); staff make drafts ready.
    if locked.status != PackageStatus.DRAFT:
        raise InvalidTransition(
            _("只有编制中的资源包可以设为可挂牌，当前为“%(status)s”。")
            % {"status": locked.get_status_display()}
        )
    if not locked.items.filter(is_open=True).exists():
        raise ConflictError(_("资源包还没有资源，不能设为可挂牌。"), code="empty")
    return _move(actor, locked, PackageStatus.READY, "package ready")


@transaction.atomic
def return_package_to_draft(*, actor, package):
    return _move(actor, package, PackageStatus.DRAFT, "package back to draft")


@transaction.atomic
def dissolve_package(*, actor, package, reason):
    reason = required_text(reason, "reason", _("请填写解散原因。"))
    package = _lock_package(actor, package)
    if package.status in (PackageStatus.LISTED, PackageStatus.CONTRACTED):
        raise ConflictError(
            _("资源包“%(status)s”，不能解散。") % {"status": package.get_status_display()},
            code="in_trade",
        )
    package = _move(actor, package, PackageStatus.DISSOLVED, f"dissolve package: {reason}")
    with audit_context(user=actor, reason=f"dissolve package: {reason}"):
        package.items.filter(is_open=True).update(is_open=False)
    return package


# --- photos -----------------------------------------------------------------------------------


def _inspect_photo(upload):
    """SHA-256 of a real JPEG/PNG/WebP image of at most 10 MB (content checked by Pillow)."""
    from resources.services import inspect_document

    if upload is not None and upload.size > MAX_PHOTO_BYTES:
        raise _invalid("image", _("照片超过 10 MB。"))
    try:
        content_type, _size, sha256 = inspect_document(upload)
    except DomainError as exc:
        raise _invalid("image", str(exc.detail)) from None
    if not content_type.startswith("image/"):
        raise _invalid("image", _("照片须为 JPEG、PNG 或 WebP 图片。"))
    return sha256


@transaction.atomic
def add_package_photo(*, actor, package, image, caption=""):
    package = _lock_package(actor, package)
    if package.status == PackageStatus.DISSOLVED:
        raise ConflictError(_("资源包已解散，不能上传照片。"), code="dissolved")
    caption = _optional(caption, "caption", 100)
    sha256 = _inspect_photo(image)
    if package.photos.count() >= MAX_PHOTOS:
        raise ConflictError(
            _("每个资源包最多 %(n)s 张照片。") % {"n": MAX_PHOTOS},
            code="too_many",
            fields={"image": [_("每个资源包最多 %(n)s 张照片。") % {"n": MAX_PHOTOS}]},
        )
    if package.photos.filter(sha256=sha256).exists():
        raise ConflictError(
            _("这张照片已上传过。"), code="duplicate", fields={"image": [_("这张照片已上传过。")]}
        )
    photo = PackagePhoto(package=package, caption=caption, sha256=sha256, uploaded_by=actor)
    try:
        photo.image.save(image.name, image, save=False)
        with transaction.atomic(), audit_context(user=actor, reason="add package photo"):
            photo.save()
    except BaseException:
        if photo.image.name:
            photo.image.storage.delete(photo.image.name)  # nothing half-written stays
        raise
    return photo


@transaction.atomic
def remove_package_photo(*, actor, photo):
    package = _lock_package(actor, photo.package)
    photo = PackagePhoto.objects.select_for_update().filter(pk=photo.pk, package=package).first()
    if photo is None:
        raise DomainError(_("照片不存在或已删除。"), code="not_found")
    name, storage = photo.image.name, photo.image.storage
    with audit_context(user=actor, reason="remove package photo"):
        photo.delete()
    transaction.on_commit(lambda: storage.delete(name))
