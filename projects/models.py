"""Key projects (重点项目清单), the GEP balance ledger (占补平衡), the cooperative's own books and
red lines, performance evaluation, and the monitoring jobs that watch all of it.

Invariants (in PostgreSQL where possible, in projects.services under row locks otherwise):
1. a project is prepared by one person and admitted or rejected by another (check constraint on
   the review); every review and evaluation is append-only;
2. a project that consumes GEP is admitted only if its division's GEP balance stays ≥ 0 after
   its debit; the debit is posted in the same transaction as the admission, under the balance
   row lock of the division, so two admissions cannot spend the same credit;
3. GEP balance entries are append-only; each names the accepted valuation run(s) behind it and
   keeps its calculation; a mistake is corrected by a reversing entry;
4. a red-line reading is computed from the transactions and finance ledgers only (no figures
   typed in); one reading per cooperative, line and day (a re-run replaces the day's reading);
5. a monitoring alert is raised once per open condition (unique job + key while unresolved), so
   re-running a job never posts the same alert twice.
"""

from decimal import Decimal

import pghistory
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from directory.models import AdministrativeDivision, Organization, User
from finance.models import Loan
from resources.models import Asset
from transactions.models import Movement, ResourcePackage, money_field
from valuation.models import AccountingRun


def ratio_field(verbose_name, **kwargs):
    """A ratio or share as a fraction: 0.700000 = 70 %."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=6, **kwargs)


# --- admission criteria -----------------------------------------------------------------------


class CriteriaStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已废止")


@pghistory.track()
class CriteriaSet(models.Model):
    """Published admission criteria (重点项目评定标准). Once published a set is never edited: a new
    version replaces it, and each review records the version it applied."""

    name = models.CharField(_("名称"), max_length=100)
    version = models.CharField(_("版本"), max_length=20, unique=True)
    source = models.CharField(_("依据"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=10, choices=CriteriaStatus.choices, default=CriteriaStatus.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        User, verbose_name=_("发布人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("准入标准")
        verbose_name_plural = _("准入标准")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="published"), name="one_published_criteria_set"
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.version}）"

    def get_absolute_url(self):
        return reverse("projects:criteria-detail", args=[self.pk])


class CriterionCheck(models.TextChoices):
    """How a criterion is decided: by the platform from its records, or by the reviewer."""

    MANUAL = "manual", _("人工评定")
    MIN_INVESTMENT = "min_investment", _("总投资不低于（元）")
    MIN_SOCIAL_CAPITAL_SHARE = "min_social_capital_share", _("社会资本占比不低于")
    GEP_BALANCE = "gep_balance", _("GEP 占补平衡（入库后区划余额不为负）")
    ASSETS_REGISTERED = "assets_registered", _("关联资源均已确权登记且在项目区划内")
    OWNER_NO_VIOLATIONS = "owner_no_violations", _("业主近期无生态违规记录（月数）")
    OWNER_MIN_CREDIT = "owner_min_credit", _("业主生态信用分不低于")


class Criterion(models.Model):
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("序号"))
    code = models.CharField(_("编号"), max_length=20)
    title = models.CharField(_("标准"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    method = models.CharField(_("评定方式"), max_length=30, choices=CriterionCheck.choices)
    threshold = models.DecimalField(_("阈值"), max_digits=18, decimal_places=6, null=True, blank=True)
    # also checked at each periodic evaluation; failing one there is a reason to exit
    applies_to_evaluation = models.BooleanField(_("适用于定期评价"), default=True)

    class Meta:
        verbose_name = _("准入条件")
        verbose_name_plural = _("准入条件")
        ordering = ["criteria_set", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"], name="criterion_code_unique"),
            models.CheckConstraint(
                condition=Q(method__in=["manual", "gep_balance", "assets_registered"])
                | Q(threshold__isnull=False),
                name="criterion_threshold_given",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


# --- key projects -----------------------------------------------------------------------------


class ProjectCategory(models.TextChoices):
    EOD = "eod", _("EOD 生态环境导向开发")
    ECO_TOURISM = "eco_tourism", _("生态旅游")
    HOMESTAY_CLUSTER = "homestay_cluster", _("民宿集群")
    ECO_AGRICULTURE = "eco_agriculture", _("生态农业")
    UNDERSTOREY = "understorey", _("林下经济")
    CARBON = "carbon", _("碳汇")
    WATER = "water", _("水资源利用")
    RESTORATION = "restoration", _("生态修复")
    OTHER = "other", _("其他")


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    ADMITTED = "admitted", _("已入库")
    REJECTED = "rejected", _("未通过")
    EXITED = "exited", _("已退库")
    WITHDRAWN = "withdrawn", _("已撤回")


class ExitReason(models.TextChoices):
    COMPLETED = "completed", _("建成达效")
    FAILED_CRITERIA = "failed_criteria", _("不再符合入库标准")
    VIOLATION = "violation", _("违法违规")
    OWNER_REQUEST = "owner_request", _("业主申请退出")


@pghistory.track()
class KeyProject(models.Model):
    number = models.CharField(_("项目编号"), max_length=20, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(_("项目类型"), max_length=20, choices=ProjectCategory.choices)
    owner = models.ForeignKey(
        Organization, verbose_name=_("项目业主"), on_delete=models.PROTECT, related_name="key_projects"
    )
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    summary = models.CharField(_("项目简介"), max_length=500)
    description = models.TextField(_("建设内容"), blank=True)
    total_investment = money_field(_("计划总投资（元）"))
    social_capital = money_field(_("其中社会资本（元）"), default=Decimal("0.00"))
    expected_gep_gain = money_field(
        _("预期 GEP 增量（元/年）"), default=Decimal("0.00"), help_text=_("项目建成后预期新增的生态产品价值")
    )
    planned_start = models.DateField(_("计划开工"))
    planned_end = models.DateField(_("计划完工"))
    assets = models.ManyToManyField(
        Asset, verbose_name=_("关联资源"), blank=True, related_name="key_projects"
    )
    packages = models.ManyToManyField(
        ResourcePackage, verbose_name=_("关联资源包"), blank=True, related_name="key_projects"
    )
    loans = models.ManyToManyField(Loan, verbose_name=_("关联贷款"), blank=True, related_name="key_projects")
    status = models.CharField(
        _("状态"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
    )
    criteria_set = models.ForeignKey(
        CriteriaSet,
        verbose_name=_("适用标准"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    admitted_on = models.DateField(_("入库日期"), null=True, blank=True)
    exited_on = models.DateField(_("退库日期"), null=True, blank=True)
    exit_reason = models.CharField(_("退库原因"), max_length=20, choices=ExitReason.choices, blank=True)
    exit_note = models.CharField(_("退库说明"), max_length=500, blank=True)
    showcase = models.BooleanField(_("在招商推介页展示"), default=False)
    showcase_contact = models.CharField(
        _("招商联系方式"),
        max_length=100,
        blank=True,
        help_text=_("公开展示，请填写单位电话或邮箱，勿填个人手机"),
    )
    created_by = models.ForeignKey(User, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("填报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("重点项目")
        verbose_name_plural = _("重点项目")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total_investment__gt=0), name="project_investment_positive"),
            models.CheckConstraint(
                condition=Q(social_capital__gte=0, social_capital__lte=F("total_investment")),
                name="project_social_capital_within_total",
            ),
            models.CheckConstraint(
                condition=Q(expected_gep_gain__gte=0), name="project_gep_gain_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(planned_end__gt=F("planned_start")), name="project_plan_end_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status="exited") | (Q(exited_on__isnull=False) & ~Q(exit_reason="")),
                name="exited_project_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"

    def get_absolute_url(self):
        return reverse("projects:project-detail", args=[self.pk])


class ProjectConsumption(models.Model):
    """GEP the project takes away (占): a share of an asset's accounted value that the project
    converts or degrades (e.g. forest cleared for buildings). Debited to the division's GEP
    balance at admission, priced by the asset's latest accepted valuation run."""

    project = models.ForeignKey(KeyProject, on_delete=models.CASCADE, related_name="consumptions")
    asset = models.ForeignKey(Asset, verbose_name=_("资源资产"), on_delete=models.PROTECT, related_name="+")
    fraction = ratio_field(_("占用比例"), help_text=_("0–1，项目占用该资源 GEP 的比例"))
    note = models.CharField(_("说明"), max_length=300)

    class Meta:
        verbose_name = _("GEP 占用")
        verbose_name_plural = _("GEP 占用")
        ordering = ["project", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "asset"], name="one_consumption_per_asset"),
            models.CheckConstraint(
                condition=Q(fraction__gt=0, fraction__lte=1), name="consumption_fraction_0_1"
            ),
        ]

    def __str__(self):
        return f"{self.asset_id} × {self.fraction}"


class ReviewDecision(models.TextChoices):
    ADMIT = "admit", _("同意入库")
    REJECT = "reject", _("不予入库")
    RETURN = "return", _("退回修改")


class ProjectReview(models.Model):
    """One admission review: the criteria as the platform and the reviewer found them, the GEP
    balance check, and the decision. Append-only."""

    project = models.ForeignKey(KeyProject, on_delete=models.PROTECT, related_name="reviews")
    criteria_set = models.ForeignKey(
        CriteriaSet, verbose_name=_("适用标准"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("结论"), max_length=10, choices=ReviewDecision.choices)
    note = models.CharField(_("审核意见"), max_length=1000)
    # [{code, title, method, met, detail}] — detail explains the numbers
    criteria_results = models.JSONField(_("逐项评定"), default=list)
    # {division, balance_before, debit, balance_after, shortfall, entries: [...]}
    gep_check = models.JSONField(_("占补平衡测算"), default=dict)
    prepared_by = models.ForeignKey(
        User, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(User, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("入库审核")
        verbose_name_plural = _("入库审核")
        ordering = ["project", "-reviewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reviewer=F("prepared_by")), name="project_reviewer_is_not_preparer"
            )
        ]

    def __str__(self):
        return f"{self.project_id} {self.get_decision_display()}"


class EvaluationOutcome(models.TextChoices):
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


class ProjectEvaluation(models.Model):
    """A periodic evaluation of an admitted project (动态调整). Append-only; a failed evaluation
    is the usual reason to exit a project."""

    project = models.ForeignKey(KeyProject, on_delete=models.PROTECT, related_name="evaluations")
    period_start = models.DateField(_("评价期起"))
    period_end = models.DateField(_("评价期止"))
    investment_to_date = money_field(_("累计完成投资（元）"))
    progress_note = models.TextField(_("进展情况"))
    jobs_created = models.PositiveIntegerField(_("带动就业（人）"), default=0)
    # the project's assets' GEP in the latest accepted runs before and within the period
    gep_change = models.JSONField(_("GEP 变化"), default=dict)
    criteria_results = models.JSONField(_("逐项评定"), default=list)
    outcome = models.CharField(_("评价结论"), max_length=10, choices=EvaluationOutcome.choices)
    note = models.CharField(_("评价意见"), max_length=1000)
    evaluator = models.ForeignKey(User, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+")
    evaluated_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("项目评价")
        verbose_name_plural = _("项目评价")
        ordering = ["project", "-period_end", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "period_end"], name="one_evaluation_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="evaluation_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(investment_to_date__gte=0), name="evaluation_investment_valid"
            ),
        ]

    def __str__(self):
        return f"{self.project_id} {self.period_end} {self.get_outcome_display()}"


# --- GEP balance (占补平衡) ---------------------------------------------------------------------


@pghistory.track()
class GepBalanceRule(models.Model):
    """How a division balances GEP: how many yuan of gain must stand behind each yuan consumed,
    which GEP categories count, and when to warn. The guidance does not fix the mechanics, so
    they are configured here (a new rule version supersedes the old one from its date)."""

    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("平衡区划"), on_delete=models.PROTECT, related_name="+"
    )
    offset_ratio = ratio_field(
        _("占补比例"), help_text=_("每消耗 1 元 GEP 需要的补充 GEP（元），如 1.0 或 1.2")
    )
    categories = models.JSONField(
        _("计入的 GEP 类别"), default=list, help_text=_("material / regulating / cultural")
    )
    warning_balance = money_field(_("余额预警线（元）"), default=Decimal("0.00"))
    effective_from = models.DateField(_("生效日期"))
    source = models.CharField(_("依据"), max_length=300)
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("占补平衡规则")
        verbose_name_plural = _("占补平衡规则")
        ordering = ["division__code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["division", "effective_from"], name="one_gep_rule_per_day"),
            models.CheckConstraint(condition=Q(offset_ratio__gte=1), name="gep_offset_ratio_at_least_1"),
            models.CheckConstraint(condition=Q(warning_balance__gte=0), name="gep_warning_not_negative"),
        ]

    def __str__(self):
        return f"{self.division.name} {self.effective_from} ×{self.offset_ratio}"


class GepEntryKind(models.TextChoices):
    PROJECT_DEBIT = "project_debit", _("项目占用")
    RESTORATION = "restoration", _("生态修复增量")
    PROTECTION = "protection", _("新增保护")
    RELEASE = "release", _("项目退库返还")
    REVERSAL = "reversal", _("冲正")


class GepBalance(models.Model):
    """The running GEP balance of one division: the row every posting locks (so two admissions
    cannot spend the same credit). Equal to the sum of its entries at all times (checked in tests)."""

    division = models.OneToOneField(
        AdministrativeDivision, verbose_name=_("平衡区划"), on_delete=models.PROTECT, related_name="+"
    )
    balance = money_field(_("余额（元）"), default=Decimal("0.00"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("GEP 平衡余额")
        verbose_name_plural = _("GEP 平衡余额")
        ordering = ["division__code"]

    def __str__(self):
        return f"{self.division.name} {self.balance}"

    def get_absolute_url(self):
        return reverse("projects:gep-balance-detail", args=[self.division_id])


class GepBalanceEntry(models.Model):
    """One credit (+, a gain) or debit (−, a consumption) of a division's GEP balance, with the
    accepted valuation run(s) behind it and the calculation. Append-only."""

    number = models.CharField(_("编号"), max_length=20, unique=True)
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("平衡区划"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=GepEntryKind.choices)
    amount = money_field(_("金额（元，增加为正、占用为负）"))
    project = models.ForeignKey(
        KeyProject,
        verbose_name=pgettext_lazy("key project", "项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gep_entries",
    )
    assets = models.ManyToManyField(Asset, verbose_name=_("涉及资源"), blank=True, related_name="+")
    run = models.ForeignKey(
        AccountingRun,
        verbose_name=_("核算批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    baseline_run = models.ForeignKey(
        AccountingRun,
        verbose_name=_("基期核算批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rule = models.ForeignKey(
        GepBalanceRule, verbose_name=_("适用规则"), on_delete=models.PROTECT, related_name="+"
    )
    # every number behind the amount: per asset and category, the runs, the ratio
    calculation = models.JSONField(_("计算过程"), default=dict)
    memo = models.CharField(_("摘要"), max_length=300)
    occurred_on = models.DateField(_("业务日期"))
    balance_after = money_field(_("记账后余额（元）"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    recorded_by = models.ForeignKey(
        User, verbose_name=_("记账人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记账时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("GEP 占补平衡台账")
        verbose_name_plural = _("GEP 占补平衡台账")
        ordering = ["division__code", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="gep_entry_amount_nonzero"),
            models.CheckConstraint(
                condition=~Q(kind="project_debit") | Q(amount__lt=0, project__isnull=False),
                name="gep_project_debit_is_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["restoration", "protection", "release"]) | Q(amount__gt=0),
                name="gep_credit_is_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | Q(reverses__isnull=False), name="gep_reversal_names_entry"
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.get_kind_display()} {self.amount}"

    def get_absolute_url(self):
        return reverse("projects:gep-entry-detail", args=[self.pk])


# --- the cooperative's books and red lines ----------------------------------------------------


@pghistory.track()
class EquityStake(models.Model):
    """The cooperative's investment in a firm (参股企业). Its money is in the transactions ledger
    (equity_investments); lending to or guaranteeing these firms is a red line."""

    cooperative = models.ForeignKey(
        Organization, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="equity_stakes"
    )
    investee = models.ForeignKey(
        Organization, verbose_name=_("被投资企业"), on_delete=models.PROTECT, related_name="investors_stakes"
    )
    amount = money_field(_("投资额（元）"))
    share = ratio_field(_("持股比例"))
    acquired_on = models.DateField(_("投资日期"))
    disposed_on = models.DateField(_("退出日期"), null=True, blank=True)
    source_document = models.CharField(
        _("决策文件"), max_length=200, help_text=_("如“三重一大”决策会议纪要编号")
    )
    movement = models.ForeignKey(
        Movement, verbose_name=_("投资凭证"), on_delete=models.PROTECT, related_name="+"
    )
    disposal_movement = models.ForeignKey(
        Movement,
        verbose_name=_("退出凭证"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("对外股权投资")
        verbose_name_plural = _("对外股权投资")
        ordering = ["cooperative", "-acquired_on"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="stake_amount_positive"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=1), name="stake_share_0_1"),
            models.CheckConstraint(condition=~Q(cooperative=F("investee")), name="stake_not_in_itself"),
            models.UniqueConstraint(
                fields=["cooperative", "investee"],
                condition=Q(disposed_on__isnull=True),
                name="one_open_stake_per_investee",
            ),
        ]

    def __str__(self):
        return f"{self.cooperative} → {self.investee} {self.share}"

    def get_absolute_url(self):
        return reverse("projects:stake-detail", args=[self.pk])


class BorrowingKind(models.TextChoices):
    BORROW = "borrow", _("借入")
    REPAY = "repay", _("归还")


class Borrowing(models.Model):
    """One borrowing or repayment of the cooperative with its lender. The money is the ledger
    movement (BORROWINGS is one own account per cooperative; the lender lives here)."""

    cooperative = models.ForeignKey(
        Organization, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="borrowings"
    )
    lender = models.ForeignKey(
        Organization, verbose_name=_("出借方"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=BorrowingKind.choices)
    amount = money_field(_("金额（元）"))
    occurred_on = models.DateField(_("业务日期"))
    movement = models.OneToOneField(
        Movement, verbose_name=_("凭证"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(User, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("借款")
        verbose_name_plural = _("借款")
        ordering = ["cooperative", "-occurred_on", "-pk"]
        indexes = [models.Index(fields=["cooperative", "lender"], name="borrowing_coop_lender_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="borrowing_amount_positive"),
            models.CheckConstraint(condition=~Q(cooperative=F("lender")), name="borrowing_not_from_itself"),
        ]

    def __str__(self):
        return f"{self.cooperative} {self.get_kind_display()} {self.lender} {self.amount}"


class RedLineKey(models.TextChoices):
    DEBT_RATIO = "debt_ratio", _("资产负债率")
    LIQUIDITY = "liquidity", _("流动比率")
    BORROWER_CONCENTRATION = "borrower_concentration", _("单一借款人风险集中度")
    PROJECT_CONCENTRATION = "project_concentration", _("单一项目风险集中度")
    INVESTEE_LENDING = "investee_lending", _("为参股企业提供借款或分担风险")


class RedLineDirection(models.TextChoices):
    MAX = "max", _("不高于")
    MIN = "min", _("不低于")


@pghistory.track()
class RedLine(models.Model):
    """A threshold. cooperative = None is the platform default; a cooperative's own row overrides it."""

    cooperative = models.ForeignKey(
        Organization,
        verbose_name=_("合作社"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    key = models.CharField(_("指标"), max_length=30, choices=RedLineKey.choices)
    direction = models.CharField(_("方向"), max_length=3, choices=RedLineDirection.choices)
    limit = models.DecimalField(_("红线"), max_digits=18, decimal_places=6)
    warning = models.DecimalField(_("预警线"), max_digits=18, decimal_places=6)
    source = models.CharField(_("依据"), max_length=300)
    # None: the default seeded by migration 0003
    updated_by = models.ForeignKey(
        User, verbose_name=_("修改人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("风险红线")
        verbose_name_plural = _("风险红线")
        ordering = ["key", "cooperative_id"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "key"], name="one_red_line_per_cooperative"),
            models.UniqueConstraint(
                fields=["key"], condition=Q(cooperative__isnull=True), name="one_default_red_line"
            ),
            # the warning comes before the limit
            models.CheckConstraint(
                condition=(Q(direction="max") & Q(warning__lte=F("limit")))
                | (Q(direction="min") & Q(warning__gte=F("limit"))),
                name="red_line_warning_before_limit",
            ),
        ]

    def __str__(self):
        return f"{self.get_key_display()} {self.get_direction_display()} {self.limit}"


class RedLineStatus(models.TextChoices):
    OK = "ok", _("正常")
    WARNING = "warning", _("预警")
    BREACH = "breach", _("突破红线")
    NO_DATA = "no_data", _("无数据")


class RedLineReading(models.Model):
    """A red line as computed for one cooperative on one day, with the numbers behind it."""

    cooperative = models.ForeignKey(
        Organization, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="red_line_readings"
    )
    key = models.CharField(_("指标"), max_length=30, choices=RedLineKey.choices)
    as_of = models.DateField(_("日期"))
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=6, null=True, blank=True)
    numerator = money_field(_("分子（元）"), null=True, blank=True)
    denominator = money_field(_("分母（元）"), null=True, blank=True)
    limit = models.DecimalField(_("红线"), max_digits=18, decimal_places=6)
    warning = models.DecimalField(_("预警线"), max_digits=18, decimal_places=6)
    direction = models.CharField(_("方向"), max_length=3, choices=RedLineDirection.choices)
    status = models.CharField(_("状态"), max_length=10, choices=RedLineStatus.choices)
    # what went into the numbers: accounts and balances, the largest exposures, offending loans…
    details = models.JSONField(_("明细"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"), auto_now=True)

    class Meta:
        verbose_name = _("红线监测值")
        verbose_name_plural = _("红线监测值")
        ordering = ["cooperative", "key", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "key", "as_of"], name="one_reading_per_day")
        ]

    def __str__(self):
        return f"{self.cooperative} {self.get_key_display()} {self.as_of} {self.value}"


# --- performance evaluation -------------------------------------------------------------------


class IndicatorKey(models.TextChoices):
    RESOURCE_ACTIVATION = "resource_activation", _("生态资源盘活率")
    INVESTMENT_ATTRACTED = "investment_attracted", _("引入社会资本（元）")
    PROJECTS_ADMITTED = "projects_admitted", _("新入库重点项目（个）")
    FINANCIAL_LEVERAGE = "financial_leverage", _("绿色金融撬动倍数")
    FARMER_INCOME = "farmer_income", _("农户增收（元）")


@pghistory.track()
class EvaluationScheme(models.Model):
    """A performance evaluation method (绩效评价办法): indicators, weights and targets."""

    name = models.CharField(_("名称"), max_length=100)
    version = models.CharField(_("版本"), max_length=20, unique=True)
    source = models.CharField(_("依据"), max_length=300)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("绩效评价方案")
        verbose_name_plural = _("绩效评价方案")
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.name}（{self.version}）"

    def get_absolute_url(self):
        return reverse("projects:scheme-detail", args=[self.pk])


class EvaluationIndicator(models.Model):
    scheme = models.ForeignKey(EvaluationScheme, on_delete=models.CASCADE, related_name="indicators")
    key = models.CharField(_("指标"), max_length=30, choices=IndicatorKey.choices)
    weight = models.DecimalField(_("权重（分）"), max_digits=6, decimal_places=2)
    target = models.DecimalField(_("满分目标值"), max_digits=18, decimal_places=6)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("评价指标")
        verbose_name_plural = _("评价指标")
        ordering = ["scheme", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "key"], name="indicator_key_unique_in_scheme"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_positive"),
            models.CheckConstraint(condition=Q(target__gt=0), name="indicator_target_positive"),
        ]

    def __str__(self):
        return f"{self.get_key_display()} {self.weight}"


class PerformanceEvaluation(models.Model):
    """One cooperative's scores for one period under one scheme. Recomputing the same period
    replaces the numbers (they come from the ledgers, so they only change if the books do)."""

    scheme = models.ForeignKey(
        EvaluationScheme, verbose_name=_("评价方案"), on_delete=models.PROTECT, related_name="+"
    )
    cooperative = models.ForeignKey(
        Organization,
        verbose_name=_("合作社"),
        on_delete=models.PROTECT,
        related_name="performance_evaluations",
    )
    period_start = models.DateField(_("评价期起"))
    period_end = models.DateField(_("评价期止（不含）"))
    # [{key, label, value, unit, target, weight, score, numerator, denominator, explanation}]
    indicators = models.JSONField(_("指标得分"), default=list)
    total_score = models.DecimalField(_("总分"), max_digits=6, decimal_places=2)
    rank = models.PositiveSmallIntegerField(_("同级排名"), null=True, blank=True)
    peer_count = models.PositiveSmallIntegerField(_("同级参评数"), null=True, blank=True)
    computed_by = models.ForeignKey(
        User, verbose_name=_("计算人"), on_delete=models.PROTECT, related_name="+"
    )
    computed_at = models.DateTimeField(_("计算时间"), auto_now=True)

    class Meta:
        verbose_name = _("绩效评价")
        verbose_name_plural = _("绩效评价")
        ordering = ["-period_end", "rank", "cooperative_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "cooperative", "period_start", "period_end"],
                name="one_evaluation_per_scheme_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="performance_period_valid"
            ),
        ]

    def __str__(self):
        return f"{self.cooperative} {self.period_start}–{self.period_end} {self.total_score}"

    def get_absolute_url(self):
        return reverse("projects:performance-detail", args=[self.pk])


# --- monitoring -------------------------------------------------------------------------------


class MonitorJob(models.TextChoices):
    NOTICE_ENDING = "notice_ending", _("公示期即将届满")
    LEASES_EXPIRING = "leases_expiring", _("租赁/交易合同即将到期")
    COLLECTIONS_EXPIRING = "collections_expiring", _("收储合同即将到期")
    INSTALLMENTS_DUE = "installments_due", _("贷款即将到期还款")
    INSTALLMENTS_OVERDUE = "installments_overdue", _("贷款逾期")
    PLEDGE_VALUE = "pledge_value", _("质押物估值跌破抵质押率")
    RED_LINES = "red_lines", _("合作社风险红线")
    GEP_BALANCE = "gep_balance", _("GEP 占补平衡余额")
    STALE_DATA = "stale_data", _("监测数据过期")
    POLICIES_EXPIRING = "policies_expiring", _("绿色保险保单即将到期")


class MonitorRunStatus(models.TextChoices):
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", _("完成")
    FAILED = "failed", _("失败")


class MonitorRun(models.Model):
    job = models.CharField(_("监测任务"), max_length=30, choices=MonitorJob.choices)
    params = models.JSONField(_("参数"), default=dict)
    status = models.CharField(
        _("状态"), max_length=10, choices=MonitorRunStatus.choices, default=MonitorRunStatus.RUNNING
    )
    checked = models.PositiveIntegerField(_("检查对象数"), default=0)
    raised = models.PositiveIntegerField(_("新增预警"), default=0)
    resolved = models.PositiveIntegerField(_("解除预警"), default=0)
    error = models.TextField(_("错误"), blank=True)
    triggered_by = models.ForeignKey(
        User, verbose_name=_("手动触发人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("监测运行记录")
        verbose_name_plural = _("监测运行记录")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["job", "-started_at"], name="monitor_run_job_idx")]

    def __str__(self):
        return f"{self.get_job_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("projects:monitor-run-detail", args=[self.pk])


class MonitorAlert(models.Model):
    """One open condition found by a job (e.g. installment 3 of loan DK-2026-0001 overdue). While
    it stays open a re-run only touches last_seen; when the condition clears it is resolved, and
    if it comes back a new alert is raised."""

    job = models.CharField(_("监测任务"), max_length=30, choices=MonitorJob.choices)
    key = models.CharField(_("条件标识"), max_length=200)
    level = models.CharField(_("级别"), max_length=10, default="warning")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    division = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recipients = models.ManyToManyField(User, verbose_name=_("接收人"), blank=True, related_name="+")
    raised_by = models.ForeignKey(
        MonitorRun, verbose_name=_("发现于"), on_delete=models.PROTECT, related_name="alerts"
    )
    raised_at = models.DateTimeField(_("预警时间"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("最近一次确认"))
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("监测预警")
        verbose_name_plural = _("监测预警")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "key"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_alert_per_condition",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("projects:monitor-alert-detail", args=[self.pk])
