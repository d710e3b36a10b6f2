"""GEP accounting: sourced parameter sets, ecological inputs, accounting runs and their results.

The arithmetic lives in valuation.indicators (pure functions); these models keep what a statistician
needs to sign a number: which inputs, which prices (with their sources), which run, and a checksum
that makes a rerun provably identical.
"""

import pghistory
from django.contrib.gis.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, User
from resources.models import Asset

from .default_parameters import Authority

MONEY = {"max_digits": 24, "decimal_places": 6}  # 元 inside calculations; the ledger rounds to 0.01
QUANTITY = {"max_digits": 36, "decimal_places": 10}


class ParameterSetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


@pghistory.track()
class ParameterSet(models.Model):
    """A dated, versioned set of unit prices and coefficients. Frozen once a run has used it; a new
    version is made by copying."""

    name = models.CharField(_("名称"), max_length=100)
    version = models.PositiveIntegerField(_("版本"))
    standard = models.CharField(_("依据标准"), max_length=100, help_text=_("如 DB33/T 2274-2025"))
    price_year = models.PositiveSmallIntegerField(_("价格年份"))
    valid_from = models.DateField(_("启用日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ParameterSetStatus.choices, default=ParameterSetStatus.DRAFT
    )
    copied_from = models.ForeignKey(
        "self", verbose_name=_("复制自"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True, help_text=_("首次用于核算时锁定"))
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("参数集")
        verbose_name_plural = _("参数集")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="parameter_set_version_unique")
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def get_absolute_url(self):
        return reverse("valuation:parameter-set-detail", args=[self.pk])

    @property
    def is_locked(self):
        return self.locked_at is not None


@pghistory.track()
class ParameterValue(models.Model):
    """One price or coefficient with its source: nothing enters a run without provenance."""

    parameter_set = models.ForeignKey(
        ParameterSet, verbose_name=_("参数集"), on_delete=models.CASCADE, related_name="values"
    )
    indicator_key = models.CharField(_("指标"), max_length=40)
    param_key = models.CharField(_("参数"), max_length=60)
    value = models.DecimalField(_("数值"), **QUANTITY)
    unit = models.CharField(_("单位"), max_length=40)
    year = models.PositiveSmallIntegerField(
        _("年份"), null=True, blank=True, help_text=_("价格年份；系数可空")
    )
    source = models.CharField(_("来源"), max_length=300)
    clause = models.CharField(_("条款/表号"), max_length=100, blank=True)
    authority = models.CharField(_("权威性"), max_length=20, choices=Authority.choices)

    class Meta:
        verbose_name = _("参数值")
        verbose_name_plural = _("参数值")
        ordering = ["parameter_set", "indicator_key", "param_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["parameter_set", "indicator_key", "param_key"], name="one_value_per_parameter"
            )
        ]

    def __str__(self):
        return f"{self.indicator_key}.{self.param_key}={self.value} {self.unit}"


class PriceIndex(models.Model):
    """Yearly price indices (any base) for comparable prices of value-only statistics."""

    series = models.CharField(
        _("指数"), max_length=40, help_text=_("如 agri_producer、cpi、construction_cost")
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    value = models.DecimalField(_("指数值"), max_digits=12, decimal_places=4)
    source = models.CharField(_("来源"), max_length=300)

    class Meta:
        verbose_name = _("价格指数")
        verbose_name_plural = _("价格指数")
        ordering = ["series", "year"]
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="one_index_value_per_year"),
            models.CheckConstraint(condition=Q(value__gt=0), name="price_index_positive"),
        ]

    def __str__(self):
        return f"{self.series} {self.year}: {self.value}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class EcologicalInput(models.Model):
    """One measured input of one indicator for one asset or one division in one year."""

    asset = models.ForeignKey(
        Asset,
        verbose_name=_("资源资产"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gep_inputs",
    )
    division = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gep_inputs",
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    indicator_key = models.CharField(_("指标"), max_length=40)
    input_key = models.CharField(_("输入项"), max_length=60)
    value = models.DecimalField(_("数值"), **QUANTITY)
    unit = models.CharField(_("单位"), max_length=40)
    source = models.CharField(_("数据来源"), max_length=200)
    entered_by = models.ForeignKey(User, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("录入时间"), auto_now=True)

    class Meta:
        verbose_name = _("核算输入")
        verbose_name_plural = _("核算输入")
        ordering = ["year", "indicator_key", "input_key", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(asset__isnull=False, division__isnull=True)
                | Q(asset__isnull=True, division__isnull=False),
                name="input_belongs_to_asset_or_division",
            ),
            models.UniqueConstraint(
                fields=["asset", "year", "indicator_key", "input_key"],
                condition=Q(asset__isnull=False),
                name="one_asset_input_per_year",
            ),
            models.UniqueConstraint(
                fields=["division", "year", "indicator_key", "input_key"],
                condition=Q(division__isnull=False),
                name="one_division_input_per_year",
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.indicator_key}.{self.input_key}={self.value} {self.unit}"


class PriceBasis(models.TextChoices):
    CURRENT = "current", _("当年价")
    COMPARABLE = "comparable", _("可比价")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("核算中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class AccountingRun(models.Model):
    """One accounting of a division subtree (or chosen assets) for a year with one parameter set."""

    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("核算范围"), on_delete=models.PROTECT, related_name="gep_runs"
    )
    assets = models.ManyToManyField(Asset, verbose_name=_("指定资产"), blank=True, related_name="+")
    year = models.PositiveSmallIntegerField(_("核算年份"))
    parameter_set = models.ForeignKey(
        ParameterSet, verbose_name=_("参数集"), on_delete=models.PROTECT, related_name="runs"
    )
    price_basis = models.CharField(
        _("价格基准"), max_length=12, choices=PriceBasis.choices, default=PriceBasis.CURRENT
    )
    base_year = models.PositiveSmallIntegerField(_("基准年"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    chunk_count = models.PositiveIntegerField(_("分块数"), default=0)
    asset_count = models.PositiveIntegerField(_("资产数"), default=0)
    inputs_checksum = models.CharField(_("输入校验和"), max_length=64, blank=True)
    total_value = models.DecimalField(_("GEP 合计（元）"), **MONEY, null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    # I_base / I_year per price-index series, fixed when the run starts (comparable prices only)
    price_ratios = models.JSONField(_("价格指数换算比"), default=dict, blank=True)
    accepted_at = models.DateTimeField(_("采纳时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, verbose_name=_("采纳人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(User, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("核算批次")
        verbose_name_plural = _("核算批次")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_basis="current") | Q(base_year__isnull=False),
                name="comparable_run_has_base_year",
            )
        ]

    def __str__(self):
        return f"{self.division.name} {self.year} #{self.pk}"

    def get_absolute_url(self):
        return reverse("valuation:run-detail", args=[self.pk])

    @property
    def is_done(self):
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class RunChunk(models.Model):
    """A slice of a run's assets; a chunk's results are replaced as a whole, so a retried or
    redelivered chunk never counts twice."""

    run = models.ForeignKey(AccountingRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    asset_ids = models.JSONField(default=list)
    done_at = models.DateTimeField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="one_chunk_number_per_run")]


class RunInput(models.Model):
    """The inputs a run read, frozen when it started (and each asset's PostGIS area)."""

    run = models.ForeignKey(AccountingRun, on_delete=models.CASCADE, related_name="inputs")
    asset = models.ForeignKey(Asset, null=True, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(
        AdministrativeDivision, null=True, on_delete=models.PROTECT, related_name="+"
    )
    indicator_key = models.CharField(max_length=40)
    input_key = models.CharField(max_length=60)
    value = models.DecimalField(**QUANTITY)
    unit = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["run", "asset"], name="run_input_run_asset_idx")]


class AssetResult(models.Model):
    run = models.ForeignKey(AccountingRun, on_delete=models.CASCADE, related_name="asset_results")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="gep_results")
    division_code = models.CharField(max_length=12)  # the asset's village, frozen at run time
    indicator_key = models.CharField(_("指标"), max_length=40)
    category = models.CharField(_("类别"), max_length=12)
    quantity = models.DecimalField(_("物质量"), **QUANTITY)
    quantity_unit = models.CharField(_("单位"), max_length=40)
    unit_price = models.DecimalField(_("单价"), **QUANTITY, null=True)
    value = models.DecimalField(_("价值量（元）"), **MONEY)
    components = models.JSONField(default=list)
    variant = models.CharField(_("计算口径"), max_length=30, blank=True)
    notes = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "asset", "indicator_key"], name="one_result_per_asset_indicator"
            )
        ]
        indexes = [models.Index(fields=["run", "division_code"], name="asset_result_run_division_idx")]


class DivisionResult(models.Model):
    """A region-only indicator (tourism, landscape, flood regulation…) accounted for one division."""

    run = models.ForeignKey(AccountingRun, on_delete=models.CASCADE, related_name="division_results")
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="+")
    indicator_key = models.CharField(_("指标"), max_length=40)
    category = models.CharField(_("类别"), max_length=12)
    quantity = models.DecimalField(_("物质量"), **QUANTITY)
    quantity_unit = models.CharField(_("单位"), max_length=40)
    unit_price = models.DecimalField(_("单价"), **QUANTITY, null=True)
    value = models.DecimalField(_("价值量（元）"), **MONEY)
    components = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "division", "indicator_key"], name="one_result_per_division_indicator"
            )
        ]


class Rollup(models.Model):
    """Value per division × indicator, summed from the unrounded results below it (SQL GROUP BY on
    code prefixes), so a parent always equals the sum of its children."""

    run = models.ForeignKey(AccountingRun, on_delete=models.CASCADE, related_name="rollups")
    division = models.ForeignKey(AdministrativeDivision, on_delete=models.PROTECT, related_name="+")
    indicator_key = models.CharField(_("指标"), max_length=40)
    category = models.CharField(_("类别"), max_length=12)
    value = models.DecimalField(_("价值量（元）"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "division", "indicator_key"], name="one_rollup_per_division"
            )
        ]


class InputImportStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("已导入")
    FAILED = "failed", _("未导入（有错误）")


class InputImport(models.Model):
    """One workbook of ecological inputs (XLSX/CSV): who imported which file when, and the outcome
    with its row-by-row report. Imports are all or nothing, so a failed one wrote no value."""

    original_name = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    format = models.CharField(_("格式"), max_length=10, blank=True)
    row_count = models.PositiveIntegerField(_("数据行数"), default=0)
    value_count = models.PositiveIntegerField(_("写入数值数"), default=0)
    status = models.CharField(_("结果"), max_length=12, choices=InputImportStatus.choices)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("核算输入导入")
        verbose_name_plural = _("核算输入导入")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("valuation:input-import-detail", args=[self.pk])
