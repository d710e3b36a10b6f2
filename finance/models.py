"""Eco-finance: loan products of partner banks, eco-credit scores, loan applications checked by
two people, collateral appraisals, pledges registered in the rights ledger, the loan book, risk
sharing and default disposal.

Invariants (in PostgreSQL where possible, in finance.services under row locks otherwise):
1. an application is prepared by one person and checked by another (check constraint);
2. an appraisal is never edited: a new one supersedes it; a bank cites it by number;
3. a pledge is a `resources.Restriction` made by `resources.services.add_pledge`, so one right
   never carries two active pledges at the same rank, and the sum of active pledges on a right
   never exceeds its latest appraised value (checked under the right's row lock);
4. a loan's schedule adds up to its principal to the cent; repayments are append-only and every
   yuan of a repayment is allocated to penalty, interest or principal of one installment;
5. a loss is split among the risk-sharing parties exactly (largest remainder, cents add up);
6. everything a bank sees is its own: products, applications, appraisals it was sent, pledges,
   loans (selectors filter by the bank's organization; the API answers 404 otherwise).
"""

from decimal import Decimal

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, Organization, Party, User
from resources.models import Asset, ResourceType, Restriction, Right, RightKind
from valuation.models import AccountingRun


def money_field(verbose_name, **kwargs):
    """元 with 2 decimal places: every amount that is lent, owed, paid or pledged."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


def rate_field(verbose_name, **kwargs):
    """An annual rate or a ratio as a fraction: 0.036000 = 3.6 %."""
    return models.DecimalField(verbose_name, max_digits=8, decimal_places=6, **kwargs)


# --- products ---------------------------------------------------------------------------------


class LoanKind(models.TextChoices):
    GEP_LOAN = "gep_loan", _("GEP贷（生态贷）")
    ECO_CREDIT_LOAN = "eco_credit_loan", _("两山信用贷")
    SAVINGS_LOAN = "savings_loan", _("生态资源储蓄贷")
    FOREST_CARBON_LOAN = "forest_carbon_loan", _("林业碳汇贷")
    FOREST_RIGHT_LOAN = "forest_right_loan", _("林权抵押贷")
    HOMESTAY_LOAN = "homestay_loan", _("民宿贷")
    WATER_RIGHT_LOAN = "water_right_loan", _("取水贷")


class InsuranceKind(models.TextChoices):
    """Green insurance lines a loan product may require (policies live in greenfinance)."""

    HOMESTAY = "homestay", _("民宿保险")
    FOREST = "forest", _("森林火灾及病虫害保险")
    CROP = "crop", _("农作物及产量保险")
    ECO_LIABILITY = "eco_liability", _("生态环境损害责任保险")
    CARBON_SINK = "carbon_sink", _("林业碳汇价格/损失保险")


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALLMENT = "equal_installment", _("等额本息")
    EQUAL_PRINCIPAL = "equal_principal", _("等额本金")


class PaymentFrequency(models.TextChoices):
    MONTHLY = "monthly", _("按月")
    QUARTERLY = "quarterly", _("按季")


FREQUENCY_MONTHS = {PaymentFrequency.MONTHLY: 1, PaymentFrequency.QUARTERLY: 3}


class DayCount(models.TextChoices):
    """How interest for a number of days is computed (stated in each product and loan contract).
    Scheduled periods use annual/12 per month either way; the basis decides broken periods,
    early repayment and penalty days."""

    ACT_360 = "act_360", _("实际天数/360")
    THIRTY_360 = "30_360", _("30/360")


class GuaranteeRequirement(models.TextChoices):
    NONE = "none", _("信用（无需担保）")
    PLEDGE = "pledge", _("资源权利抵质押")
    GUARANTOR = "guarantor", _("担保机构保证")
    PLEDGE_AND_GUARANTOR = "pledge_and_guarantor", _("抵质押加担保机构保证")


@pghistory.track()
class LoanProduct(models.Model):
    """A bank's loan product on the platform. Rates are annual fractions; LPR-based pricing is the
    bank's business, the platform checks an application's rate against the product's range."""

    bank = models.ForeignKey(
        Organization, verbose_name=_("贷款银行"), on_delete=models.PROTECT, related_name="loan_products"
    )
    code = models.CharField(_("产品代码"), max_length=30)
    name = models.CharField(_("产品名称"), max_length=100)
    kind = models.CharField(_("产品类型"), max_length=30, choices=LoanKind.choices)
    description = models.TextField(_("产品说明"), blank=True)
    eligible_right_kinds = ArrayField(
        models.CharField(max_length=20, choices=RightKind.choices),
        verbose_name=_("可抵质押的权利类型"),
        default=list,
        blank=True,
    )
    eligible_resource_types = models.ManyToManyField(
        ResourceType, verbose_name=_("可抵质押的资源类型"), blank=True, related_name="+"
    )
    guarantee_requirement = models.CharField(
        _("担保要求"), max_length=30, choices=GuaranteeRequirement.choices
    )
    # An application is submitted and checked only when the applicant holds a valid policy of
    # each kind (see finance.application_checks and greenfinance.checks).
    required_insurance_kinds = ArrayField(
        models.CharField(max_length=20, choices=InsuranceKind.choices),
        verbose_name=_("须投保险种"),
        default=list,
        blank=True,
    )
    max_ltv = rate_field(_("最高抵押率"))
    haircut = rate_field(_("估值折扣率"), default=Decimal("0.2"))
    # Income approach over the right's remaining term (LY/T 2407 收益现值法): the share of the
    # asset's yearly GEP counted as the holder's income and the discount rate for its present value.
    income_share_of_gep = rate_field(_("GEP 计入收益比例"), default=Decimal("0.3"))
    discount_rate = rate_field(_("折现率"), default=Decimal("0.06"))
    max_valuation_years = models.PositiveSmallIntegerField(_("最长收益年限"), default=20)
    appraisal_valid_days = models.PositiveSmallIntegerField(_("评估有效天数"), default=365)
    min_amount = money_field(_("最低金额（元）"), default=Decimal("10000"))
    max_amount = money_field(_("最高金额（元）"))
    rate_min = rate_field(_("最低年利率"))
    rate_max = rate_field(_("最高年利率"))
    penalty_markup = rate_field(_("罚息上浮比例"), default=Decimal("0.5"))
    term_min_months = models.PositiveSmallIntegerField(_("最短期限（月）"), default=6)
    term_max_months = models.PositiveSmallIntegerField(_("最长期限（月）"), default=60)
    repayment_methods = ArrayField(
        models.CharField(max_length=30, choices=RepaymentMethod.choices),
        verbose_name=_("还款方式"),
    )
    payment_frequencies = ArrayField(
        models.CharField(max_length=20, choices=PaymentFrequency.choices),
        verbose_name=_("还款频率"),
    )
    day_count = models.CharField(
        _("计息基准"), max_length=10, choices=DayCount.choices, default=DayCount.ACT_360
    )
    min_credit_score = models.PositiveSmallIntegerField(_("最低生态信用分"), null=True, blank=True)
    requires_insurance = models.BooleanField(_("须投保"), default=False)
    risk_scheme = models.ForeignKey(
        "RiskSharingScheme",
        verbose_name=_("风险分担方案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    is_active = models.BooleanField(_("在售"), default=True)
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("贷款产品")
        verbose_name_plural = _("贷款产品")
        ordering = ["bank", "code"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "code"], name="loan_product_code_per_bank"),
            models.CheckConstraint(
                condition=Q(max_ltv__gt=0, max_ltv__lte=1), name="loan_product_ltv_in_0_1"
            ),
            models.CheckConstraint(
                condition=Q(haircut__gte=0, haircut__lt=1), name="loan_product_haircut_in_0_1"
            ),
            models.CheckConstraint(
                condition=Q(rate_min__gt=0, rate_max__gte=F("rate_min"), rate_max__lt=Decimal("0.24")),
                name="loan_product_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(term_min_months__gte=1, term_max_months__gte=F("term_min_months")),
                name="loan_product_term_range",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__gt=0, max_amount__gte=F("min_amount")),
                name="loan_product_amount_range",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.bank}）"

    def get_absolute_url(self):
        return reverse("finance:product-detail", args=[self.pk])

    @property
    def requires_pledge(self):
        return self.guarantee_requirement in (
            GuaranteeRequirement.PLEDGE,
            GuaranteeRequirement.PLEDGE_AND_GUARANTOR,
        )


# --- eco-credit -------------------------------------------------------------------------------


class ScoreSubject(models.TextChoices):
    HOUSEHOLD = "household", _("农户")
    COLLECTIVE = "collective", _("村集体")
    ENTERPRISE = "enterprise", _("企业")


@pghistory.track()
class Scorecard(models.Model):
    """A versioned eco-credit scorecard for one kind of subject. Once used it is not changed: a new
    version is made (the scores keep pointing at the version that produced them)."""

    subject = models.CharField(_("评价对象"), max_length=20, choices=ScoreSubject.choices)
    version = models.PositiveSmallIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=100)
    base_score = models.DecimalField(_("基础分"), max_digits=7, decimal_places=2, default=Decimal("600"))
    min_score = models.DecimalField(_("最低分"), max_digits=7, decimal_places=2, default=Decimal("300"))
    max_score = models.DecimalField(_("最高分"), max_digits=7, decimal_places=2, default=Decimal("1000"))
    # Suggested credit line = max(0, score − line_floor_score) × line_per_point, capped.
    line_floor_score = models.DecimalField(
        _("授信起点分"), max_digits=7, decimal_places=2, default=Decimal("600")
    )
    line_per_point = money_field(_("每分授信额度（元）"), default=Decimal("1000"))
    line_cap = money_field(_("授信上限（元）"), default=Decimal("300000"))
    source = models.CharField(_("依据"), max_length=300, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("生态信用评分卡")
        verbose_name_plural = _("生态信用评分卡")
        ordering = ["subject", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "version"], name="scorecard_version_unique"),
            models.UniqueConstraint(
                fields=["subject"], condition=Q(is_active=True), name="one_active_scorecard_per_subject"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class FactorKey(models.TextChoices):
    """What a factor measures; finance.scoring computes each from the platform's own records."""

    ECO_BEHAVIOUR = "eco_behaviour", _("生态行为")
    VIOLATIONS = "violations", _("违规记录")
    GEP_CONTRIBUTION = "gep_contribution", _("GEP 贡献")
    COLLECTION_HISTORY = "collection_history", _("流转收储记录")
    CONTRACT_HISTORY = "contract_history", _("交易履约记录")
    REPAYMENT_RECORD = "repayment_record", _("还款记录")


@pghistory.track()
class ScorecardFactor(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="factors")
    key = models.CharField(_("因子"), max_length=30, choices=FactorKey.choices)
    points_per_unit = models.DecimalField(_("每单位分值"), max_digits=9, decimal_places=4)
    min_points = models.DecimalField(_("最低分值"), max_digits=7, decimal_places=2)
    max_points = models.DecimalField(_("最高分值"), max_digits=7, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("评分因子")
        verbose_name_plural = _("评分因子")
        ordering = ["scorecard", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "key"], name="scorecard_factor_unique"),
            models.CheckConstraint(
                condition=Q(max_points__gte=F("min_points")), name="scorecard_factor_range"
            ),
        ]

    def __str__(self):
        return f"{self.scorecard} · {self.get_key_display()}"


class EcoBehaviourCategory(models.TextChoices):
    """生态行为加减分清单 (雾溪乡-style list); points are set per record, signed."""

    GARBAGE_SORTING = "garbage_sorting", _("垃圾分类")
    STANDARD_PILOT = "standard_pilot", _("农业标准化试点")
    ECO_PROTECTION = "eco_protection", _("生态保护行动")
    VOLUNTEERING = "volunteering", _("志愿服务")
    GREEN_PRODUCTION = "green_production", _("绿色生产")
    FRONTAGE_DUTY_FAILED = "frontage_duty_failed", _("门前三包不到位")
    ILLEGAL_DISCHARGE = "illegal_discharge", _("违法排污")
    ILLEGAL_CHEMICALS = "illegal_chemicals", _("违规使用化肥农药")
    ILLEGAL_LOGGING = "illegal_logging", _("滥伐盗伐")
    OTHER_VIOLATION = "other_violation", _("其他违规")


NEGATIVE_BEHAVIOUR = frozenset(
    {
        EcoBehaviourCategory.FRONTAGE_DUTY_FAILED,
        EcoBehaviourCategory.ILLEGAL_DISCHARGE,
        EcoBehaviourCategory.ILLEGAL_CHEMICALS,
        EcoBehaviourCategory.ILLEGAL_LOGGING,
        EcoBehaviourCategory.OTHER_VIOLATION,
    }
)


@pghistory.track()
class EcoBehaviourRecord(models.Model):
    party = models.ForeignKey(
        Party, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="eco_behaviour_records"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("类别"), max_length=30, choices=EcoBehaviourCategory.choices)
    points = models.DecimalField(_("加减分"), max_digits=6, decimal_places=2)
    occurred_on = models.DateField(_("发生日期"))
    description = models.CharField(_("情况说明"), max_length=300)
    source_document = models.CharField(_("依据"), max_length=200)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("生态行为记录")
        verbose_name_plural = _("生态行为记录")
        ordering = ["-occurred_on", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="eco_behaviour_points_nonzero")]

    def __str__(self):
        return f"{self.party} {self.get_category_display()} {self.points}"


class CreditGrade(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


@pghistory.track()
class CreditScore(models.Model):
    """One computation of a party's eco-credit score; the newest per party is current. `factors`
    lists each factor's measured value, points and a sentence explaining it."""

    party = models.ForeignKey(
        Party, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="credit_scores"
    )
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("评分卡"), on_delete=models.PROTECT, related_name="scores"
    )
    score = models.DecimalField(_("得分"), max_digits=7, decimal_places=2)
    grade = models.CharField(_("等级"), max_length=3, choices=CreditGrade.choices)
    suggested_line = money_field(_("建议授信额度（元）"))
    factors = models.JSONField(_("因子明细"), default=list)
    inputs_digest = models.CharField(_("输入摘要"), max_length=64)
    computed_at = models.DateTimeField(_("计算时间"), auto_now_add=True)
    is_current = models.BooleanField(_("当前有效"), default=True)

    class Meta:
        verbose_name = _("生态信用评分")
        verbose_name_plural = _("生态信用评分")
        ordering = ["-computed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["party"], condition=Q(is_current=True), name="one_current_score_per_party"
            )
        ]

    def __str__(self):
        return f"{self.party} {self.score}（{self.grade}）"


# --- risk sharing -----------------------------------------------------------------------------


class RiskRole(models.TextChoices):
    GOVERNMENT_FUND = "government_fund", _("政府风险补偿基金")
    GUARANTOR = "guarantor", _("担保机构")
    COOPERATIVE = "cooperative", _("两山合作社")
    BANK = "bank", _("贷款银行")


@pghistory.track()
class RiskCompensationFund(models.Model):
    """A risk compensation fund (风险补偿基金). Its money is in the transactions ledger (account
    `risk_fund` of the fund's party); the balance is always the sum of its postings."""

    name = models.CharField(_("基金名称"), max_length=100)
    manager = models.ForeignKey(
        Organization, verbose_name=_("管理机构"), on_delete=models.PROTECT, related_name="risk_funds"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("覆盖区划"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("设立依据"), max_length=200)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("风险补偿基金")
        verbose_name_plural = _("风险补偿基金")
        constraints = [models.UniqueConstraint(fields=["manager"], name="one_risk_fund_per_manager")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("finance:fund-detail", args=[self.pk])


@pghistory.track()
class RiskSharingScheme(models.Model):
    name = models.CharField(_("方案名称"), max_length=100)
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("适用区划"), on_delete=models.PROTECT, related_name="+"
    )
    fund = models.ForeignKey(
        RiskCompensationFund,
        verbose_name=_("风险补偿基金"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schemes",
    )
    source = models.CharField(_("依据"), max_length=200)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("风险分担方案")
        verbose_name_plural = _("风险分担方案")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("finance:scheme-detail", args=[self.pk])


@pghistory.track()
class RiskShare(models.Model):
    """One party's share of a loss under a scheme; the shares of a scheme sum to exactly 1
    (checked by finance.services.risk when the scheme is saved)."""

    scheme = models.ForeignKey(RiskSharingScheme, on_delete=models.CASCADE, related_name="shares")
    role = models.CharField(_("分担方"), max_length=20, choices=RiskRole.choices)
    party = models.ForeignKey(Party, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="+")
    share = models.DecimalField(_("分担比例"), max_digits=7, decimal_places=6)

    class Meta:
        verbose_name = _("分担比例")
        verbose_name_plural = _("分担比例")
        ordering = ["scheme", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "role"], name="risk_share_role_unique"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=1), name="risk_share_in_0_1"),
        ]

    def __str__(self):
        return f"{self.scheme} · {self.get_role_display()} {self.share}"


# --- applications and appraisal ---------------------------------------------------------------


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待复核")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已复核，待银行审批")
    BANK_APPROVED = "bank_approved", _("银行已批准")
    BANK_DECLINED = "bank_declined", _("银行已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")
    DISBURSED = "disbursed", _("已放款")


APPLICATION_TRANSITIONS = {
    ApplicationStatus.DRAFT: {ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.SUBMITTED: {ApplicationStatus.APPROVED, ApplicationStatus.RETURNED},
    ApplicationStatus.RETURNED: {ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.APPROVED: {
        ApplicationStatus.BANK_APPROVED,
        ApplicationStatus.BANK_DECLINED,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.BANK_APPROVED: {ApplicationStatus.DISBURSED, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.BANK_DECLINED: set(),
    ApplicationStatus.WITHDRAWN: set(),
    ApplicationStatus.DISBURSED: set(),
}


@pghistory.track()
class LoanApplication(models.Model):
    number = models.CharField(_("申请编号"), max_length=20, unique=True)
    applicant = models.ForeignKey(
        Party, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="loan_applications"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("受理区划"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        LoanProduct, verbose_name=_("贷款产品"), on_delete=models.PROTECT, related_name="applications"
    )
    amount = money_field(_("申请金额（元）"))
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    repayment_method = models.CharField(_("还款方式"), max_length=30, choices=RepaymentMethod.choices)
    payment_frequency = models.CharField(_("还款频率"), max_length=20, choices=PaymentFrequency.choices)
    annual_rate = rate_field(_("年利率"))
    purpose = models.CharField(_("贷款用途"), max_length=300)
    credit_score = models.ForeignKey(
        CreditScore,
        verbose_name=_("生态信用评分"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The borrower's signed authorisation for the bank to see their personal data (PIPL Art. 29).
    consent_document = models.CharField(_("授权书编号"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    prepared_by = models.ForeignKey(
        User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    checked_by = models.ForeignKey(
        User, verbose_name=_("复核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    check_note = models.CharField(_("复核意见"), max_length=300, blank=True)
    bank_decided_by = models.ForeignKey(
        User, verbose_name=_("银行审批人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bank_decided_at = models.DateTimeField(_("银行审批时间"), null=True, blank=True)
    bank_note = models.CharField(_("银行意见"), max_length=300, blank=True)
    approved_amount = money_field(_("批准金额（元）"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("贷款申请")
        verbose_name_plural = _("贷款申请")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_by__isnull=True) | ~Q(checked_by=F("prepared_by")),
                name="application_maker_is_not_checker",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="application_amount_positive"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("finance:application-detail", args=[self.pk])


@pghistory.track()
class ApplicationCollateral(models.Model):
    application = models.ForeignKey(LoanApplication, on_delete=models.CASCADE, related_name="collateral")
    right = models.ForeignKey(Right, verbose_name=_("抵质押权利"), on_delete=models.PROTECT, related_name="+")
    appraisal = models.ForeignKey(
        "CollateralAppraisal",
        verbose_name=_("评估"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("申请抵质押物")
        verbose_name_plural = _("申请抵质押物")
        constraints = [
            models.UniqueConstraint(fields=["application", "right"], name="application_right_unique")
        ]

    def __str__(self):
        return f"{self.application} · {self.right_id}"


@pghistory.track()
class CollateralAppraisal(models.Model):
    """What a right can bear as collateral under a product, computed from the asset's latest
    accepted GEP valuation (income approach) and market evidence from the trading desk; the lower
    of the two is taken. Append-only: the `calculation` records every input and step."""

    number = models.CharField(_("评估编号"), max_length=20, unique=True)
    right = models.ForeignKey(
        Right, verbose_name=_("权利"), on_delete=models.PROTECT, related_name="appraisals"
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="appraisals"
    )
    product = models.ForeignKey(
        LoanProduct, verbose_name=_("贷款产品"), on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        LoanApplication,
        verbose_name=_("贷款申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    valuation_run = models.ForeignKey(
        AccountingRun,
        verbose_name=_("GEP 核算"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    gep_annual_value = money_field(_("资产年度 GEP（元）"), null=True, blank=True)
    income_value = money_field(_("收益法价值（元）"), null=True, blank=True)
    market_value = money_field(_("市场法价值（元）"), null=True, blank=True)
    appraised_value = money_field(_("评估价值（元）"))
    haircut = rate_field(_("折扣率"))
    collateral_value = money_field(_("折后价值（元）"))
    ltv = rate_field(_("抵押率"))
    max_loan = money_field(_("最高可贷（元）"))
    method = models.CharField(_("评估方法"), max_length=200)
    appraiser_org = models.ForeignKey(
        Organization, verbose_name=_("评估机构"), on_delete=models.PROTECT, related_name="+"
    )
    appraiser_licence_no = models.CharField(_("评估资质编号"), max_length=50, blank=True)
    appraised_on = models.DateField(_("评估基准日"))
    valid_until = models.DateField(_("有效期至"))
    calculation = models.JSONField(_("计算过程"), default=dict)
    created_by = models.ForeignKey(User, verbose_name=_("评估人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("抵质押物评估")
        verbose_name_plural = _("抵质押物评估")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(appraised_value__gte=0), name="appraisal_value_nonnegative"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("appraised_on")), name="appraisal_validity"
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("finance:appraisal-detail", args=[self.pk])


# --- pledges ----------------------------------------------------------------------------------


class PledgeStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    RELEASED = "released", _("已解除")
    ENFORCED = "enforced", _("已处置")


@pghistory.track()
class Pledge(models.Model):
    """The finance side of a pledge: which loan and appraisal it secures and for which bank. The
    security itself is `restriction` in the rights ledger."""

    number = models.CharField(_("质押登记号"), max_length=20, unique=True)
    restriction = models.OneToOneField(
        Restriction, verbose_name=_("权利限制"), on_delete=models.PROTECT, related_name="finance_pledge"
    )
    bank = models.ForeignKey(
        Organization, verbose_name=_("质权人"), on_delete=models.PROTECT, related_name="pledges"
    )
    application = models.ForeignKey(
        LoanApplication, verbose_name=_("贷款申请"), on_delete=models.PROTECT, related_name="pledges"
    )
    appraisal = models.ForeignKey(
        CollateralAppraisal, verbose_name=_("评估"), on_delete=models.PROTECT, related_name="pledges"
    )
    right = models.ForeignKey(
        Right, verbose_name=_("权利"), on_delete=models.PROTECT, related_name="finance_pledges"
    )
    rank = models.PositiveSmallIntegerField(_("顺位"))
    secured_amount = money_field(_("担保金额（元）"))
    bank_reference = models.CharField(_("银行业务编号"), max_length=60, blank=True)
    verification_code = models.CharField(_("核验码"), max_length=16, unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=PledgeStatus.choices, default=PledgeStatus.ACTIVE
    )
    registered_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    released_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    release_reason = models.CharField(_("解除原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("抵质押登记")
        verbose_name_plural = _("抵质押登记")
        ordering = ["-pk"]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("finance:pledge-detail", args=[self.pk])


# --- loan book --------------------------------------------------------------------------------


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("正常还款")
    PAID_OFF = "paid_off", _("已结清")
    DEFAULTED = "defaulted", _("已违约")
    CLOSED = "closed", _("处置终结")


@pghistory.track()
class Loan(models.Model):
    number = models.CharField(_("借据编号"), max_length=20, unique=True)
    application = models.OneToOneField(
        LoanApplication, verbose_name=_("贷款申请"), on_delete=models.PROTECT, related_name="loan"
    )
    bank = models.ForeignKey(
        Organization, verbose_name=_("贷款银行"), on_delete=models.PROTECT, related_name="loans"
    )
    borrower = models.ForeignKey(
        Party, verbose_name=_("借款人"), on_delete=models.PROTECT, related_name="loans"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("受理区划"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        LoanProduct, verbose_name=_("贷款产品"), on_delete=models.PROTECT, related_name="loans"
    )
    principal = money_field(_("本金（元）"))
    annual_rate = rate_field(_("年利率"))
    penalty_rate = rate_field(_("罚息年利率"))
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    repayment_method = models.CharField(_("还款方式"), max_length=30, choices=RepaymentMethod.choices)
    payment_frequency = models.CharField(_("还款频率"), max_length=20, choices=PaymentFrequency.choices)
    day_count = models.CharField(_("计息基准"), max_length=10, choices=DayCount.choices)
    disbursed_on = models.DateField(_("放款日"))
    maturity_date = models.DateField(_("到期日"))
    bank_reference = models.CharField(_("银行借据号"), max_length=60)
    status = models.CharField(_("状态"), max_length=10, choices=LoanStatus.choices, default=LoanStatus.ACTIVE)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    closed_on = models.DateField(_("结清/终结日"), null=True, blank=True)

    class Meta:
        verbose_name = _("贷款")
        verbose_name_plural = _("贷款")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "bank_reference"], name="loan_bank_reference_unique"),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(maturity_date__gt=F("disbursed_on")), name="loan_maturity_after_start"
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("finance:loan-detail", args=[self.pk])


@pghistory.track()
class Installment(models.Model):
    """One scheduled period. Amounts due are fixed at disbursement (recast by early repayment);
    amounts paid grow as repayments are allocated."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    seq = models.PositiveSmallIntegerField(_("期次"))
    period_start = models.DateField(_("起息日"))
    due_date = models.DateField(_("应还日"))
    principal_due = money_field(_("应还本金"))
    interest_due = money_field(_("应还利息"))
    principal_paid = money_field(_("已还本金"), default=Decimal("0"))
    interest_paid = money_field(_("已还利息"), default=Decimal("0"))
    penalty_paid = money_field(_("已还罚息"), default=Decimal("0"))
    settled_on = models.DateField(_("结清日"), null=True, blank=True)

    class Meta:
        verbose_name = _("还款计划")
        verbose_name_plural = _("还款计划")
        ordering = ["loan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="installment_seq_unique"),
            models.CheckConstraint(
                condition=Q(principal_due__gte=0, interest_due__gte=0), name="installment_due_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(principal_paid__gte=0, principal_paid__lte=F("principal_due"))
                & Q(interest_paid__gte=0, interest_paid__lte=F("interest_due"))
                & Q(penalty_paid__gte=0),
                name="installment_paid_within_due",
            ),
        ]

    def __str__(self):
        return f"{self.loan} #{self.seq}"

    @property
    def outstanding(self):
        return self.principal_due + self.interest_due - self.principal_paid - self.interest_paid


class RepaymentKind(models.TextChoices):
    REGULAR = "regular", _("正常还款")
    EARLY = "early", _("提前还款")
    OVERDUE = "overdue", _("逾期还款")
    DISPOSAL = "disposal", _("处置回收")


@pghistory.track()
class Repayment(models.Model):
    """Money the bank reports received on a loan. Append-only (a mistake is corrected by a
    reversing repayment of the opposite sign, never by editing)."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="repayments"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=RepaymentKind.choices)
    paid_on = models.DateField(_("还款日"))
    amount = money_field(_("金额（元）"))
    principal_part = money_field(_("其中本金"))
    interest_part = money_field(_("其中利息"))
    penalty_part = money_field(_("其中罚息"))
    bank_reference = models.CharField(_("银行流水号"), max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("还款记录")
        verbose_name_plural = _("还款记录")
        ordering = ["loan", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount=F("principal_part") + F("interest_part") + F("penalty_part")),
                name="repayment_parts_add_up",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.loan} {self.paid_on} {self.amount}"


@pghistory.track()
class RepaymentLine(models.Model):
    repayment = models.ForeignKey(Repayment, on_delete=models.PROTECT, related_name="lines")
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="repayment_lines")
    principal = money_field(_("本金"), default=Decimal("0"))
    interest = money_field(_("利息"), default=Decimal("0"))
    penalty = money_field(_("罚息"), default=Decimal("0"))

    class Meta:
        ordering = ["repayment", "installment__seq"]

    def __str__(self):
        return f"{self.repayment_id} → {self.installment_id}"


class DelinquencyBucket(models.TextChoices):
    CURRENT = "current", _("正常（M0）")
    DPD_1_30 = "1_30", _("逾期1–30天（M1）")
    DPD_31_60 = "31_60", _("逾期31–60天（M2）")
    DPD_61_90 = "61_90", _("逾期61–90天（M3）")
    DPD_90_PLUS = "90_plus", _("逾期90天以上")


class LoanClassification(models.TextChoices):
    """五级分类 floors from days past due (thresholds configurable in settings)."""

    NORMAL = "normal", _("正常")
    SPECIAL_MENTION = "special_mention", _("关注")
    SUBSTANDARD = "substandard", _("次级")
    DOUBTFUL = "doubtful", _("可疑")
    LOSS = "loss", _("损失")


class DelinquencySnapshot(models.Model):
    """A loan's delinquency on one day, written by the daily job: the trend a bank and the
    cooperative watch, and what alerts are raised from."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="snapshots")
    as_of = models.DateField(_("日期"))
    days_past_due = models.PositiveIntegerField(_("逾期天数"))
    bucket = models.CharField(_("逾期分档"), max_length=10, choices=DelinquencyBucket.choices)
    classification = models.CharField(_("五级分类"), max_length=20, choices=LoanClassification.choices)
    outstanding_principal = money_field(_("剩余本金"))
    overdue_principal = money_field(_("逾期本金"))
    overdue_interest = money_field(_("逾期利息"))
    penalty_accrued = money_field(_("应计罚息"))

    class Meta:
        verbose_name = _("逾期快照")
        verbose_name_plural = _("逾期快照")
        ordering = ["loan", "-as_of"]
        constraints = [models.UniqueConstraint(fields=["loan", "as_of"], name="delinquency_snapshot_unique")]

    def __str__(self):
        return f"{self.loan} {self.as_of} {self.days_past_due}"


# --- default and disposal ---------------------------------------------------------------------


class DefaultStatus(models.TextChoices):
    DECLARED = "declared", _("已认定违约")
    SETTLED = "settled", _("已处置结案")


@pghistory.track()
class LoanDefault(models.Model):
    loan = models.OneToOneField(
        Loan, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="default"
    )
    declared_on = models.DateField(_("认定日期"))
    declared_by = models.ForeignKey(
        User, verbose_name=_("认定人"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("违约事由"), max_length=300)
    outstanding_principal = money_field(_("未还本金"))
    outstanding_interest = money_field(_("未还利息"))
    penalty = money_field(_("罚息"))
    status = models.CharField(
        _("状态"), max_length=10, choices=DefaultStatus.choices, default=DefaultStatus.DECLARED
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("违约认定")
        verbose_name_plural = _("违约认定")
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.loan} {self.get_status_display()}"

    def get_absolute_url(self):
        return reverse("finance:default-detail", args=[self.pk])

    @property
    def claim(self):
        return self.outstanding_principal + self.outstanding_interest + self.penalty


class DisposalMethod(models.TextChoices):
    BUY_BACK = "buy_back", _("合作社回购")
    RISK_COMPENSATION = "risk_compensation", _("风险分担代偿")


@pghistory.track()
class Disposal(models.Model):
    """One disposal step of a default: the cooperative buys back pledged rights, or the remaining
    loss is split by the risk-sharing scheme. `waterfall` states where every yuan went."""

    default = models.ForeignKey(
        LoanDefault, verbose_name=_("违约"), on_delete=models.PROTECT, related_name="disposals"
    )
    number = models.CharField(_("处置编号"), max_length=20, unique=True)
    method = models.CharField(_("处置方式"), max_length=20, choices=DisposalMethod.choices)
    executed_on = models.DateField(_("处置日期"))
    amount = money_field(_("处置金额（元）"))
    waterfall = models.JSONField(_("分配顺序"), default=list)
    source_document = models.CharField(_("依据文件"), max_length=200)
    executed_by = models.ForeignKey(
        User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("违约处置")
        verbose_name_plural = _("违约处置")
        ordering = ["default", "pk"]

    def __str__(self):
        return self.number


@pghistory.track()
class LossAllocation(models.Model):
    disposal = models.ForeignKey(Disposal, on_delete=models.PROTECT, related_name="allocations")
    role = models.CharField(_("分担方"), max_length=20, choices=RiskRole.choices)
    party = models.ForeignKey(Party, verbose_name=_("主体"), on_delete=models.PROTECT, related_name="+")
    share = models.DecimalField(_("分担比例"), max_digits=7, decimal_places=6)
    amount = money_field(_("分担金额（元）"))

    class Meta:
        verbose_name = _("损失分担")
        verbose_name_plural = _("损失分担")
        ordering = ["disposal", "pk"]

    def __str__(self):
        return f"{self.disposal} · {self.get_role_display()} {self.amount}"


# --- bank API ---------------------------------------------------------------------------------


class BankRequestKey(models.Model):
    """Durable `Idempotency-Key` of a bank's POST: written in the same transaction as what the
    request creates, so a retry (even after a restart, even concurrent) gets the first result."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=60)
    fingerprint = models.CharField(max_length=64)
    object_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "endpoint", "key"], name="bank_request_key_unique"
            )
        ]

    def __str__(self):
        return f"{self.organization_id}:{self.endpoint}:{self.key}"
