"""The regional public brand (区域公用品牌, e.g. 丽水山耕), the producers licensed to use it,
and the product batches they put on the market, each traceable to registered origin assets.

Invariants:
1. a licence covers origin assets that are registered in the registry (not drafts, not retired)
   and product categories its brand's standards define; one live (active or suspended) licence
   per brand and producer (DB partial unique);
2. a batch can be registered only under a licence that is active on the batch's production date
   and on the day of registration; its origins are among the licence's assets and its category
   among the licence's categories — a suspended, withdrawn or expired licence blocks new batches;
3. licence actions, inspections, batch tests and sales are append-only (a correction of a sale is
   a reversing sale); a batch's trace code is random and unique, and the public trace page shows
   only the batch, its producer organization, its origins (code, type, place, geometry, GEP),
   certificates and inspections — never a person's name, ID or phone.
"""

from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from directory.models import AdministrativeDivision, Organization
from resources.models import Asset

User = settings.AUTH_USER_MODEL


class ProductCategory(models.TextChoices):
    TEA = "tea", _("茶叶")
    FRUIT = "fruit", _("水果")
    VEGETABLE = "vegetable", _("蔬菜")
    GRAIN_OIL = "grain_oil", _("粮油")
    EDIBLE_FUNGI = "edible_fungi", _("食用菌")
    FOREST_FOOD = "forest_food", _("林特产品")
    LIVESTOCK = "livestock", _("畜禽产品")
    AQUATIC = "aquatic", _("水产品")
    HONEY = "honey", _("蜂产品")
    HERB = "herb", _("中药材")


class Brand(models.Model):
    name = models.CharField(_("品牌名称"), max_length=100, unique=True)
    owner = models.ForeignKey(
        Organization, verbose_name=_("品牌运营主体"), on_delete=models.PROTECT, related_name="brands"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("品牌区域"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("品牌简介"), blank=True)
    established_on = models.DateField(_("创立日期"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("区域公用品牌")
        verbose_name_plural = _("区域公用品牌")
        ordering = ["name"]

    def __str__(self):
        return self.name


class BrandStandard(models.Model):
    """A standard products under the brand must meet (团体标准/生产技术规程), per category."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("品牌"), on_delete=models.PROTECT, related_name="standards"
    )
    code = models.CharField(_("标准编号"), max_length=60)
    title = models.CharField(_("标准名称"), max_length=200)
    category = models.CharField(_("产品类别"), max_length=20, choices=ProductCategory.choices)
    requirements = models.TextField(_("主要要求"))
    effective_from = models.DateField(_("实施日期"))
    retired_on = models.DateField(_("废止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("品牌标准")
        verbose_name_plural = _("品牌标准")
        ordering = ["brand", "code"]
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="brand_standard_code_unique")]

    def __str__(self):
        return f"{self.code} {self.title}"


class LicenceStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPENDED = "suspended", _("暂停使用")
    WITHDRAWN = "withdrawn", _("已撤销")
    EXPIRED = "expired", pgettext_lazy("brand licence", "已到期")


LIVE_LICENCE_STATUSES = (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)

LICENCE_TRANSITIONS = {
    LicenceStatus.ACTIVE: {LicenceStatus.SUSPENDED, LicenceStatus.WITHDRAWN, LicenceStatus.EXPIRED},
    LicenceStatus.SUSPENDED: {LicenceStatus.ACTIVE, LicenceStatus.WITHDRAWN, LicenceStatus.EXPIRED},
    LicenceStatus.WITHDRAWN: set(),
    LicenceStatus.EXPIRED: set(),
}


@pghistory.track()
class Licence(models.Model):
    """Permission for a producer to use the brand on products of given categories from given
    registered origin assets, for a term."""

    number = models.CharField(_("授权编号"), max_length=30, unique=True)
    brand = models.ForeignKey(
        Brand, verbose_name=_("品牌"), on_delete=models.PROTECT, related_name="licences"
    )
    producer = models.ForeignKey(
        Organization, verbose_name=_("生产主体"), on_delete=models.PROTECT, related_name="brand_licences"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="+"
    )
    categories = ArrayField(
        models.CharField(max_length=20, choices=ProductCategory.choices), verbose_name=_("授权产品类别")
    )
    standards = models.ManyToManyField(BrandStandard, verbose_name=_("执行标准"), related_name="licences")
    origin_assets = models.ManyToManyField(
        Asset, verbose_name=_("生产基地（资源）"), related_name="brand_licences"
    )
    valid_from = models.DateField(_("授权起始日"))
    valid_to = models.DateField(_("授权截止日"))
    status = models.CharField(
        _("状态"), max_length=20, choices=LicenceStatus.choices, default=LicenceStatus.ACTIVE
    )
    status_reason = models.CharField(_("状态说明"), max_length=300, blank=True)
    granted_by = models.ForeignKey(
        User, verbose_name=_("授权经办人"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("品牌使用授权")
        verbose_name_plural = _("品牌使用授权")
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")), name="licence_term_positive"
            ),
            models.UniqueConstraint(
                fields=["brand", "producer"],
                condition=Q(status__in=["active", "suspended"]),
                name="one_live_licence_per_brand_producer",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.producer}"


class LicenceActionKind(models.TextChoices):
    GRANT = "grant", _("授权")
    SUSPEND = "suspend", _("暂停")
    REINSTATE = "reinstate", _("恢复")
    WITHDRAW = "withdraw", _("撤销")
    EXPIRE = "expire", pgettext_lazy("brand licence", "到期")
    RENEW = "renew", _("续期")


class LicenceAction(models.Model):
    """What happened to a licence, when, why and on which document (append-only)."""

    licence = models.ForeignKey(
        Licence, verbose_name=_("授权"), on_delete=models.PROTECT, related_name="actions"
    )
    kind = models.CharField(_("事项"), max_length=20, choices=LicenceActionKind.choices)
    effective_on = models.DateField(_("生效日期"))
    reason = models.CharField(_("原因"), max_length=300)
    document = models.CharField(_("文件编号"), max_length=100, blank=True)
    inspection = models.ForeignKey(
        "Inspection",
        verbose_name=_("依据的检查"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("授权变更记录")
        verbose_name_plural = _("授权变更记录")
        ordering = ["licence", "recorded_at", "pk"]

    def __str__(self):
        return f"{self.licence.number} {self.get_kind_display()}"


class InspectionKind(models.TextChoices):
    ROUTINE = "routine", _("例行检查")
    SPOT_CHECK = "spot_check", _("飞行抽检")
    COMPLAINT = "complaint", _("投诉核查")
    RECTIFICATION = "rectification", _("整改复查")


class InspectionResult(models.TextChoices):
    PASS = "pass", _("合格")
    RECTIFY = "rectify", _("限期整改")
    FAIL = "fail", _("不合格")


class Inspection(models.Model):
    """An inspection of a licensed producer's base and practice (append-only)."""

    licence = models.ForeignKey(
        Licence, verbose_name=_("授权"), on_delete=models.PROTECT, related_name="inspections"
    )
    kind = models.CharField(_("检查类型"), max_length=20, choices=InspectionKind.choices)
    inspected_on = models.DateField(_("检查日期"))
    inspector = models.CharField(_("检查机构"), max_length=200)
    result = models.CharField(_("结论"), max_length=20, choices=InspectionResult.choices)
    findings = models.TextField(_("检查发现"))
    rectify_by = models.DateField(_("整改期限"), null=True, blank=True)
    document = models.CharField(_("检查报告编号"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("基地检查")
        verbose_name_plural = _("基地检查")
        ordering = ["-inspected_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(result="rectify") | Q(rectify_by__isnull=False),
                name="inspection_rectify_has_deadline",
            )
        ]

    def __str__(self):
        return f"{self.inspected_on} {self.get_result_display()}"


class BatchUnit(models.TextChoices):
    KG = "kg", _("千克")
    TONNE = "t", _("吨")
    PIECE = "piece", _("件")
    BOX = "box", _("箱")
    BOTTLE = "bottle", _("瓶")


class BatchStatus(models.TextChoices):
    ON_SALE = "on_sale", _("在售")
    SOLD_OUT = "sold_out", _("已售罄")
    RECALLED = "recalled", _("已召回")


@pghistory.track()
class ProductBatch(models.Model):
    number = models.CharField(_("批次号"), max_length=30, unique=True)
    trace_code = models.CharField(_("溯源码"), max_length=32, unique=True)
    licence = models.ForeignKey(
        Licence, verbose_name=_("品牌授权"), on_delete=models.PROTECT, related_name="batches"
    )
    producer = models.ForeignKey(
        Organization, verbose_name=_("生产主体"), on_delete=models.PROTECT, related_name="product_batches"
    )
    product_name = models.CharField(_("产品名称"), max_length=100)
    category = models.CharField(_("产品类别"), max_length=20, choices=ProductCategory.choices)
    standard = models.ForeignKey(
        BrandStandard, verbose_name=_("执行标准"), on_delete=models.PROTECT, related_name="batches"
    )
    origin_assets = models.ManyToManyField(
        Asset, verbose_name=_("产地（资源）"), related_name="product_batches"
    )
    harvest_start = models.DateField(_("采收开始日"))
    harvest_end = models.DateField(_("采收结束日"))
    produced_on = models.DateField(_("加工/包装日期"))
    quantity = models.DecimalField(
        _("数量"), max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit = models.CharField(_("单位"), max_length=10, choices=BatchUnit.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.ON_SALE
    )
    recall_reason = models.CharField(_("召回原因"), max_length=300, blank=True)
    registered_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("产品批次")
        verbose_name_plural = _("产品批次")
        ordering = ["-registered_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="batch_quantity_positive"),
            models.CheckConstraint(
                condition=Q(harvest_end__gte=models.F("harvest_start")), name="batch_harvest_order"
            ),
            models.CheckConstraint(
                condition=Q(produced_on__gte=models.F("harvest_start")), name="batch_produced_after_harvest"
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.product_name}"


class BatchTest(models.Model):
    """A laboratory test of a batch (农残、重金属…), append-only."""

    batch = models.ForeignKey(
        ProductBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="tests"
    )
    tested_on = models.DateField(_("检测日期"))
    laboratory = models.CharField(_("检测机构"), max_length=200)
    report_number = models.CharField(_("报告编号"), max_length=100)
    items = models.JSONField(_("检测项目"), default=list)  # [{"item", "value", "limit", "unit", "passed"}]
    passed = models.BooleanField(_("检测合格"))
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("批次检测")
        verbose_name_plural = _("批次检测")
        ordering = ["batch", "tested_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "report_number"], name="batch_test_report_unique")
        ]

    def __str__(self):
        return self.report_number


class CertificateKind(models.TextChoices):
    GREEN_FOOD = "green_food", _("绿色食品")
    ORGANIC = "organic", _("有机产品")
    GEO_INDICATION = "geo_indication", _("农产品地理标志")
    COMPLIANCE = "compliance", _("承诺达标合格证")
    OTHER = "other", _("其他认证")


class BatchCertificate(models.Model):
    batch = models.ForeignKey(
        ProductBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="certificates"
    )
    kind = models.CharField(_("证书类型"), max_length=20, choices=CertificateKind.choices)
    number = models.CharField(_("证书编号"), max_length=100)
    issuer = models.CharField(_("发证机构"), max_length=200)
    valid_to = models.DateField(_("有效期至"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("批次证书")
        verbose_name_plural = _("批次证书")
        ordering = ["batch", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "kind", "number"], name="batch_certificate_unique")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class SaleChannel(models.TextChoices):
    WHOLESALE = "wholesale", _("批发")
    RETAIL = "retail", _("零售")
    ONLINE = "online", _("电商")
    EXPORT = "export", _("出口")
    INSTITUTIONAL = "institutional", _("机关团体采购")


class Sale(models.Model):
    """A sale of a batch (the trade record a bank reads for trade-based credit). Append-only: a
    correction is a reversing sale with negative quantity and amount."""

    number = models.CharField(_("销售单号"), max_length=30, unique=True)
    batch = models.ForeignKey(
        ProductBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="sales"
    )
    producer = models.ForeignKey(
        Organization, verbose_name=_("生产主体"), on_delete=models.PROTECT, related_name="+"
    )
    sold_on = models.DateField(_("销售日期"))
    channel = models.CharField(_("渠道"), max_length=20, choices=SaleChannel.choices)
    buyer_name = models.CharField(_("购买方"), max_length=200)
    buyer = models.ForeignKey(
        Organization,
        verbose_name=_("购买方（平台内）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    invoice_number = models.CharField(_("发票/凭证号"), max_length=60)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲销"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("销售记录")
        verbose_name_plural = _("销售记录")
        ordering = ["-sold_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(quantity__gt=0) & Q(amount__gte=0))
                | (Q(reverses__isnull=False) & Q(quantity__lt=0) & Q(amount__lte=0)),
                name="sale_sign_matches_reversal",
            ),
            models.UniqueConstraint(
                fields=["producer", "invoice_number"],
                condition=Q(reverses__isnull=True),
                name="sale_invoice_unique_per_producer",
            ),
        ]

    def __str__(self):
        return self.number
