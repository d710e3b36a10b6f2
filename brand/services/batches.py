"""Registering product batches under a licence (tests, certificates, recall and sales live in
batch_records.py and sales.py)."""

import secrets
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from journal.models import EntryKind
from journal.services import record as journal_record
from tmcs.audit import audit_context
from tmcs.errors import ConflictError
from transactions.services.common import next_number, required_text

from ..models import BatchUnit, Licence, LicenceStatus, ProductBatch
from .common import BATCH_PREFIX, day, invalid, require_producer_desk

MAX_QUANTITY = Decimal("99999999999")


def new_trace_code():
    """Random, unguessable and short enough for a QR on a label (24 url-safe characters)."""
    return secrets.token_urlsafe(18)


def _quantity(value):
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid("quantity", _("数量应为数字。")) from None
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY:
        raise invalid("quantity", _("数量应大于0。"))
    if quantity.as_tuple().exponent < -3:
        raise invalid("quantity", _("数量最多保留3位小数。"))
    return quantity


def licence_blocks_batches(licence, on):
    """Why this licence cannot carry a new batch produced on `on` (a message), or None."""
    if licence.status == LicenceStatus.SUSPENDED:
        return _("品牌授权 %(number)s 已暂停使用，暂停期间不能登记新批次。") % {"number": licence.number}
    if licence.status != LicenceStatus.ACTIVE:
        return _("品牌授权 %(number)s 已%(status)s，不能登记新批次。") % {
            "number": licence.number,
            "status": licence.get_status_display(),
        }
    today = timezone.localdate()
    if not (licence.valid_from <= on <= licence.valid_to) or today > licence.valid_to:
        return _("生产日期不在品牌授权 %(number)s 的有效期内。") % {"number": licence.number}
    return None


@transaction.atomic
def register_batch(
    *,
    actor,
    licence,
    product_name,
    category,
    standard,
    origin_assets,
    harvest_start,
    harvest_end,
    produced_on,
    quantity,
    unit,
):
    """A batch under an active licence, from the licence's origins and categories. The licence row
    is locked, so a suspension and a batch registration never interleave."""
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    require_producer_desk(actor, licence.producer)
    product_name = required_text(product_name, "product_name", _("请填写产品名称。"), max_length=100)
    harvest_start = day(harvest_start, "harvest_start")
    harvest_end = day(harvest_end, "harvest_end")
    produced_on = day(produced_on, "produced_on")
    if harvest_end < harvest_start:
        raise invalid("harvest_end", _("采收结束日不能早于开始日。"))
    if produced_on < harvest_start:
        raise invalid("produced_on", _("加工/包装日期不能早于采收开始日。"))
    blocked = licence_blocks_batches(licence, produced_on)
    if blocked:
        raise ConflictError(blocked, code="licence_not_active")
    if category not in licence.categories:
        raise invalid("category", _("该授权不包括此产品类别。"), code="category_not_licensed")
    if (
        standard.pk not in set(licence.standards.values_list("pk", flat=True))
        or standard.category != category
    ):
        raise invalid("standard", _("执行标准应为该授权下此类别的标准。"), code="standard_not_licensed")
    origins = list(origin_assets)
    if not origins:
        raise invalid("origin_assets", _("请选择产地。"))
    licensed = set(licence.origin_assets.values_list("pk", flat=True))
    outside = [a.code for a in origins if a.pk not in licensed]
    if outside:
        raise invalid(
            "origin_assets",
            _("以下资源不是该授权的生产基地：%(codes)s。") % {"codes": "、".join(outside)},
            code="origin_not_licensed",
        )
    if unit not in BatchUnit.values:
        raise invalid("unit", _("请选择单位。"))
    quantity = _quantity(quantity)
    with audit_context(user=actor, reason="register product batch"):
        batch = ProductBatch.objects.create(
            number=next_number(BATCH_PREFIX),
            trace_code=new_trace_code(),
            licence=licence,
            producer=licence.producer,
            product_name=product_name,
            category=category,
            standard=standard,
            harvest_start=harvest_start,
            harvest_end=harvest_end,
            produced_on=produced_on,
            quantity=quantity,
            unit=unit,
            registered_by=actor,
        )
    batch.origin_assets.set(origins)
    journal_record(
        kind=EntryKind.BATCH_REGISTERED,
        references=[batch.number, licence.number, *[a.code for a in origins]],
        public={
            "product": product_name,
            "producer": licence.producer.name,
            "brand": licence.brand.name,
            "quantity": quantity,
            "unit": unit,
            "harvest": [harvest_start, harvest_end],
            "produced_on": produced_on,
        },
        detail={"batch": batch.pk, "licence": licence.pk, "assets": [a.pk for a in origins]},
        actor=actor,
    )
    return batch
