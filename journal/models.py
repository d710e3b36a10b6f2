"""The tamper-evident journal (公开账本): every registration, right change, pledge, contract,
payment and distribution of the platform, appended as one entry in a single hash chain.

Invariants (kept by the database, see migrations/0002):
1. entries are only ever inserted; the one update allowed is the commit-time sequencing below;
2. an entry is written inside the business transaction it records (`journal.services.record`),
   with its content hash computed then; at COMMIT a deferred constraint trigger takes one
   advisory lock, gives the entry the next sequence number and chains it:
   entry_hash = sha256("{seq}:{prev_hash}:{content_hash}"). Holding the lock only between the
   trigger and the commit keeps the chain single without serializing the business work itself
   (and cannot deadlock: nothing else is locked after it);
3. seq and entry_hash are unique, so a fork or a gap written around the trigger is refused.

The public part of an entry (kind, references, public fields, digests, hashes) never holds
personal data: references are certificate/contract/slip/asset numbers, public fields are masked.
`detail` stays inside (object ids, actor, a random nonce that keeps its digest unguessable).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    ASSET_REGISTERED = "asset_registered", _("资源登记")
    ASSET_CHANGED = "asset_changed", _("登记事项变更")
    ASSET_RETIRED = "asset_retired", _("资源注销")
    CERTIFICATE_ISSUED = "certificate_issued", _("证书颁发")
    RIGHT_GRANTED = "right_granted", _("权利设立")
    RIGHT_ENDED = "right_ended", _("权利终止")
    RESTRICTION_ADDED = "restriction_added", _("权利限制设立")
    RESTRICTION_RELEASED = "restriction_released", _("权利限制解除")
    PLEDGE_REGISTERED = "pledge_registered", _("质押登记")
    PLEDGE_RELEASED = "pledge_released", _("质押注销")
    CONTRACT_SIGNED = "contract_signed", _("合同签订")
    CONTRACT_ENDED = "contract_ended", _("合同终止")
    SLIP_ISSUED = "slip_issued", _("储蓄单签发")
    SLIP_ENDED = "slip_ended", _("储蓄单作废或到期")
    PAYMENT = "payment", _("资金收付")
    DISTRIBUTION = "distribution", _("收益分配")
    LOAN_DISBURSED = "loan_disbursed", _("贷款发放")
    LOAN_REPAID = "loan_repaid", _("贷款还款")
    LICENCE_CHANGED = "licence_changed", _("品牌授权变更")
    BATCH_REGISTERED = "batch_registered", _("产品批次登记")
    BATCH_RECALLED = "batch_recalled", _("产品批次召回")


class JournalEntry(models.Model):
    seq = models.BigIntegerField(_("序号"), null=True, unique=True)
    recorded_at = models.DateTimeField(_("记录时间"))
    sequenced_at = models.DateTimeField(_("上链时间"), null=True)
    kind = models.CharField(_("事项"), max_length=30, choices=EntryKind.choices)
    references = ArrayField(models.CharField(max_length=120), verbose_name=_("编号"), default=list)
    public = models.JSONField(_("公开内容"), default=dict)
    detail = models.JSONField(_("内部内容"), default=dict)
    detail_digest = models.CharField(_("内部内容摘要"), max_length=64)
    content_hash = models.CharField(_("内容哈希"), max_length=64)
    # NULL (not "") until sequenced at commit: "" would collide under the unique constraints
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, null=True)  # noqa: DJ001
    entry_hash = models.CharField(_("本条哈希"), max_length=64, null=True, unique=True)  # noqa: DJ001
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("账本条目")
        verbose_name_plural = _("账本条目")
        ordering = ["seq"]
        indexes = [
            GinIndex(fields=["references"], name="journal_entry_references"),
            models.Index(fields=["sequenced_at"], name="journal_entry_sequenced_at"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.get_kind_display()}"


class JournalCheckpoint(models.Model):
    """The chain's head at the end of a day (Asia/Shanghai), published on the public page and
    downloadable, signed with the platform's Ed25519 key: a copy kept outside lets anyone prove
    later that no entry up to it was changed, even by someone able to rewrite the database."""

    day = models.DateField(_("日期"), unique=True)
    last_seq = models.BigIntegerField(_("截至序号"))
    head_hash = models.CharField(_("链头哈希"), max_length=64)
    entry_count = models.PositiveIntegerField(_("当日条目数"))
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    signature = models.CharField(_("签名"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("每日检查点")
        verbose_name_plural = _("每日检查点")
        ordering = ["-day"]

    def __str__(self):
        return f"{self.day} #{self.last_seq}"
