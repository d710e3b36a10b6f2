"""Green finance beyond loans: green insurance (policies, claims, payouts) and the green bonds
and funds the cooperative uses or manages (contributors, commitments, drawdowns to projects and
loans, returns), with every yuan of a fund in the transactions ledger.

Invariants (in PostgreSQL where possible, in greenfinance.services under row locks otherwise):
1. a policy's term is positive, its premium subsidy never exceeds the premium, and a claim's
   payouts never exceed the claimed amount nor the policy's remaining sum insured (checked under
   the policy's row lock);
2. a fund's balance is the sum of its ledger postings (accounts with the fund's number as
   sub-account); every FundMovement row names the ledger movement it posted, and both are
   append-only; a mistake is corrected by a reversal;
3. a fund never pays out more than it holds (checked under the fund's row lock), and a
   contributor never pays in more than it committed.
"""

from decimal import Decimal

import pghistory
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, Organization, Party, User
from finance.models import InsuranceKind, Loan, LoanApplication, rate_field
from projects.models import KeyProject
from resources.models import Asset
from transactions.models import Movement, money_field

# --- green insurance --------------------------------------------------------------------------


class PolicyStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("已到期")
    CANCELLED = "cancelled", _("已退保")
    EXHAUSTED = "exhausted", _("保额已用尽")


@pghistory.track()
class InsurancePolicy(models.Model):
    """A green insurance policy (民宿保险, 森林火灾及病虫害保险, 农作物及产量保险, 生态环境损害责任保险…)
    linked to the assets it covers and, where it secures one, to a loan application / loan or a
    key project. The insurer is an organization on the platform; the insured is a party."""

    number = models.CharField(_("保单号"), max_length=40, unique=True)
    kind = models.CharField(_("险种"), max_length=20, choices=InsuranceKind.choices)
    insurer = models.ForeignKey(
        Organization, verbose_name=_("保险机构"), on_delete=models.PROTECT, related_name="insurance_policies"
    )
    insured = models.ForeignKey(
        Party, verbose_name=_("被保险人"), on_delete=models.PROTECT, related_name="insurance_policies"
    )
    beneficiary = models.ForeignKey(
        Party,
        verbose_name=_("第一受益人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("如贷款银行"),
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    assets = models.ManyToManyField(
        Asset, verbose_name=_("保险标的（资源资产）"), blank=True, related_name="insurance_policies"
    )
    application = models.ForeignKey(
        LoanApplication,
        verbose_name=_("关联贷款申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="insurance_policies",
    )
    loan = models.ForeignKey(
        Loan,
        verbose_name=_("关联贷款"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="insurance_policies",
    )
    project = models.ForeignKey(
        KeyProject,
        verbose_name=_("关联重点项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="insurance_policies",
    )
    sum_insured = money_field(_("保险金额（元）"))
    premium = money_field(_("保费（元）"))
    subsidy_rate = rate_field(_("财政补贴比例"), default=Decimal("0"))
    subsidy_amount = money_field(_("财政补贴（元）"), default=Decimal("0.00"))
    start_date = models.DateField(_("保险起期"))
    end_date = models.DateField(_("保险止期（不含）"))
    terms = models.TextField(_("主要条款"), blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=PolicyStatus.choices, default=PolicyStatus.ACTIVE
    )
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("绿色保险保单")
        verbose_name_plural = _("绿色保险保单")
        ordering = ["-start_date", "-pk"]
        indexes = [models.Index(fields=["status", "end_date"], name="policy_status_end_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="policy_term_positive"),
            models.CheckConstraint(condition=Q(sum_insured__gt=0), name="policy_sum_insured_positive"),
            models.CheckConstraint(condition=Q(premium__gte=0), name="policy_premium_not_negative"),
            models.CheckConstraint(
                condition=Q(subsidy_rate__gte=0, subsidy_rate__lte=1), name="policy_subsidy_rate_0_1"
            ),
            models.CheckConstraint(
                condition=Q(subsidy_amount__gte=0, subsidy_amount__lte=F("premium")),
                name="policy_subsidy_within_premium",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("greenfinance:policy-detail", args=[self.pk])


class ClaimStatus(models.TextChoices):
    REPORTED = "reported", _("已报案")
    ASSESSING = "assessing", _("查勘定损中")
    APPROVED = "approved", _("已核赔")
    PAID = "paid", _("已赔付")
    REJECTED = "rejected", _("已拒赔")
    WITHDRAWN = "withdrawn", _("已撤案")


CLAIM_TRANSITIONS = {
    ClaimStatus.REPORTED: {ClaimStatus.ASSESSING, ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN},
    ClaimStatus.ASSESSING: {ClaimStatus.APPROVED, ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN},
    ClaimStatus.APPROVED: {ClaimStatus.PAID},
    ClaimStatus.PAID: set(),
    ClaimStatus.REJECTED: set(),
    ClaimStatus.WITHDRAWN: set(),
}


@pghistory.track()
class InsuranceClaim(models.Model):
    number = models.CharField(_("理赔编号"), max_length=20, unique=True)
    policy = models.ForeignKey(
        InsurancePolicy, verbose_name=_("保单"), on_delete=models.PROTECT, related_name="claims"
    )
    asset = models.ForeignKey(
        Asset, verbose_name=_("出险标的"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    incident_date = models.DateField(_("出险日期"))
    cause = models.CharField(_("出险原因"), max_length=300)
    claimed_amount = money_field(_("报损金额（元）"))
    approved_amount = money_field(_("核定赔款（元）"), null=True, blank=True)
    paid_amount = money_field(_("已赔付（元）"), default=Decimal("0.00"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.REPORTED
    )
    decision_note = models.CharField(_("核赔/拒赔说明"), max_length=500, blank=True)
    reported_by = models.ForeignKey(
        User, verbose_name=_("报案经办人"), on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("报案时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("核赔经办人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("核赔时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("保险理赔")
        verbose_name_plural = _("保险理赔")
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(claimed_amount__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gte=0, approved_amount__lte=F("claimed_amount")),
                name="claim_approved_within_claimed",
            ),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="claim_paid_not_negative"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("greenfinance:claim-detail", args=[self.pk])


class ClaimPayout(models.Model):
    """One payment of an approved claim by the insurer (append-only; the claim's `paid_amount` is
    their sum, kept under the policy's row lock)."""

    claim = models.ForeignKey(
        InsuranceClaim, verbose_name=_("理赔"), on_delete=models.PROTECT, related_name="payouts"
    )
    paid_on = models.DateField(_("赔付日期"))
    amount = money_field(_("赔付金额（元）"))
    payee = models.ForeignKey(Party, verbose_name=_("领款人"), on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("赔付凭证号"), max_length=60)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("赔款支付")
        verbose_name_plural = _("赔款支付")
        ordering = ["claim", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(fields=["claim", "reference"], name="payout_reference_unique"),
        ]

    def __str__(self):
        return f"{self.claim_id} {self.amount}"


# --- green bonds and funds --------------------------------------------------------------------


class FundKind(models.TextChoices):
    GREEN_BOND = "green_bond", _("绿色债券")
    ECO_FUND = "eco_fund", _("生态产业基金")
    RISK_COMPENSATION = "risk_compensation", _("风险补偿资金")
    GUARANTEE_FUND = "guarantee_fund", _("担保基金")


class FundStatus(models.TextChoices):
    RAISING = "raising", _("募集中")
    ACTIVE = "active", _("运作中")
    CLOSED = "closed", _("已清算")


@pghistory.track()
class GreenFund(models.Model):
    """A green bond, eco fund, risk-compensation pool or guarantee fund the cooperative uses or
    manages. Its money is in the transactions ledger: accounts whose sub-account is `number`
    (cash under the manager's party, capital under each contributor, deployed money under each
    recipient). `size` is the target or issued amount; the balance is never stored."""

    number = models.CharField(_("基金编号"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=30, choices=FundKind.choices)
    manager = models.ForeignKey(
        Organization, verbose_name=_("管理人/发行人"), on_delete=models.PROTECT, related_name="green_funds"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("覆盖区划"), on_delete=models.PROTECT, related_name="+"
    )
    size = money_field(_("规模（元）"))
    coupon_rate = rate_field(_("票面利率/预期收益率"), null=True, blank=True)
    issue_date = models.DateField(_("设立/发行日"))
    maturity_date = models.DateField(_("到期日"), null=True, blank=True)
    purpose = models.CharField(_("资金用途"), max_length=500)
    source = models.CharField(_("设立依据/批文"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=20, choices=FundStatus.choices, default=FundStatus.RAISING
    )
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("绿色债券/基金")
        verbose_name_plural = _("绿色债券/基金")
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="green_fund_size_positive"),
            models.CheckConstraint(
                condition=Q(maturity_date__isnull=True) | Q(maturity_date__gt=F("issue_date")),
                name="green_fund_maturity_after_issue",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"

    def get_absolute_url(self):
        return reverse("greenfinance:fund-detail", args=[self.pk])


@pghistory.track()
class FundCommitment(models.Model):
    """What a contributor (government, bank, enterprise, bond subscriber) committed to put in."""

    fund = models.ForeignKey(
        GreenFund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="commitments"
    )
    contributor = models.ForeignKey(
        Party, verbose_name=_("出资人/认购人"), on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(_("认缴金额（元）"))
    committed_on = models.DateField(_("认缴日期"))
    document = models.CharField(_("认缴协议/文件"), max_length=200)
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("认缴")
        verbose_name_plural = _("认缴")
        ordering = ["fund", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_amount_positive"),
            models.UniqueConstraint(fields=["fund", "contributor"], name="one_commitment_per_contributor"),
        ]

    def __str__(self):
        return f"{self.fund_id} {self.contributor} {self.amount}"


class FundMovementKind(models.TextChoices):
    CONTRIBUTION = "contribution", _("出资到账")
    DRAWDOWN = "drawdown", _("资金投放")
    RETURN = "return", _("投放收回")
    INCOME = "income", _("收益")
    EXPENSE = "expense", _("费用/付息")
    WRITE_OFF = "write_off", _("投放核销")
    REDEMPTION = "redemption", _("退出/兑付")
    REVERSAL = "reversal", _("冲正")


class FundMovement(models.Model):
    """The business record beside each ledger movement of a fund: who paid in, which project or
    loan the money backs, what came back. Append-only; `cash_effect` is the signed change of the
    fund's cash (its sum over a fund equals the ledger balance of the fund's cash account)."""

    fund = models.ForeignKey(
        GreenFund, verbose_name=_("基金"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=FundMovementKind.choices)
    occurred_on = models.DateField(_("业务日期"))
    amount = money_field(_("金额（元）"))
    cash_effect = money_field(_("对基金存款的影响（元）"))
    counterparty = models.ForeignKey(
        Party, verbose_name=_("对方主体"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    commitment = models.ForeignKey(
        FundCommitment,
        verbose_name=_("认缴"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    project = models.ForeignKey(
        KeyProject,
        verbose_name=_("支持项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_movements",
    )
    loan = models.ForeignKey(
        Loan,
        verbose_name=_("支持贷款"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_movements",
    )
    drawdown = models.ForeignKey(
        "self",
        verbose_name=_("对应投放"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
        help_text=_("收回或核销所对应的投放"),
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    memo = models.CharField(_("摘要"), max_length=300)
    reference = models.CharField(_("凭证号"), max_length=60, blank=True)
    movement = models.OneToOneField(
        Movement, verbose_name=_("记账凭证"), on_delete=models.PROTECT, related_name="green_fund_movement"
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记账人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记账时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("基金资金变动")
        verbose_name_plural = _("基金资金变动")
        ordering = ["fund", "occurred_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fund_movement_amount_positive")
        ]

    def __str__(self):
        return f"{self.fund_id} {self.get_kind_display()} {self.amount}"
