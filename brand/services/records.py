"""What is recorded about a batch after registration: laboratory tests, certificates, recall."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from directory.permissions import Capability
from directory.selectors import users_with
from directory.services import notify
from journal.models import EntryKind
from journal.services import record as journal_record
from tmcs.audit import audit_context
from tmcs.errors import ConflictError
from transactions.services.common import check_transition, required_text

from ..models import BatchCertificate, BatchStatus, BatchTest, CertificateKind, ProductBatch
from .common import day, invalid, require_producer_desk

BATCH_TRANSITIONS = {
    BatchStatus.ON_SALE: {BatchStatus.SOLD_OUT, BatchStatus.RECALLED},
    BatchStatus.SOLD_OUT: {BatchStatus.RECALLED},
    BatchStatus.RECALLED: set(),
}


def _locked(batch):
    return ProductBatch.objects.select_for_update().select_related("producer", "licence").get(pk=batch.pk)


def _items(items):
    if not isinstance(items, list) or not items:
        raise invalid("items", _("请至少填写一个检测项目。"))
    cleaned = []
    for item in items:
        if (
            not isinstance(item, dict)
            or not str(item.get("item", "")).strip()
            or not isinstance(item.get("passed"), bool)
        ):
            raise invalid("items", _("每个检测项目须有名称和是否合格。"))
        cleaned.append(
            {key: str(item.get(key, "")) for key in ("item", "value", "limit", "unit")}
            | {"passed": item["passed"]}
        )
    return cleaned


@transaction.atomic
def record_test(*, actor, batch, tested_on, laboratory, report_number, items, passed):
    batch = _locked(batch)
    require_producer_desk(actor, batch.producer)
    tested_on = day(tested_on, "tested_on")
    if tested_on < batch.harvest_start:
        raise invalid("tested_on", _("检测日期不能早于采收开始日。"))
    items = _items(items)
    if bool(passed) != all(item["passed"] for item in items):
        raise invalid("passed", _("检测结论应与各项目结果一致。"))
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"test batch {batch.number}"):
            return BatchTest.objects.create(
                batch=batch,
                tested_on=tested_on,
                laboratory=required_text(laboratory, "laboratory", _("请填写检测机构。"), max_length=200),
                report_number=required_text(
                    report_number, "report_number", _("请填写报告编号。"), max_length=100
                ),
                items=items,
                passed=bool(passed),
                recorded_by=actor,
            )
    except IntegrityError:
        raise ConflictError(
            _("该报告编号已登记。"), code="duplicate", fields={"report_number": [_("已登记。")]}
        ) from None


@transaction.atomic
def add_certificate(*, actor, batch, kind, number, issuer, valid_to=None):
    batch = _locked(batch)
    require_producer_desk(actor, batch.producer)
    if kind not in CertificateKind.values:
        raise invalid("kind", _("请选择证书类型。"))
    if valid_to is not None:
        valid_to = day(valid_to, "valid_to", not_after_today=False)
        if valid_to < batch.harvest_start:
            raise invalid("valid_to", _("证书在采收前已失效。"))
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"certificate for batch {batch.number}"):
            return BatchCertificate.objects.create(
                batch=batch,
                kind=kind,
                number=required_text(number, "number", _("请填写证书编号。"), max_length=100),
                issuer=required_text(issuer, "issuer", _("请填写发证机构。"), max_length=200),
                valid_to=valid_to,
                recorded_by=actor,
            )
    except IntegrityError:
        raise ConflictError(
            _("该证书已登记。"), code="duplicate", fields={"number": [_("已登记。")]}
        ) from None


@transaction.atomic
def recall_batch(*, actor, batch, reason):
    """Recall a batch: the trace page shows it at once, sales stop, the brand desk is told."""
    batch = _locked(batch)
    require_producer_desk(actor, batch.producer)
    reason = required_text(reason, "reason", _("请填写召回原因。"), max_length=300)
    check_transition(BATCH_TRANSITIONS, batch.status, BatchStatus.RECALLED, lambda s: BatchStatus(s).label)
    with audit_context(user=actor, reason=f"recall batch {batch.number}"):
        batch.status, batch.recall_reason = BatchStatus.RECALLED, reason
        batch.save(update_fields=["status", "recall_reason"])
    journal_record(
        kind=EntryKind.BATCH_RECALLED,
        references=[batch.number, batch.licence.number],
        public={"product": batch.product_name, "producer": batch.producer.name, "reason": reason},
        detail={"batch": batch.pk},
        actor=actor,
    )
    recipients = users_with(Capability.MANAGE_BRAND, division=batch.licence.division)
    title = _("产品批次 %(n)s 已召回") % {"n": batch.number}
    transaction.on_commit(lambda: notify(recipients=recipients, title=title, body=reason, level="warning"))
    return batch
