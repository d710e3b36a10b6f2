"""Sales of a batch: the trade record a bank reads for trade-based credit (茶商贷-style loans).
Sales are append-only; a correction is a reversing sale. Under the batch's row lock, the net
quantity sold never exceeds what the batch holds."""

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from tmcs.audit import audit_context
from tmcs.errors import ConflictError
from transactions.services.common import next_number, required_text

from ..models import BatchStatus, ProductBatch, Sale, SaleChannel
from .batches import _quantity
from .common import SALE_PREFIX, day, invalid, require_producer_desk

CENT = Decimal("0.01")


def _amount(value):
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid("amount", _("金额应为数字。")) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT) or amount > Decimal("1e13"):
        raise invalid("amount", _("金额应为不小于0的数，最多两位小数（元）。"))
    return amount


def sold_quantity(batch):
    return batch.sales.aggregate(q=Sum("quantity"))["q"] or Decimal("0")


@transaction.atomic
def record_sale(*, actor, batch, sold_on, channel, buyer_name, quantity, amount, invoice_number, buyer=None):
    batch = ProductBatch.objects.select_for_update().select_related("producer").get(pk=batch.pk)
    require_producer_desk(actor, batch.producer)
    if batch.status == BatchStatus.RECALLED:
        raise ConflictError(_("批次已召回，不能再销售。"), code="batch_recalled")
    if channel not in SaleChannel.values:
        raise invalid("channel", _("请选择销售渠道。"))
    sold_on = day(sold_on, "sold_on")
    if sold_on < batch.produced_on:
        raise invalid("sold_on", _("销售日期不能早于加工/包装日期。"))
    quantity, amount = _quantity(quantity), _amount(amount)
    remaining = batch.quantity - sold_quantity(batch)
    if quantity > remaining:
        raise ConflictError(
            _("销售数量超过批次剩余数量 %(left)s %(unit)s。")
            % {"left": format(remaining.normalize(), "f"), "unit": batch.get_unit_display()},
            code="over_quantity",
            fields={"quantity": [_("超过剩余数量。")]},
        )
    invoice_number = required_text(invoice_number, "invoice_number", _("请填写发票或凭证号。"), max_length=60)
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"sale of batch {batch.number}"):
            return Sale.objects.create(
                number=next_number(SALE_PREFIX),
                batch=batch,
                producer=batch.producer,
                sold_on=sold_on,
                channel=channel,
                buyer_name=required_text(buyer_name, "buyer_name", _("请填写购买方。"), max_length=200),
                buyer=buyer,
                quantity=quantity,
                amount=amount,
                invoice_number=invoice_number,
                recorded_by=actor,
            )
    except IntegrityError:
        raise ConflictError(
            _("发票/凭证号 %(n)s 已登记过。") % {"n": invoice_number},
            code="duplicate",
            fields={"invoice_number": [_("已登记。")]},
        ) from None


@transaction.atomic
def reverse_sale(*, actor, sale, reason):
    """Cancel a sale recorded by mistake with its mirror image (once; a reversal is final)."""
    ProductBatch.objects.select_for_update().get(pk=sale.batch_id)
    sale = Sale.objects.select_related("producer").get(pk=sale.pk)
    require_producer_desk(actor, sale.producer)
    reason = required_text(reason, "reason", _("请填写冲销原因。"), max_length=200)
    if sale.reverses_id is not None or Sale.objects.filter(reverses=sale).exists():
        raise ConflictError(_("该销售记录已冲销或本身是冲销记录。"), code="already_reversed")
    with audit_context(user=actor, reason=f"reverse sale {sale.number}: {reason}"):
        return Sale.objects.create(
            number=next_number(SALE_PREFIX),
            batch_id=sale.batch_id,
            producer=sale.producer,
            sold_on=sale.sold_on,
            channel=sale.channel,
            buyer_name=sale.buyer_name,
            buyer=sale.buyer,
            quantity=-sale.quantity,
            amount=-sale.amount,
            invoice_number=f"{sale.invoice_number}（冲销：{reason}）"[:60],
            reverses=sale,
            recorded_by=actor,
        )
