"""Data exchange with departments (natural resources, forestry, water, ecology and environment,
statistics, agriculture) and with guarantee and credit platforms.

Invariants:
1. every exchange — import or export, web or API — leaves one ExchangeLog row saying who, when,
   what, in which format and how many rows (written even when the file is refused);
2. an import is all-or-nothing: a file with any bad row writes nothing but its log and its row
   errors; re-importing the same rows changes nothing (ExchangeRecord keeps each natural key's
   content digest, so unchanged rows are counted, not rewritten);
3. no party's data leaves in a credit export without a consent record that covers the
   recipient, the purpose and the export date; each exported line names its consent.
"""

import pghistory
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from directory.models import AdministrativeDivision, Organization, Party, User
from resources.models import Asset


class Dataset(models.TextChoices):
    """What departments hold and need (one module per dataset under exchange/datasets/)."""

    PARCELS = "parcels", _("自然资源：资源地块与权属")
    FOREST_RESOURCES = "forest_resources", _("林业：森林资源")
    HARVEST_PERMITS = "harvest_permits", _("林业：林木采伐许可")
    WATER_PERMITS = "water_permits", _("水利：取水许可")
    MONITORING = "monitoring", _("生态环境：监测数据")
    GEP_INPUTS = "gep_inputs", _("统计：GEP 核算基础数据")
    COLLECTIVES = "collectives", _("农业农村：农村集体经济组织")
    CREDIT_REPORT = "credit_report", _("征信/担保平台：信用报送")


class ExchangeFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    GEOJSON = "geojson", "GeoJSON"
    JSON = "json", "JSON"


class Direction(models.TextChoices):
    IMPORT = "import", _("导入")
    EXPORT = "export", _("导出")


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    API = "api", _("接口")
    COMMAND = "command", _("命令行")


class ExchangeStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("成功")
    REJECTED = "rejected", _("整体退回")
    FAILED = "failed", _("系统错误")


class ExchangeLog(models.Model):
    """One exchange: who, when, what, which format, how many rows, and the row errors of a
    refused file. Append-only (trigger in migration 0002)."""

    number = models.CharField(_("交换编号"), max_length=20, unique=True)
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    dataset = models.CharField(_("数据集"), max_length=30, choices=Dataset.choices)
    format = models.CharField(_("格式"), max_length=10, choices=ExchangeFormat.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    actor = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("对方单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchange_logs",
        help_text=_("提供或接收数据的部门、平台"),
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("数据范围（区划）"), on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    file_sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_created = models.PositiveIntegerField(_("新增"), default=0)
    rows_updated = models.PositiveIntegerField(_("更新"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("未变"), default=0)
    rows_rejected = models.PositiveIntegerField(_("错误行"), default=0)
    status = models.CharField(_("结果"), max_length=10, choices=ExchangeStatus.choices)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    parameters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("完成时间"))

    class Meta:
        verbose_name = _("数据交换记录")
        verbose_name_plural = _("数据交换记录")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["dataset", "direction", "-started_at"], name="exchange_log_dataset_idx")
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("exchange:log-detail", args=[self.pk])


class ExchangeRecord(models.Model):
    """The last imported content of one natural key of a dataset (asset code, permit number…):
    an identical row on re-import is 'unchanged', a different one an update."""

    dataset = models.CharField(_("数据集"), max_length=30, choices=Dataset.choices)
    natural_key = models.CharField(_("业务主键"), max_length=120)
    digest = models.CharField(_("内容摘要"), max_length=64)
    object_id = models.BigIntegerField(_("对象 ID"))
    last_log = models.ForeignKey(
        ExchangeLog, verbose_name=_("最近一次交换"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "natural_key"], name="exchange_record_unique")
        ]

    def __str__(self):
        return f"{self.dataset}:{self.natural_key}"


# --- department records the platform keeps beside the registry ---------------------------------


class PermitStatus(models.TextChoices):
    VALID = "valid", _("有效")
    EXPIRED = "expired", pgettext_lazy("permit", "已过期")
    REVOKED = "revoked", pgettext_lazy("permit", "已注销")


@pghistory.track()
class HarvestPermit(models.Model):
    """林木采伐许可证 as issued by the forestry department, linked to the registered asset."""

    number = models.CharField(_("许可证号"), max_length=60, unique=True)
    asset = models.ForeignKey(
        Asset,
        verbose_name=_("采伐地块（资源资产）"),
        on_delete=models.PROTECT,
        related_name="harvest_permits",
    )
    holder_name = models.CharField(_("采伐单位/个人（公开名称）"), max_length=200)
    issuer = models.CharField(_("发证机关"), max_length=200)
    species = models.CharField(_("树种"), max_length=100)
    harvest_type = models.CharField(_("采伐类型"), max_length=50, help_text=_("如主伐、抚育采伐、更新采伐"))
    area_mu = models.DecimalField(_("采伐面积（亩）"), max_digits=12, decimal_places=2)
    volume_m3 = models.DecimalField(_("采伐蓄积（m³）"), max_digits=14, decimal_places=2)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"))
    status = models.CharField(
        _("状态"), max_length=10, choices=PermitStatus.choices, default=PermitStatus.VALID
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("林木采伐许可证")
        verbose_name_plural = _("林木采伐许可证")
        ordering = ["-valid_from", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="harvest_validity"),
            models.CheckConstraint(condition=Q(area_mu__gt=0, volume_m3__gte=0), name="harvest_quantities"),
        ]

    def __str__(self):
        return self.number


@pghistory.track()
class WaterPermit(models.Model):
    """取水许可证 as issued by the water department; linked to the registered asset (a water-right
    asset or the plot of the intake) when there is one."""

    number = models.CharField(_("许可证号"), max_length=60, unique=True)
    asset = models.ForeignKey(
        Asset,
        verbose_name=_("关联资源资产"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="water_permits",
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("取水地点（区划）"), on_delete=models.PROTECT, related_name="+"
    )
    holder_name = models.CharField(_("取水权人（公开名称）"), max_length=200)
    holder = models.ForeignKey(
        Party, verbose_name=_("取水权人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issuer = models.CharField(_("审批机关"), max_length=200)
    water_source = models.CharField(_("水源"), max_length=200)
    purpose = models.CharField(_("取水用途"), max_length=100)
    annual_volume_m3 = models.DecimalField(_("年取水量（万m³）"), max_digits=14, decimal_places=4)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"))
    status = models.CharField(
        _("状态"), max_length=10, choices=PermitStatus.choices, default=PermitStatus.VALID
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("取水许可证")
        verbose_name_plural = _("取水许可证")
        ordering = ["-valid_from", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("valid_from")), name="water_permit_validity"
            ),
            models.CheckConstraint(condition=Q(annual_volume_m3__gt=0), name="water_permit_volume_positive"),
        ]

    def __str__(self):
        return self.number


# --- consent and credit exports ----------------------------------------------------------------


class ConsentScope(models.TextChoices):
    ECO_CREDIT = "eco_credit", _("生态信用评分")
    LOAN_PERFORMANCE = "loan_performance", _("贷款履约记录")


@pghistory.track()
class CreditConsent(models.Model):
    """A party's written authorisation (授权书) for its credit data to go to one recipient
    (a guarantee or credit platform such as 浙江农担's 浙里担) for one purpose, within a period,
    covering the listed scopes. Revocable; a revoked or expired consent covers nothing."""

    number = models.CharField(_("授权编号"), max_length=20, unique=True)
    party = models.ForeignKey(
        Party, verbose_name=_("授权主体"), on_delete=models.PROTECT, related_name="credit_consents"
    )
    recipient = models.ForeignKey(
        Organization,
        verbose_name=_("数据接收方"),
        on_delete=models.PROTECT,
        related_name="credit_consents_received",
    )
    purpose = models.CharField(_("用途"), max_length=300)
    scopes = models.JSONField(_("授权范围"), default=list)
    document = models.CharField(_("授权书编号/文件"), max_length=200)
    signed_on = models.DateField(_("签署日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"))
    revoked_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, verbose_name=_("撤回经办人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(_("撤回原因"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用信息授权")
        verbose_name_plural = _("信用信息授权")
        ordering = ["-signed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="consent_validity"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("exchange:consent-detail", args=[self.pk])


class CreditExport(models.Model):
    """One credit report sent to a recipient; its lines name the consent that let each party's
    data out. Append-only (trigger in migration 0002)."""

    number = models.CharField(_("报送编号"), max_length=20, unique=True)
    recipient = models.ForeignKey(
        Organization, verbose_name=_("接收方"), on_delete=models.PROTECT, related_name="credit_exports"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("数据范围（区划）"), on_delete=models.PROTECT, related_name="+"
    )
    as_of = models.DateField(_("数据截止日"))
    log = models.OneToOneField(
        ExchangeLog, verbose_name=_("交换记录"), on_delete=models.PROTECT, related_name="credit_export"
    )
    parties_requested = models.PositiveIntegerField(_("请求主体数"), default=0)
    parties_exported = models.PositiveIntegerField(_("报送主体数"), default=0)
    parties_withheld = models.PositiveIntegerField(_("因无授权未报送"), default=0)
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用报送")
        verbose_name_plural = _("信用报送")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("exchange:credit-export-detail", args=[self.pk])


class CreditExportLine(models.Model):
    export = models.ForeignKey(
        CreditExport, verbose_name=_("报送"), on_delete=models.PROTECT, related_name="lines"
    )
    party = models.ForeignKey(Party, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="+")
    consent = models.ForeignKey(
        CreditConsent, verbose_name=_("依据授权"), on_delete=models.PROTECT, related_name="export_lines"
    )
    payload = models.JSONField(_("报送内容"))

    class Meta:
        verbose_name = _("报送明细")
        verbose_name_plural = _("报送明细")
        ordering = ["export", "pk"]
        constraints = [models.UniqueConstraint(fields=["export", "party"], name="credit_export_line_unique")]

    def __str__(self):
        return f"{self.export_id}:{self.party_id}"
