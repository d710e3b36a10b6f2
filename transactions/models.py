"""The cooperative's trading desk: rights taken in from villages and households (流转收储),
bundled into packages, listed and auctioned to investors, let or transferred under trade
contracts, and the money settled and distributed — every yuan through an append-only,
double-entry ledger.

Invariants (enforced in PostgreSQL where possible, in transactions.services under row locks
otherwise):
1. a movement's postings sum to zero, and movements and postings are never updated or deleted
   (constraint trigger and append-only triggers in migration 0001);
2. an asset is in at most one open collection contract and one open package at a time;
3. a listing is closed once: the winner, the final price and the deposits' fate are decided
   under the listing's row lock (services.auctions.close_listing);
4. serial units of one issuance are covered by disjoint live blocks, so a unit is owned by
   exactly one party or retired, never both (exclusion constraint on live blocks).
"""

from decimal import Decimal

import pghistory
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from directory.models import AdministrativeDivision, Organization, Party, User
from resources.models import Asset, ResourceType, Restriction, Right, RightKind


def money_field(verbose_name, **kwargs):
    """元 with 2 decimal places: every amount that is paid, owed or posted."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


# --- numbering --------------------------------------------------------------------------------


class DocumentCounter(models.Model):
    """Gapless yearly numbering of contracts, listings, packages (合同编号 must not skip)."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="document_counter_unique")]

    def __str__(self):
        return f"{self.prefix}{self.year}:{self.last}"


# --- collection (流转收储) ---------------------------------------------------------------------


class RevenueModel(models.TextChoices):
    FIXED_RENT = "fixed_rent", _("固定租金")
    SHARE_DIVIDEND = "share_dividend", _("入股分红")
    GUARANTEED_PLUS_DIVIDEND = "guaranteed_plus_dividend", _("保底收益+二次分红")
    SAVINGS = "savings", _("储蓄分红")


# Models whose holders receive scheduled payments (rent, guaranteed minimum, savings yield).
SCHEDULED_REVENUE_MODELS = (
    RevenueModel.FIXED_RENT,
    RevenueModel.GUARANTEED_PLUS_DIVIDEND,
    RevenueModel.SAVINGS,
)
# Models whose holders share in the cooperative's income from the assets.
DIVIDEND_REVENUE_MODELS = (
    RevenueModel.SHARE_DIVIDEND,
    RevenueModel.GUARANTEED_PLUS_DIVIDEND,
    RevenueModel.SAVINGS,
)


class PaymentFrequency(models.TextChoices):
    ANNUAL = "annual", _("每年")
    SEMIANNUAL = "semiannual", _("每半年")
    QUARTERLY = "quarterly", _("每季度")
    ONCE = "once", _("一次性")


MONTHS_PER_PAYMENT = {
    PaymentFrequency.ANNUAL: 12,
    PaymentFrequency.SEMIANNUAL: 6,
    PaymentFrequency.QUARTERLY: 3,
    PaymentFrequency.ONCE: None,
}


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SIGNED = "signed", _("履行中")
    TERMINATED = "terminated", _("已解除")
    EXPIRED = "expired", _("已到期")
    RENEWED = "renewed", _("已续签")


CONTRACT_TRANSITIONS = {
    ContractStatus.DRAFT: {ContractStatus.SIGNED},
    ContractStatus.SIGNED: {ContractStatus.TERMINATED, ContractStatus.EXPIRED, ContractStatus.RENEWED},
    ContractStatus.TERMINATED: set(),
    ContractStatus.EXPIRED: {ContractStatus.RENEWED},
    ContractStatus.RENEWED: set(),
}
OPEN_CONTRACT_STATUSES = (ContractStatus.DRAFT, ContractStatus.SIGNED)


@pghistory.track()
class CollectionContract(models.Model):
    """流转收储: a village collective or households hand the use of registered assets to the
    cooperative for a term; the cooperative pays the holders of `source_right_kind` per the
    revenue model. Signing grants the cooperative a `granted_right_kind` right on every asset."""

    number = models.CharField(_("合同编号"), max_length=30, unique=True)
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    cooperative = models.ForeignKey(
        Organization, verbose_name=_("收储方（合作社）"), on_delete=models.PROTECT, related_name="+"
    )
    grantor = models.ForeignKey(
        Party,
        verbose_name=_("出让方"),
        on_delete=models.PROTECT,
        related_name="collection_contracts_granted",
        help_text=_("签约的村集体经济组织或农户代表"),
    )
    source_right_kind = models.CharField(
        _("收益归属的权利"),
        max_length=20,
        choices=RightKind.choices,
        help_text=_("持有该权利的主体按份额获得租金和分红（如承包权、集体所有权）"),
    )
    granted_right_kind = models.CharField(
        _("合作社取得的权利"),
        max_length=20,
        choices=[(RightKind.MANAGEMENT, RightKind.MANAGEMENT.label), (RightKind.USE, RightKind.USE.label)],
        default=RightKind.MANAGEMENT,
    )
    start_date = models.DateField(_("起始日"))
    end_date = models.DateField(_("截止日（不含）"))
    revenue_model = models.CharField(_("收益模式"), max_length=30, choices=RevenueModel.choices)
    # Per year for all assets together: rent (固定租金), guaranteed minimum (保底), or the savings
    # model's guaranteed yearly amount (储蓄). Zero for pure share dividends.
    annual_amount = money_field(_("年度租金/保底金额（元）"), default=Decimal("0.00"))
    # Share of the cooperative's net income from these assets paid to the holders (0–1).
    dividend_rate = models.DecimalField(_("分红比例"), max_digits=5, decimal_places=4, default=Decimal("0"))
    payment_frequency = models.CharField(
        _("支付周期"), max_length=20, choices=PaymentFrequency.choices, default=PaymentFrequency.ANNUAL
    )
    first_payment_date = models.DateField(_("首次支付日"))
    obligations = models.TextField(_("双方权利义务"), blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    signed_at = models.DateTimeField(_("签订时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        User, verbose_name=_("签订经办人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=500, blank=True)
    renewal_of = models.OneToOneField(
        "self",
        verbose_name=_("续签自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal",
    )
    source_listing = models.ForeignKey(
        "resources.IdleAssetListing",
        verbose_name=_("来源挂出信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("流转收储合同")
        verbose_name_plural = _("流转收储合同")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="collection_term_positive"
            ),
            models.CheckConstraint(condition=Q(annual_amount__gte=0), name="collection_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(dividend_rate__gte=0, dividend_rate__lte=1), name="collection_dividend_rate_0_1"
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("transactions:collection-detail", args=[self.pk])


class CollectionItem(models.Model):
    """One asset under a collection contract, weighted by its area (or quantity) for sharing."""

    contract = models.ForeignKey(
        CollectionContract, verbose_name=_("收储合同"), on_delete=models.CASCADE, related_name="items"
    )
    asset = models.ForeignKey(Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="+")
    weight = models.DecimalField(
        _("分配权重"), max_digits=18, decimal_places=4, help_text=_("默认为面积（m²）或数量")
    )
    granted_right = models.OneToOneField(
        Right,
        verbose_name=_("合作社取得的权利"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collection_item",
    )
    # Mirrors the contract status so that PostgreSQL can refuse a second open contract on an asset.
    is_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("收储资产")
        verbose_name_plural = _("收储资产")
        ordering = ["contract", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "asset"], name="collection_item_unique"),
            models.UniqueConstraint(
                fields=["asset"], condition=Q(is_open=True), name="one_open_collection_per_asset"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="collection_item_weight_positive"),
        ]

    def __str__(self):
        return f"{self.contract_id}:{self.asset_id}"


class CollectionBeneficiary(models.Model):
    """A holder paid under a collection contract, with an exact share (numerator/denominator)
    fixed at signing from the holders' rights and the items' weights."""

    contract = models.ForeignKey(
        CollectionContract, verbose_name=_("收储合同"), on_delete=models.CASCADE, related_name="beneficiaries"
    )
    party = models.ForeignKey(Party, verbose_name=_("收益人"), on_delete=models.PROTECT, related_name="+")
    share_numerator = models.PositiveBigIntegerField(_("份额分子"))
    share_denominator = models.PositiveBigIntegerField(_("份额分母"))

    class Meta:
        verbose_name = _("收益人")
        verbose_name_plural = _("收益人")
        ordering = ["contract", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "party"], name="collection_beneficiary_unique"),
            models.CheckConstraint(
                condition=Q(share_numerator__gt=0, share_numerator__lte=F("share_denominator")),
                name="collection_beneficiary_share_0_1",
            ),
        ]

    def __str__(self):
        return f"{self.party} {self.share_display}"

    @property
    def share_display(self):
        if self.share_numerator == self.share_denominator:
            return "1"
        return f"{self.share_numerator}/{self.share_denominator}"


class ScheduleKind(models.TextChoices):
    RENT = "rent", _("租金")
    GUARANTEED = "guaranteed", _("保底收益")
    SAVINGS = "savings", _("储蓄收益")


class ScheduleStatus(models.TextChoices):
    DUE = "due", _("待支付")
    PAID = "paid", _("已支付")
    CANCELLED = "cancelled", _("已取消")


class ScheduledPayment(models.Model):
    """A line of a collection contract's payment schedule: what one holder is owed on a date."""

    contract = models.ForeignKey(
        CollectionContract, verbose_name=_("收储合同"), on_delete=models.CASCADE, related_name="schedule"
    )
    beneficiary = models.ForeignKey(
        CollectionBeneficiary, verbose_name=_("收益人"), on_delete=models.PROTECT, related_name="schedule"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=ScheduleKind.choices)
    due_date = models.DateField(_("应付日"))
    period_start = models.DateField(_("所属期间起"))
    period_end = models.DateField(_("所属期间止（不含）"))
    amount = money_field(_("金额（元）"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ScheduleStatus.choices, default=ScheduleStatus.DUE
    )
    movement = models.ForeignKey(
        "Movement",
        verbose_name=_("记账凭证"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("应付计划")
        verbose_name_plural = _("应付计划")
        ordering = ["due_date", "beneficiary_id", "pk"]
        indexes = [models.Index(fields=["status", "due_date"], name="schedule_status_due_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="schedule_amount_positive")]

    def __str__(self):
        return f"{self.due_date} {self.amount}"


# --- savings slips (生态资源储蓄单) --------------------------------------------------------------


class SlipStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    MATURED = "matured", _("已到期")
    CANCELLED = "cancelled", pgettext_lazy("savings slip", "已注销")


@pghistory.track()
class SavingsSlip(models.Model):
    """生态资源储蓄单: what a household receives for one asset it deposited with the cooperative
    under a savings-model (储蓄分红) collection contract — the term, its guaranteed yearly amount
    and the dividend rule. Issuing it grants the household a certificated income right (收益权,
    `income_right`, certificate number = slip number, `pledge_once`), which is what a 生态资源储蓄贷
    pledges: through the rights ledger like any right, and never twice at once."""

    number = models.CharField(_("储蓄单号"), max_length=20, unique=True)
    verification_code = models.CharField(_("核验码"), max_length=16, unique=True)
    contract = models.ForeignKey(
        CollectionContract, verbose_name=_("收储合同"), on_delete=models.PROTECT, related_name="savings_slips"
    )
    beneficiary = models.ForeignKey(
        CollectionBeneficiary,
        verbose_name=_("收益人"),
        on_delete=models.PROTECT,
        related_name="savings_slips",
    )
    holder = models.ForeignKey(
        Party, verbose_name=_("储户"), on_delete=models.PROTECT, related_name="savings_slips"
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("储蓄资源"), on_delete=models.PROTECT, related_name="savings_slips"
    )
    income_right = models.OneToOneField(
        Right, verbose_name=_("收益权"), on_delete=models.PROTECT, related_name="savings_slip"
    )
    # The holder's share of the deposited right on this asset, and of the asset in the contract.
    share_numerator = models.PositiveBigIntegerField(_("份额分子"))
    share_denominator = models.PositiveBigIntegerField(_("份额分母"))
    start_date = models.DateField(_("储蓄起始日"))
    end_date = models.DateField(_("储蓄截止日（不含）"))
    guaranteed_annual_amount = money_field(_("每年保底收益（元）"))
    dividend_rate = models.DecimalField(_("分红比例"), max_digits=5, decimal_places=4, default=Decimal("0"))
    dividend_rule = models.CharField(_("分红规则"), max_length=500)
    calculation = models.JSONField(_("计算过程"), default=dict)
    status = models.CharField(_("状态"), max_length=20, choices=SlipStatus.choices, default=SlipStatus.ACTIVE)
    issued_by = models.ForeignKey(User, verbose_name=_("签发人"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("注销/到期时间"), null=True, blank=True)
    end_reason = models.CharField(_("注销原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("生态资源储蓄单")
        verbose_name_plural = _("生态资源储蓄单")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "holder", "asset"],
                condition=~Q(status="cancelled"),
                name="one_live_slip_per_holder_asset_contract",
            ),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="slip_term_positive"),
            models.CheckConstraint(
                condition=Q(guaranteed_annual_amount__gte=0), name="slip_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(share_numerator__gt=0, share_numerator__lte=F("share_denominator")),
                name="slip_share_0_1",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("transactions:slip-detail", args=[self.pk])


# --- packages ---------------------------------------------------------------------------------


class PackageStatus(models.TextChoices):
    DRAFT = "draft", _("编制中")
    READY = "ready", _("可挂牌")
    LISTED = "listed", _("挂牌中")
    CONTRACTED = "contracted", _("已成交")
    DISSOLVED = "dissolved", _("已解散")


PACKAGE_TRANSITIONS = {
    PackageStatus.DRAFT: {PackageStatus.READY, PackageStatus.DISSOLVED},
    PackageStatus.READY: {PackageStatus.DRAFT, PackageStatus.LISTED, PackageStatus.DISSOLVED},
    PackageStatus.LISTED: {PackageStatus.READY, PackageStatus.CONTRACTED},
    PackageStatus.CONTRACTED: {PackageStatus.READY},
    PackageStatus.DISSOLVED: set(),
}


@pghistory.track()
class ResourcePackage(models.Model):
    """资源包: collected assets bundled for one investor (e.g. a village's idle farmhouses)."""

    code = models.CharField(_("资源包编号"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("介绍"), blank=True)
    suggested_use = models.CharField(_("建议用途"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=PackageStatus.choices, default=PackageStatus.DRAFT
    )
    created_by = models.ForeignKey(User, verbose_name=_("编制人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资源包")
        verbose_name_plural = _("资源包")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("transactions:package-detail", args=[self.pk])


class PackageItem(models.Model):
    package = models.ForeignKey(
        ResourcePackage, verbose_name=_("资源包"), on_delete=models.CASCADE, related_name="items"
    )
    asset = models.ForeignKey(Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="+")
    # False once the package is dissolved: an asset sits in at most one live package.
    is_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("资源包资产")
        verbose_name_plural = _("资源包资产")
        ordering = ["package", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["package", "asset"], name="package_item_unique"),
            models.UniqueConstraint(
                fields=["asset"], condition=Q(is_open=True), name="one_open_package_per_asset"
            ),
        ]

    def __str__(self):
        return f"{self.package_id}:{self.asset_id}"


class PackagePhoto(models.Model):
    package = models.ForeignKey(
        ResourcePackage, verbose_name=_("资源包"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("照片"), upload_to="packages/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资源包照片")
        verbose_name_plural = _("资源包照片")
        ordering = ["package", "pk"]
        constraints = [models.UniqueConstraint(fields=["package", "sha256"], name="package_photo_unique")]

    def __str__(self):
        return self.caption or self.image.name


# --- investors --------------------------------------------------------------------------------


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


@pghistory.track()
class InvestorRegistration(models.Model):
    """An investor's sign-up on the trading platform (竞买人注册). The user's membership of the
    investor organization stays inactive until the cooperative approves the registration."""

    organization = models.OneToOneField(
        Organization,
        verbose_name=_("投资主体"),
        on_delete=models.PROTECT,
        related_name="investor_registration",
    )
    user = models.ForeignKey(User, verbose_name=_("注册用户"), on_delete=models.PROTECT, related_name="+")
    business_scope = models.CharField(_("经营范围/投资意向"), max_length=500, blank=True)
    licence = models.FileField(_("营业执照或身份证明"), upload_to="investors/%Y/%m/", blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        User, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("投资主体注册")
        verbose_name_plural = _("投资主体注册")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return str(self.organization)


# --- listings, applications, bids ------------------------------------------------------------


class TradeKind(models.TextChoices):
    LEASE = "lease", _("出租")
    TRANSFER = "transfer", _("经营权转让")


class ListingMode(models.TextChoices):
    NEGOTIATED = "negotiated", _("协议转让")
    BIDDING = "bidding", _("网络竞价")
    AUCTION = "auction", _("拍卖")


# Modes decided by an open ascending price contest with a deadline.
COMPETITIVE_MODES = (ListingMode.BIDDING, ListingMode.AUCTION)


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_NOTICE = "in_notice", _("公示中")
    BIDDING = "bidding", _("竞价中")
    SOLD = "sold", _("已成交")
    FAILED = "failed", _("流拍")
    CONTRACTED = "contracted", _("已签约")
    WITHDRAWN = "withdrawn", _("已撤牌")


LISTING_TRANSITIONS = {
    ListingStatus.DRAFT: {ListingStatus.IN_NOTICE, ListingStatus.WITHDRAWN},
    ListingStatus.IN_NOTICE: {
        ListingStatus.BIDDING,
        ListingStatus.SOLD,
        ListingStatus.FAILED,
        ListingStatus.WITHDRAWN,
    },
    ListingStatus.BIDDING: {ListingStatus.SOLD, ListingStatus.FAILED},
    ListingStatus.SOLD: {ListingStatus.CONTRACTED, ListingStatus.FAILED},
    ListingStatus.FAILED: set(),
    ListingStatus.CONTRACTED: set(),
    ListingStatus.WITHDRAWN: set(),
}
OPEN_LISTING_STATUSES = (
    ListingStatus.DRAFT,
    ListingStatus.IN_NOTICE,
    ListingStatus.BIDDING,
    ListingStatus.SOLD,
)


@pghistory.track()
class Listing(models.Model):
    """挂牌: a package or a single collected asset offered to investors for a lease or a transfer
    of the management right, after a public notice (公示) during which investors apply."""

    code = models.CharField(_("挂牌编号"), max_length=30, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    package = models.ForeignKey(
        ResourcePackage,
        verbose_name=_("资源包"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listings",
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("单项资源"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    trade_kind = models.CharField(_("交易方式"), max_length=20, choices=TradeKind.choices)
    mode = models.CharField(_("交易模式"), max_length=20, choices=ListingMode.choices)
    term_start = models.DateField(_("出让期限起"))
    term_end = models.DateField(_("出让期限止（不含）"))
    reserve_price = money_field(_("底价/起始价（元，整个期限）"))
    deposit = money_field(_("保证金（元）"))
    increment = money_field(_("加价幅度（元）"), default=Decimal("0.00"))
    # GEP of the offered assets from the latest accepted valuations, for reference only.
    reference_gep = money_field(_("GEP 参考值（元/年）"), null=True, blank=True)
    reference_gep_note = models.CharField(_("GEP 参考说明"), max_length=300, blank=True)
    description = models.TextField(_("标的介绍"), blank=True)
    qualification_requirements = models.TextField(_("受让方资格条件"), blank=True)
    payment_terms = models.TextField(_("付款方式"), blank=True)
    obligations = models.TextField(_("受让方义务"), blank=True)
    notice_start = models.DateTimeField(_("公示开始"), null=True, blank=True)
    notice_end = models.DateTimeField(_("公示及报名截止"), null=True, blank=True)
    bidding_start = models.DateTimeField(_("竞价开始"), null=True, blank=True)
    # The current deadline; a valid bid within `extension_window` of it pushes it back (延时).
    bidding_end = models.DateTimeField(_("竞价截止"), null=True, blank=True)
    scheduled_bidding_end = models.DateTimeField(_("原定竞价截止"), null=True, blank=True)
    extension_window_seconds = models.PositiveIntegerField(_("延时触发窗口（秒）"), default=300)
    extension_seconds = models.PositiveIntegerField(_("每次延时（秒）"), default=300)
    status = models.CharField(
        _("状态"), max_length=20, choices=ListingStatus.choices, default=ListingStatus.DRAFT
    )
    winning_bid = models.OneToOneField(
        "Bid", verbose_name=_("成交出价"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    final_price = money_field(_("成交价（元）"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    close_note = models.CharField(_("结果说明"), max_length=500, blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("挂牌项目")
        verbose_name_plural = _("挂牌项目")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "bidding_end"], name="listing_status_deadline_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(package__isnull=False, asset__isnull=True)
                | Q(package__isnull=True, asset__isnull=False),
                name="listing_offers_package_or_asset",
            ),
            models.CheckConstraint(condition=Q(term_end__gt=F("term_start")), name="listing_term_positive"),
            models.CheckConstraint(
                condition=Q(reserve_price__gt=0, deposit__gte=0, increment__gte=0),
                name="listing_amounts_valid",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("transactions:listing-detail", args=[self.pk])

    def get_public_url(self):
        return reverse("public-listing", args=[self.code])


class DepositStatus(models.TextChoices):
    UNPAID = "unpaid", _("未缴纳")
    PAID = "paid", _("已缴纳")
    REFUNDED = "refunded", _("已退还")
    APPLIED = "applied", _("已转价款")
    FORFEITED = "forfeited", _("已罚没")


@pghistory.track()
class ListingApplication(models.Model):
    """竞买报名: an approved investor's application to a listing, reviewed against the listing's
    qualification requirements; bidding needs a qualified application with the deposit paid."""

    listing = models.ForeignKey(
        Listing, verbose_name=_("挂牌项目"), on_delete=models.PROTECT, related_name="applications"
    )
    investor = models.ForeignKey(
        Organization,
        verbose_name=_("投资主体"),
        on_delete=models.PROTECT,
        related_name="listing_applications",
    )
    applicant = models.ForeignKey(User, verbose_name=_("报名人"), on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(_("资格说明"), blank=True)
    status = models.CharField(
        _("资格审核"), max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        User, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    deposit_status = models.CharField(
        _("保证金"), max_length=20, choices=DepositStatus.choices, default=DepositStatus.UNPAID
    )
    bidder_number = models.CharField(_("竞买号"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("竞买报名")
        verbose_name_plural = _("竞买报名")
        ordering = ["listing", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "investor"], name="one_application_per_investor"),
            models.UniqueConstraint(
                fields=["listing", "bidder_number"],
                condition=~Q(bidder_number=""),
                name="bidder_number_unique",
            ),
        ]

    def __str__(self):
        return f"{self.listing.code} · {self.investor}"


class Bid(models.Model):
    """An offer on a listing; in competitive modes each must beat the last by the increment.
    Bids are never edited or deleted (append-only trigger in migration 0001)."""

    listing = models.ForeignKey(
        Listing, verbose_name=_("挂牌项目"), on_delete=models.PROTECT, related_name="bids"
    )
    application = models.ForeignKey(
        ListingApplication, verbose_name=_("竞买报名"), on_delete=models.PROTECT, related_name="bids"
    )
    amount = money_field(_("出价（元）"))
    placed_at = models.DateTimeField(_("出价时间"))
    placed_by = models.ForeignKey(User, verbose_name=_("出价人"), on_delete=models.PROTECT, related_name="+")
    # The deadline this bid pushed back to, when it fell in the extension window.
    extended_to = models.DateTimeField(_("延时至"), null=True, blank=True)

    class Meta:
        verbose_name = _("出价")
        verbose_name_plural = _("出价")
        ordering = ["listing", "-amount", "placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "amount"], name="bid_amounts_strictly_increase"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bid_amount_positive"),
        ]

    def __str__(self):
        return f"{self.listing_id}: {self.amount}"


class ListingQuestion(models.Model):
    """答疑: a question on a listing and the cooperative's answer, published on the public page."""

    listing = models.ForeignKey(
        Listing, verbose_name=_("挂牌项目"), on_delete=models.CASCADE, related_name="questions"
    )
    asked_by = models.ForeignKey(User, verbose_name=_("提问人"), on_delete=models.PROTECT, related_name="+")
    question = models.TextField(_("问题"))
    asked_at = models.DateTimeField(_("提问时间"), auto_now_add=True)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        User, verbose_name=_("答复人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("答疑")
        verbose_name_plural = _("答疑")
        ordering = ["listing", "asked_at", "pk"]

    def __str__(self):
        return self.question[:40]


# --- trade contracts --------------------------------------------------------------------------


@pghistory.track()
class TradeContract(models.Model):
    """The winner's contract: a lease of the assets (a lease restriction on each) or a transfer of
    the cooperative's management right for the term (a new management right for the investor)."""

    number = models.CharField(_("合同编号"), max_length=30, unique=True)
    listing = models.OneToOneField(
        Listing,
        verbose_name=_("挂牌项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contract",
    )
    investor = models.ForeignKey(
        Organization, verbose_name=_("受让方"), on_delete=models.PROTECT, related_name="trade_contracts"
    )
    cooperative = models.ForeignKey(
        Organization, verbose_name=_("出让方（合作社）"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("交易方式"), max_length=20, choices=TradeKind.choices)
    start_date = models.DateField(_("起始日"))
    end_date = models.DateField(_("截止日（不含）"))
    price = money_field(_("合同总价（元）"))
    payment_frequency = models.CharField(
        _("付款周期"), max_length=20, choices=PaymentFrequency.choices, default=PaymentFrequency.ANNUAL
    )
    obligations = models.TextField(_("受让方义务"), blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    signed_at = models.DateTimeField(_("签订时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        User, verbose_name=_("签订经办人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=500, blank=True)
    renewal_of = models.OneToOneField(
        "self",
        verbose_name=_("续签自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal",
    )
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("交易合同")
        verbose_name_plural = _("交易合同")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="trade_term_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="trade_price_positive"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("transactions:contract-detail", args=[self.pk])


class TradeContractItem(models.Model):
    """An asset under a trade contract and the ledger record it created (a lease restriction or
    the investor's management right)."""

    contract = models.ForeignKey(
        TradeContract, verbose_name=_("交易合同"), on_delete=models.CASCADE, related_name="items"
    )
    asset = models.ForeignKey(Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="+")
    lease = models.OneToOneField(
        Restriction,
        verbose_name=_("租赁登记"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    right = models.OneToOneField(
        Right, verbose_name=_("受让权利"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("交易合同资产")
        verbose_name_plural = _("交易合同资产")
        ordering = ["contract", "pk"]
        constraints = [models.UniqueConstraint(fields=["contract", "asset"], name="trade_item_unique")]

    def __str__(self):
        return f"{self.contract_id}:{self.asset_id}"


class InstallmentStatus(models.TextChoices):
    DUE = "due", _("待收")
    PARTLY_PAID = "partly_paid", _("部分已收")
    PAID = "paid", _("已收清")
    CANCELLED = "cancelled", _("已取消")


class TradeInstallment(models.Model):
    """What the investor owes on a date; payments received are applied oldest first."""

    contract = models.ForeignKey(
        TradeContract, verbose_name=_("交易合同"), on_delete=models.CASCADE, related_name="installments"
    )
    sequence = models.PositiveSmallIntegerField(_("期次"))
    due_date = models.DateField(_("应收日"))
    amount = money_field(_("应收金额（元）"))
    paid_amount = money_field(_("已收金额（元）"), default=Decimal("0.00"))
    status = models.CharField(
        _("状态"), max_length=20, choices=InstallmentStatus.choices, default=InstallmentStatus.DUE
    )

    class Meta:
        verbose_name = _("应收分期")
        verbose_name_plural = _("应收分期")
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="installment_unique"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, paid_amount__gte=0, paid_amount__lte=F("amount")),
                name="installment_paid_within_amount",
            ),
        ]

    def __str__(self):
        return f"{self.contract_id}#{self.sequence}"

    @property
    def outstanding(self):
        return self.amount - self.paid_amount


# --- ledger -----------------------------------------------------------------------------------


class AccountKind(models.TextChoices):
    # The cooperative's own accounts (party = the cooperative's party).
    CASH = "cash", _("银行存款")
    TRADE_INCOME = "trade_income", _("交易收入")
    COLLECTION_COST = "collection_cost", _("收储租金及保底支出")
    DIVIDEND_COST = "dividend_cost", _("分红支出")
    FORFEIT_INCOME = "forfeit_income", _("罚没保证金收入")
    # finance: rights bought back from defaulted borrowers, the cooperative's share of loan losses
    BUYBACK_ASSETS = "buyback_assets", _("回购资产")
    LOSS_COST = "loss_cost", _("代偿损失支出")
    # a risk compensation fund (party = the fund's manager): its money, and who put it in
    RISK_FUND = "risk_fund", _("风险补偿基金存款")
    FUND_CAPITAL = "fund_capital", _("基金出资")
    FUND_COMPENSATION = "fund_compensation", _("基金代偿支出")
    # projects: the cooperative's own balance sheet beyond trading (red lines need it): what it
    # invested in firms, what it borrowed, and its paid-in capital
    EQUITY_INVESTMENTS = "equity_investments", _("长期股权投资")
    BORROWINGS = "borrowings", _("借款")
    PAID_IN_CAPITAL = "paid_in_capital", _("实收资本")
    INVESTMENT_INCOME = "investment_income", _("投资收益")
    # greenfinance: green bonds and funds the cooperative uses or manages. Each fund's accounts
    # carry the fund's number as sub-account (辅助核算): cash under the manager's party, capital
    # under each contributor, deployed money under each recipient.
    GREEN_FUND_CASH = "green_fund_cash", _("绿色基金（债券）资金存款")
    GREEN_FUND_CAPITAL = "green_fund_capital", _("绿色基金（债券）募集资金")
    GREEN_FUND_DEPLOYED = "green_fund_deployed", _("绿色基金（债券）投放")
    GREEN_FUND_INCOME = "green_fund_income", _("绿色基金（债券）收益")
    GREEN_FUND_EXPENSE = "green_fund_expense", _("绿色基金（债券）费用及损失")
    # Per counterparty.
    DEPOSIT_HELD = "deposit_held", _("代收保证金")
    RECEIVABLE = "receivable", _("应收交易价款")
    PAYABLE = "payable", _("应付收益")


class LedgerAccount(models.Model):
    kind = models.CharField(_("科目"), max_length=30, choices=AccountKind.choices)
    party = models.ForeignKey(
        Party, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    # 辅助核算: separates accounts of one kind and party (e.g. each green fund's number); "" for
    # the cooperative's ordinary accounts.
    sub_account = models.CharField(_("辅助核算"), max_length=40, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("台账科目")
        verbose_name_plural = _("台账科目")
        ordering = ["party_id", "kind", "sub_account"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "party", "sub_account"], name="ledger_account_unique")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.party}"


class MovementKind(models.TextChoices):
    DEPOSIT_RECEIVED = "deposit_received", _("收到保证金")
    DEPOSIT_REFUNDED = "deposit_refunded", _("退还保证金")
    DEPOSIT_APPLIED = "deposit_applied", _("保证金转价款")
    DEPOSIT_FORFEITED = "deposit_forfeited", _("罚没保证金")
    PRICE_DUE = "price_due", _("确认应收价款")
    PAYMENT_RECEIVED = "payment_received", _("收到交易价款")
    SCHEDULED_PAYMENT_DUE = "scheduled_payment_due", _("确认应付租金/保底")
    DIVIDEND_DECLARED = "dividend_declared", _("确认分红")
    PAYOUT = "payout", _("支付收益")
    BUYBACK = "buyback", _("违约回购")
    FUND_CONTRIBUTION = "fund_contribution", _("基金出资到账")
    LOSS_COMPENSATION = "loss_compensation", _("代偿损失")
    CAPITAL_CONTRIBUTION = "capital_contribution", _("资本金到账")
    BORROWING = "borrowing", _("借入资金")
    BORROWING_REPAYMENT = "borrowing_repayment", _("归还借款")
    EQUITY_INVESTMENT = "equity_investment", _("对外股权投资")
    EQUITY_DISPOSAL = "equity_disposal", _("收回股权投资")
    GREEN_FUND_CONTRIBUTION = "green_fund_contribution", _("基金/债券资金到账")
    GREEN_FUND_DRAWDOWN = "green_fund_drawdown", _("基金/债券资金投放")
    GREEN_FUND_RETURN = "green_fund_return", _("投放资金收回")
    GREEN_FUND_INCOME = "green_fund_income", _("基金/债券收益")
    GREEN_FUND_EXPENSE = "green_fund_expense", _("基金/债券费用及付息")
    GREEN_FUND_WRITE_OFF = "green_fund_write_off", _("投放资金核销")
    GREEN_FUND_REDEMPTION = "green_fund_redemption", _("基金退出/债券兑付")
    REVERSAL = "reversal", _("冲正")


class Movement(models.Model):
    """A journal entry: one economic event, with postings that sum to zero. Append-only; a
    mistake is corrected by a reversal movement, never by editing."""

    kind = models.CharField(_("业务类型"), max_length=30, choices=MovementKind.choices)
    occurred_on = models.DateField(_("业务日期"))
    recorded_at = models.DateTimeField(_("记账时间"), auto_now_add=True)
    memo = models.CharField(_("摘要"), max_length=300)
    reference = models.CharField(_("银行流水号/凭证号"), max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记账人"), on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    listing = models.ForeignKey(
        Listing, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    application = models.ForeignKey(
        ListingApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    trade_contract = models.ForeignKey(
        TradeContract, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    collection_contract = models.ForeignKey(
        CollectionContract, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    distribution = models.ForeignKey(
        "Distribution", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        ordering = ["-pk"]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.memo}"


class Posting(models.Model):
    """One line of a movement: positive = debit, negative = credit."""

    movement = models.ForeignKey(
        Movement, verbose_name=_("凭证"), on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(
        LedgerAccount, verbose_name=_("科目"), on_delete=models.PROTECT, related_name="postings"
    )
    amount = money_field(_("金额（元，借正贷负）"))

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["movement", "pk"]
        indexes = [models.Index(fields=["account", "movement"], name="posting_account_idx")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_nonzero")]

    def __str__(self):
        return f"{self.account_id} {self.amount}"


# --- distribution -----------------------------------------------------------------------------


class DistributionKind(models.TextChoices):
    DIVIDEND = "dividend", _("入股分红")
    SECOND_DIVIDEND = "second_dividend", _("二次分红")
    SAVINGS_DIVIDEND = "savings_dividend", _("储蓄分红")


@pghistory.track()
class Distribution(models.Model):
    """Income from a collection contract's assets shared among its beneficiaries for a period:
    amount = income × dividend rate (less what was guaranteed, for the second dividend), split
    by largest remainder so that the parts add up to the cent."""

    contract = models.ForeignKey(
        CollectionContract, verbose_name=_("收储合同"), on_delete=models.PROTECT, related_name="distributions"
    )
    kind = models.CharField(_("分配类型"), max_length=30, choices=DistributionKind.choices)
    period_start = models.DateField(_("期间起"))
    period_end = models.DateField(_("期间止（不含）"))
    income = money_field(_("期间收入（元）"))
    guaranteed_paid = money_field(_("期间已付保底（元）"), default=Decimal("0.00"))
    amount = money_field(_("分配总额（元）"))
    calculation = models.JSONField(_("计算过程"), default=dict)
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收益分配")
        verbose_name_plural = _("收益分配")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "period_start", "period_end"], name="one_distribution_per_period"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0, income__gte=0), name="distribution_amounts_valid"
            ),
        ]

    def __str__(self):
        return f"{self.contract} {self.get_kind_display()} {self.period_start}–{self.period_end}"

    def get_absolute_url(self):
        return reverse("transactions:distribution-detail", args=[self.pk])


class DistributionLine(models.Model):
    distribution = models.ForeignKey(
        Distribution, verbose_name=_("收益分配"), on_delete=models.PROTECT, related_name="lines"
    )
    beneficiary = models.ForeignKey(
        CollectionBeneficiary, verbose_name=_("收益人"), on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(_("金额（元）"))

    class Meta:
        verbose_name = _("分配明细")
        verbose_name_plural = _("分配明细")
        ordering = ["distribution", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["distribution", "beneficiary"], name="distribution_line_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="distribution_line_not_negative"),
        ]

    def __str__(self):
        return f"{self.beneficiary_id} {self.amount}"


# --- demands ----------------------------------------------------------------------------------


class DemandStatus(models.TextChoices):
    OPEN = "open", _("有效")
    CLOSED = "closed", _("已关闭")


class Demand(models.Model):
    """An investor's stated need; matched against available assets and packages."""

    investor = models.ForeignKey(
        Organization, verbose_name=_("投资主体"), on_delete=models.PROTECT, related_name="demands"
    )
    posted_by = models.ForeignKey(User, verbose_name=_("发布人"), on_delete=models.PROTECT, related_name="+")
    resource_type = models.ForeignKey(
        ResourceType,
        verbose_name=_("资源类型"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("意向区域"), on_delete=models.PROTECT, related_name="+"
    )
    min_area_m2 = models.DecimalField(
        _("最小面积（m²）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    max_area_m2 = models.DecimalField(
        _("最大面积（m²）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    budget = money_field(_("预算上限（元）"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(_("意向年限"), null=True, blank=True)
    intended_use = models.CharField(_("用途"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=20, choices=DemandStatus.choices, default=DemandStatus.OPEN
    )
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("投资需求")
        verbose_name_plural = _("投资需求")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_area_m2__isnull=True)
                | Q(max_area_m2__isnull=True)
                | Q(min_area_m2__lte=F("max_area_m2")),
                name="demand_area_range_valid",
            )
        ]

    def __str__(self):
        return self.intended_use

    def get_absolute_url(self):
        return reverse("transactions:demand-detail", args=[self.pk])


class DemandMatch(models.Model):
    demand = models.ForeignKey(
        Demand, verbose_name=_("投资需求"), on_delete=models.CASCADE, related_name="matches"
    )
    package = models.ForeignKey(
        ResourcePackage,
        verbose_name=_("资源包"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.DecimalField(_("匹配度"), max_digits=5, decimal_places=2)
    reasons = models.JSONField(_("匹配说明"), default=list)
    created_at = models.DateTimeField(_("匹配时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("需求匹配")
        verbose_name_plural = _("需求匹配")
        ordering = ["demand", "-score", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(package__isnull=False, asset__isnull=True)
                | Q(package__isnull=True, asset__isnull=False),
                name="match_is_package_or_asset",
            ),
            models.UniqueConstraint(
                Coalesce("package", 0), Coalesce("asset", 0), "demand", name="demand_match_unique"
            ),
        ]

    def __str__(self):
        return f"{self.demand_id}:{self.package_id or self.asset_id}"


# --- eco-indicator units ----------------------------------------------------------------------


class UnitKind(models.TextChoices):
    CARBON = "carbon", _("林业碳汇（tCO₂e）")
    WATER = "water", _("水权（m³）")


@pghistory.track()
class UnitIssuance(models.Model):
    """A batch of serial-numbered units issued from a registered carbon-sink or water right:
    serials `start_serial`…`end_serial` (inclusive), one unit = 1 tCO₂e or 1 m³."""

    serial_prefix = models.CharField(_("序列号前缀"), max_length=60, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices)
    right = models.ForeignKey(
        Right, verbose_name=_("来源权利"), on_delete=models.PROTECT, related_name="unit_issuances"
    )
    vintage_year = models.PositiveSmallIntegerField(_("年份"))
    quantity = models.PositiveBigIntegerField(_("数量"))
    methodology = models.CharField(_("核算方法学/依据"), max_length=200)
    issued_by = models.ForeignKey(User, verbose_name=_("签发人"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("签发时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("指标签发")
        verbose_name_plural = _("指标签发")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["right", "vintage_year"], name="one_issuance_per_right_and_year"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="issuance_quantity_positive"),
        ]

    def __str__(self):
        return self.serial_prefix

    def get_absolute_url(self):
        return reverse("transactions:issuance-detail", args=[self.pk])


class UnitBlockStatus(models.TextChoices):
    HELD = "held", _("持有")
    RETIRED = "retired", _("已注销")
    SPLIT = "split", _("已拆分")  # superseded by the blocks it was split into


class UnitBlock(models.Model):
    """Serials first…last of an issuance held by one party (or retired). Transfers and
    retirements split blocks: the old block is marked split and never changes again."""

    issuance = models.ForeignKey(
        UnitIssuance, verbose_name=_("签发批次"), on_delete=models.PROTECT, related_name="blocks"
    )
    owner = models.ForeignKey(
        Party, verbose_name=_("持有人"), on_delete=models.PROTECT, related_name="unit_blocks"
    )
    first_serial = models.PositiveBigIntegerField(_("起始序号"))
    last_serial = models.PositiveBigIntegerField(_("终止序号"))
    status = models.CharField(
        _("状态"), max_length=20, choices=UnitBlockStatus.choices, default=UnitBlockStatus.HELD
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("拆分自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    retirement_reason = models.CharField(_("注销用途"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("指标区段")
        verbose_name_plural = _("指标区段")
        ordering = ["issuance", "first_serial"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_serial__gte=1, last_serial__gte=F("first_serial")), name="block_range_valid"
            ),
            # Live blocks (held or retired) never share a serial; the range expression is in the
            # migration (int8range over first/last) as Django has no range-from-columns field.
        ]

    def __str__(self):
        return f"{self.issuance_id}:{self.first_serial}-{self.last_serial}"

    @property
    def quantity(self):
        return self.last_serial - self.first_serial + 1


class UnitTransferKind(models.TextChoices):
    ISSUE = "issue", _("签发")
    TRANSFER = "transfer", _("转让")
    RETIRE = "retire", _("注销")


class UnitTransfer(models.Model):
    """The register of what happened to serial units: issue, transfer, retirement."""

    issuance = models.ForeignKey(
        UnitIssuance, verbose_name=_("签发批次"), on_delete=models.PROTECT, related_name="transfers"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=UnitTransferKind.choices)
    from_party = models.ForeignKey(
        Party, verbose_name=_("转出方"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_party = models.ForeignKey(
        Party, verbose_name=_("转入方"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_serial = models.PositiveBigIntegerField(_("起始序号"))
    last_serial = models.PositiveBigIntegerField(_("终止序号"))
    price = money_field(_("成交价（元）"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("指标流转记录")
        verbose_name_plural = _("指标流转记录")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.first_serial}-{self.last_serial}"

    @property
    def quantity(self):
        return self.last_serial - self.first_serial + 1
