"""The cooperative's cadastre: what resources exist, where, in what state, and who holds which
rights over them (LADM style: party — right/restriction — spatial unit).

Invariants (DESIGN.md §3), enforced in PostgreSQL where it can be and in resources.services under
row and advisory locks where it cannot:
1. shares of one right kind on an asset over any period sum to at most 1 (services, asset lock);
2. two active use/management rights, or two active leases, on an asset never overlap in time
   (exclusion constraints below);
3. active assets of one overlap group never overlap in space beyond a tolerance (services,
   advisory lock per group);
4. a registered right is never edited or deleted: it is ended and superseded (services; history
   by pghistory triggers);
5. one active pledge per right and rank (unique constraint below).
"""

from decimal import Decimal

import pghistory
from django.contrib.gis.db import models
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, RangeOperators
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, Party, User

SQ_M_PER_MU = Decimal(10000) / Decimal(15)  # 1 亩 = 666.67 m²
SQ_M_PER_HECTARE = Decimal(10000)


class ResourceFamily(models.TextChoices):
    MOUNTAIN = "mountain", _("山")
    WATER = "water", _("水")
    FOREST = "forest", _("林")
    FARMLAND = "farmland", _("田")
    LAKE = "lake", _("湖")
    GRASSLAND = "grassland", _("草")
    SEA = "sea", _("海")
    HOMESTEAD = "homestead", _("闲置宅基地/农房")
    HERITAGE = "heritage", _("古村落/古民居")
    COLLECTIVE_ASSET = "collective_asset", _("集体资产")
    SHORELINE = "shoreline", _("河道岸线")
    FACILITY = "facility", _("渔港/堰坝等设施")
    MINE = "mine", _("废弃矿山")
    CARBON = "carbon", _("林业碳汇")
    WATER_RIGHT = "water_right", _("水权")


@pghistory.track()
class ResourceType(models.Model):
    """An entry of the eco-product catalog (生态产品目录). Written only through
    resources.catalog_services, which keep every asset of the type valid against it."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    family = models.CharField(_("类别"), max_length=20, choices=ResourceFamily.choices)
    unit = models.CharField(_("计量单位"), max_length=20, help_text=_("如 m²、亩、m³、tCO₂e、万m³/年"))
    geometry_required = models.BooleanField(_("须有空间范围"), default=True)
    # Types in the same group may not overlap in space (e.g. farmland and forest land); a carbon
    # pool may lie over forest, so it has its own group or none.
    overlap_group = models.CharField(_("空间互斥组"), max_length=30, blank=True)
    attribute_schema = models.JSONField(_("属性结构（JSON Schema）"), default=dict, blank=True)
    gep_indicators = ArrayField(
        models.CharField(max_length=40), verbose_name=_("GEP 指标"), default=list, blank=True
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("资源类型")
        verbose_name_plural = _("资源类型")
        ordering = ["family", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("resources:catalog-detail", args=[self.pk])

    @property
    def gep_indicators_display(self):
        return ", ".join(self.gep_indicators)


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("导入中")
    FAILED = "failed", _("未导入（有错误）")
    SUCCEEDED = "succeeded", _("已导入")


class ImportBatch(models.Model):
    """One uploaded import file and its outcome: all rows written, or none and a row-by-row report."""

    original_name = models.CharField(_("文件名"), max_length=200)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    format = models.CharField(_("格式"), max_length=20, blank=True)
    srid = models.PositiveIntegerField(_("默认坐标系（EPSG）"), default=4490)
    status = models.CharField(
        _("状态"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    asset_count = models.PositiveIntegerField(_("导入资源数"), default=0)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(User, verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.pk} {self.original_name}"

    def get_absolute_url(self):
        return reverse("resources:import-detail", args=[self.pk])

    @property
    def is_done(self):
        return self.status in (ImportStatus.FAILED, ImportStatus.SUCCEEDED)


class AssetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    UNDER_REVIEW = "under_review", _("审核中")
    IN_PUBLIC_NOTICE = "in_public_notice", _("公示中")
    REGISTERED = "registered", _("已登记")
    COLLECTED = "collected", _("已收储")
    LISTED = "listed", _("挂牌中")
    LEASED = "leased", _("已出租")
    PLEDGED = "pledged", _("已质押")
    RETIRED = "retired", _("已注销")


# One explicit transition map (django-oscar style); anything else is refused by the service.
ASSET_TRANSITIONS = {
    AssetStatus.DRAFT: {AssetStatus.UNDER_REVIEW, AssetStatus.RETIRED},
    AssetStatus.UNDER_REVIEW: {AssetStatus.DRAFT, AssetStatus.IN_PUBLIC_NOTICE, AssetStatus.RETIRED},
    AssetStatus.IN_PUBLIC_NOTICE: {AssetStatus.REGISTERED, AssetStatus.UNDER_REVIEW},
    AssetStatus.REGISTERED: {
        AssetStatus.COLLECTED,
        AssetStatus.LISTED,
        AssetStatus.LEASED,
        AssetStatus.PLEDGED,
        AssetStatus.RETIRED,
    },
    AssetStatus.COLLECTED: {
        AssetStatus.LISTED,
        AssetStatus.LEASED,
        AssetStatus.PLEDGED,
        AssetStatus.REGISTERED,
    },
    AssetStatus.LISTED: {AssetStatus.COLLECTED, AssetStatus.LEASED, AssetStatus.REGISTERED},
    AssetStatus.LEASED: {AssetStatus.COLLECTED, AssetStatus.REGISTERED, AssetStatus.PLEDGED},
    AssetStatus.PLEDGED: {AssetStatus.REGISTERED, AssetStatus.COLLECTED, AssetStatus.LEASED},
    AssetStatus.RETIRED: set(),
}
# Statuses whose geometry counts for overlap checks: everything that has left the drafting table.
SPATIALLY_ACTIVE_STATUSES = [s for s in AssetStatus if s not in (AssetStatus.DRAFT, AssetStatus.RETIRED)]


@pghistory.track()
class Asset(models.Model):
    """A resource unit: a parcel, a building, a stretch of river, a water permit, a carbon pool."""

    code = models.CharField(_("资源编号"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    resource_type = models.ForeignKey(
        ResourceType, verbose_name=_("资源类型"), on_delete=models.PROTECT, related_name="assets"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="assets"
    )
    geometry = models.MultiPolygonField(_("空间范围"), srid=4490, null=True, blank=True)
    # Computed by PostGIS in EPSG:4549 (CGCS2000 3° GK CM 120°E) whenever the geometry changes.
    area_m2 = models.DecimalField(_("面积（m²）"), max_digits=16, decimal_places=2, null=True, blank=True)
    quantity = models.DecimalField(
        _("数量"), max_digits=18, decimal_places=4, null=True, blank=True, help_text=_("按资源类型的计量单位")
    )
    attributes = models.JSONField(_("属性"), default=dict, blank=True)
    quality_grade = models.CharField(_("质量等级"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=AssetStatus.choices, default=AssetStatus.DRAFT
    )
    # The parcel's number in the survey or file it came from (调查图斑号); unique within a division.
    source_ref = models.CharField(_("图斑编号"), max_length=60, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assets",
    )
    created_by = models.ForeignKey(User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("资源资产")
        verbose_name_plural = _("资源资产")
        ordering = ["code"]
        indexes = [models.Index(fields=["division", "status"], name="asset_division_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "source_ref"],
                condition=~Q(source_ref=""),
                name="asset_source_ref_unique_in_division",
            )
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("resources:asset-detail", args=[self.pk])

    @property
    def area_mu(self):
        return None if self.area_m2 is None else (self.area_m2 / SQ_M_PER_MU).quantize(Decimal("0.01"))

    @property
    def area_hectares(self):
        return None if self.area_m2 is None else (self.area_m2 / SQ_M_PER_HECTARE).quantize(Decimal("0.0001"))


class RightKind(models.TextChoices):
    OWNERSHIP = "ownership", _("所有权")
    CONTRACT = "contract", _("承包权")
    MANAGEMENT = "management", _("经营权")
    USE = "use", _("使用权")
    QUALIFICATION = "qualification", _("资格权")
    INCOME = "income", _("收益权")
    CARBON_SINK = "carbon_sink", _("碳汇权")
    WATER = "water", _("取水权")


# Exclusive in time on one asset (invariant 2): only one holder group may run the land at once.
EXCLUSIVE_RIGHT_KINDS = (RightKind.MANAGEMENT, RightKind.USE)


class RightStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    ENDED = "ended", _("已终止")


@pghistory.track()
class Right(models.Model):
    """A tenure right of a party over an asset, with an exact share (numerator/denominator)."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="rights"
    )
    holder = models.ForeignKey(
        Party, verbose_name=_("权利人"), on_delete=models.PROTECT, related_name="rights"
    )
    kind = models.CharField(_("权利类型"), max_length=20, choices=RightKind.choices)
    share_numerator = models.PositiveIntegerField(_("份额分子"), default=1)
    share_denominator = models.PositiveIntegerField(_("份额分母"), default=1)
    period = DateRangeField(_("有效期"))
    source_document = models.CharField(_("权源文件"), max_length=200)
    certificate_number = models.CharField(_("证书编号"), max_length=60, null=True, blank=True, unique=True)
    # A certificated claim (e.g. the income right behind a 生态资源储蓄单) secures one loan at a
    # time: only rank 1 may be pledged, so the rank constraint below forbids a second pledge.
    pledge_once = models.BooleanField(
        _("仅可质押一次"),
        default=False,
        db_default=False,  # bulk loaders (bench/, imports) insert rights with plain SQL
        help_text=_("凭证化的收益权（如生态资源储蓄单）同一时间只能设立一笔质押"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=RightStatus.choices, default=RightStatus.ACTIVE
    )
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("替代"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("权利")
        verbose_name_plural = _("权利")
        ordering = ["asset", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_numerator__gt=0, share_numerator__lte=F("share_denominator")),
                name="right_share_between_0_and_1",
            ),
            models.CheckConstraint(condition=~Q(period__isempty=True), name="right_period_not_empty"),
            ExclusionConstraint(
                name="exclusive_rights_do_not_overlap",
                expressions=[("asset", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
                condition=Q(kind__in=EXCLUSIVE_RIGHT_KINDS, status=RightStatus.ACTIVE),
            ),
        ]

    def __str__(self):
        return f"{self.asset.code} {self.get_kind_display()} {self.holder}"

    @property
    def share_display(self):
        return (
            "1"
            if self.share_numerator == self.share_denominator
            else f"{self.share_numerator}/{self.share_denominator}"
        )


class RestrictionKind(models.TextChoices):
    LEASE = "lease", _("租赁")
    PLEDGE = "pledge", _("质押")
    MORTGAGE = "mortgage", _("抵押")
    NOTICE_FREEZE = "notice_freeze", _("公示冻结")
    DISPUTE_FREEZE = "dispute_freeze", _("争议冻结")


@pghistory.track()
class Restriction(models.Model):
    """An encumbrance: a lease of an asset, a pledge/mortgage of a right (with rank), or a freeze."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="restrictions"
    )
    right = models.ForeignKey(
        Right,
        verbose_name=_("所涉权利"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restrictions",
    )
    kind = models.CharField(_("类型"), max_length=20, choices=RestrictionKind.choices)
    holder = models.ForeignKey(
        Party,
        verbose_name=_("权利人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restrictions",
    )
    rank = models.PositiveSmallIntegerField(_("顺位"), null=True, blank=True)
    secured_amount = models.DecimalField(
        _("担保金额（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    period = DateRangeField(_("期限"))
    source_document = models.CharField(_("依据文件"), max_length=200)
    # Why it was set, where the document alone does not say (e.g. what a dispute freeze is about).
    reason = models.CharField(_("设立事由"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RightStatus.choices, default=RightStatus.ACTIVE
    )
    ended_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    end_reason = models.CharField(_("解除原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("权利限制")
        verbose_name_plural = _("权利限制")
        ordering = ["asset", "kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(period__isempty=True), name="restriction_period_not_empty"),
            models.CheckConstraint(
                condition=~Q(kind__in=["pledge", "mortgage"])
                | Q(right__isnull=False, rank__isnull=False, secured_amount__gt=0),
                name="security_names_right_rank_and_amount",
            ),
            ExclusionConstraint(
                name="leases_do_not_overlap",
                expressions=[("asset", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
                condition=Q(kind=RestrictionKind.LEASE, status=RightStatus.ACTIVE),
            ),
            models.UniqueConstraint(
                fields=["right", "rank"],
                condition=Q(kind__in=["pledge", "mortgage"], status="active"),
                name="one_active_security_per_right_and_rank",
            ),
        ]

    def __str__(self):
        return f"{self.asset.code} {self.get_kind_display()}"


class RegistrationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    REJECTED = "rejected", _("已驳回")
    IN_PUBLIC_NOTICE = "in_public_notice", _("公示中")
    REGISTERED = "registered", _("已登记")


@pghistory.track()
class Registration(models.Model):
    """确权登记: application → review → 公示 (objections) → registered with a certificate."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="registrations"
    )
    applicant = models.ForeignKey(User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.SUBMITTED
    )
    reviewed_by = models.ForeignKey(
        User, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    notice_starts_at = models.DateTimeField(_("公示开始"), null=True, blank=True)
    notice_ends_at = models.DateTimeField(_("公示结束"), null=True, blank=True)
    registered_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    certificate_number = models.CharField(
        _("登记证明编号"), max_length=60, unique=True, null=True, blank=True
    )
    verification_code = models.CharField(_("核验码"), max_length=16, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("确权登记")
        verbose_name_plural = _("确权登记")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"],
                condition=Q(status__in=["submitted", "in_public_notice"]),
                name="one_open_registration_per_asset",
            )
        ]

    def __str__(self):
        return f"{self.asset.code} {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("resources:registration-detail", args=[self.pk])


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


@pghistory.track()
class Objection(models.Model):
    """An objection lodged during 公示, by anyone, on the public notice page."""

    registration = models.ForeignKey(
        Registration, verbose_name=_("登记"), on_delete=models.PROTECT, related_name="objections"
    )
    objector_name = models.CharField(_("异议人"), max_length=50)
    contact_phone_ciphertext = models.TextField(_("联系电话（密文）"), editable=False)
    contact_phone_masked = models.CharField(_("联系电话"), max_length=20, editable=False)
    reason = models.TextField(_("异议理由"), max_length=2000)
    lodged_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    resolution = models.CharField(_("处理意见"), max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        User, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["lodged_at", "pk"]


class ExpectedUse(models.TextChoices):
    LEASE = "lease", _("出租")
    TRANSFER = "transfer", _("转让")
    SHARES = "shares", _("入股")


class ListingStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    INFO_REQUESTED = "info_requested", _("待补充材料")
    ACCEPTED = "accepted", _("已纳入资源池")
    DECLINED = "declined", _("未予收储")


LISTING_TRANSITIONS = {
    ListingStatus.SUBMITTED: {ListingStatus.INFO_REQUESTED, ListingStatus.ACCEPTED, ListingStatus.DECLINED},
    ListingStatus.INFO_REQUESTED: {ListingStatus.SUBMITTED, ListingStatus.DECLINED},
    ListingStatus.ACCEPTED: set(),
    ListingStatus.DECLINED: set(),
}


@pghistory.track()
class IdleAssetListing(models.Model):
    """A village collective offers an idle asset (homestead, farmhouse, collective building, land)
    to the cooperative; staff review it, ask for more, and accept it into the resource pool."""

    collective = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("村集体"),
        on_delete=models.PROTECT,
        related_name="idle_asset_listings",
    )
    resource_type = models.ForeignKey(
        ResourceType, verbose_name=_("资源类型"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("情况说明"), max_length=5000)
    location = models.CharField(_("位置"), max_length=200)
    area_estimate_m2 = models.DecimalField(
        _("估计面积（m²）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    expected_use = models.CharField(_("意向方式"), max_length=10, choices=ExpectedUse.choices)
    expected_price = models.DecimalField(
        _("期望价格（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    price_note = models.CharField(_("价格说明"), max_length=100, blank=True, help_text=_("如“每年”“一次性”"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ListingStatus.choices, default=ListingStatus.SUBMITTED
    )
    staff_note = models.CharField(_("合作社意见"), max_length=500, blank=True)
    asset = models.ForeignKey(
        Asset,
        verbose_name=_("对应资源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listings",
    )
    created_by = models.ForeignKey(User, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("闲置资产挂出")
        verbose_name_plural = _("闲置资产挂出")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_price__gte=0) | Q(expected_price__isnull=True),
                name="listing_price_not_negative",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("resources:listing-detail", args=[self.pk])


class ListingPhoto(models.Model):
    listing = models.ForeignKey(
        IdleAssetListing, verbose_name=_("挂出"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("照片"), upload_to="listings/%Y/%m/")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
        ordering = ["pk"]


@pghistory.track()
class AssetObservation(models.Model):
    """动态监测: a dated measurement of an asset (stock, water quality, condition…). The asset's
    status and rights over time come from the ledger's history, not from here."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="observations"
    )
    observed_on = models.DateField(_("监测日期"))
    quantity = models.DecimalField(_("数量"), max_digits=18, decimal_places=4, null=True, blank=True)
    quality_grade = models.CharField(_("质量等级"), max_length=20, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    source = models.CharField(
        _("数据来源"), max_length=100, help_text=_("如“林业部门二类调查”“遥感解译”“实地核查”")
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("监测记录")
        verbose_name_plural = _("监测记录")
        ordering = ["asset", "observed_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "observed_on", "source"], name="one_observation_per_day_and_source"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0) | Q(quantity__isnull=True),
                name="observation_quantity_not_negative",
            ),
        ]


class DocumentKind(models.TextChoices):
    PHOTO = "photo", _("照片")
    SURVEY = "survey", _("测绘图")
    CONTRACT = "contract", _("合同")
    CERTIFICATE_SCAN = "certificate_scan", _("权证扫描件")
    OTHER = "other", _("其他")


def asset_document_path(instance, filename):
    """Private media under a random name: the title is kept in the row, not in the path."""
    import uuid
    from pathlib import PurePath

    return f"assets/{instance.asset_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AssetDocument(models.Model):
    """A photo or document of an asset (survey map, contract, certificate scan). Evidence: once the
    asset is registered it is never removed; before that its uploader may remove it."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("资料类型"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(_("文件"), upload_to=asset_document_path, max_length=200)
    thumbnail = models.FileField(_("缩略图"), upload_to=asset_document_path, max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资源资料")
        verbose_name_plural = _("资源资料")
        ordering = ["asset", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "sha256"], name="one_copy_of_a_document_per_asset"),
            models.CheckConstraint(condition=Q(size__gt=0), name="asset_document_not_empty"),
        ]

    def __str__(self):
        return f"{self.asset.code} {self.title}"

    @property
    def is_image(self):
        return self.content_type.startswith("image/")
