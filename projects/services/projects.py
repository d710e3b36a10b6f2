"""The key project list (重点项目清单): published admission criteria, projects from application to
admission, periodic evaluation and exit, and the public showcase switch.

- Criteria sets are versioned: city administrators draft a set, edit it while it is a draft and
  publish it; publishing retires the previous set in the same transaction (a partial unique
  constraint keeps one published set). A project is judged by the set in force when it was
  submitted, and each review keeps the results it found.
- A project is prepared by the cooperative's staff or by a member of its owner organization,
  submitted, and reviewed by another staff member (never its creator or submitter: the review's
  check constraint backs this). Admission needs every criterion met and debits the project's GEP
  consumption to its division's balance in the same transaction, under the project's row lock
  and then the balance row lock, so two admissions cannot spend the same credit; a shortfall
  refuses the admission and nothing is written.
- Admitted projects are evaluated periodically and exit for a documented reason.

Locks: the project row first, then (through gep_balance) the division's balance row.
"""

import datetime
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Organization, OrganizationKind, Party, PartyKind
from directory.permissions import Capability, can, memberships_with
from directory.selectors import users_with
from directory.services import notify
from finance.models import NEGATIVE_BEHAVIOUR, EcoBehaviourRecord, Loan
from finance.services.scoring import current_score
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from tmcs.ids import IdentifierError, normalize_phone
from transactions._money import parse_money
from transactions.services.contracts import add_months

from ..models import (
    CriteriaSet,
    CriteriaStatus,
    Criterion,
    CriterionCheck,
    EvaluationOutcome,
    ExitReason,
    GepBalanceEntry,
    GepEntryKind,
    KeyProject,
    ProjectCategory,
    ProjectConsumption,
    ProjectEvaluation,
    ProjectReview,
    ProjectStatus,
    ReviewDecision,
)
from . import gep_balance
from .common import check_transition, next_number, require, required_text

S = ProjectStatus
TRANSITIONS = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.ADMITTED, S.REJECTED, S.DRAFT, S.WITHDRAWN},  # DRAFT = returned for changes
    S.ADMITTED: {S.EXITED},
    S.REJECTED: set(),
    S.EXITED: set(),
    S.WITHDRAWN: set(),
}
DECISION_TARGET = {
    ReviewDecision.ADMIT: S.ADMITTED,
    ReviewDecision.REJECT: S.REJECTED,
    ReviewDecision.RETURN: S.DRAFT,
}
# Asset statuses that mean "registered" (确权登记 completed and the asset still live).
REGISTERED_STATUSES = frozenset(
    {
        AssetStatus.REGISTERED,
        AssetStatus.COLLECTED,
        AssetStatus.LISTED,
        AssetStatus.LEASED,
        AssetStatus.PLEDGED,
    }
)
NO_THRESHOLD = frozenset(
    {CriterionCheck.MANUAL, CriterionCheck.GEP_BALANCE, CriterionCheck.ASSETS_REGISTERED}
)
# Banks and guarantors finance projects; they do not own them.
OWNER_KINDS = frozenset(
    {
        OrganizationKind.ENTERPRISE,
        OrganizationKind.VILLAGE_COLLECTIVE,
        OrganizationKind.STRONG_VILLAGE_COMPANY,
        OrganizationKind.COOPERATIVE,
        OrganizationKind.GOVERNMENT,
    }
)
EDITABLE_FIELDS = frozenset(
    {
        "division",
        "name",
        "category",
        "summary",
        "description",
        "total_investment",
        "social_capital",
        "expected_gep_gain",
        "planned_start",
        "planned_end",
        "assets",
        "packages",
        "loans",
        "consumptions",
        "showcase_contact",
    }
)
_LINK_FIELDS = frozenset({"assets", "packages", "loans", "consumptions"})
FRACTION_PLACES = Decimal("0.000001")
VIOLATION_NOTE_MIN = 10  # a violation exit without a recorded violation must cite the penalty document
CENT = Decimal("0.01")


# --- small helpers ------------------------------------------------------------------------------


def _invalid(field, message, code="invalid"):
    return DomainError(message, code=code, fields={field: [str(message)]})


class _Errors:
    """Collects field errors so that a form shows every problem at once."""

    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        self.fields.setdefault(field, []).append(str(message))

    def run(self, field, check):
        """Call `check()`; a DomainError becomes this field's error (None returned)."""
        try:
            return check()
        except DomainError as exc:
            self.add(field, exc.detail)
            return None

    def raise_if_any(self):
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise DomainError(first, code="invalid", fields=self.fields)


def _label(status):
    return ProjectStatus(status).label


def _transition(project, target):
    check_transition(TRANSITIONS, project.status, target, _label)
    project.status = target


def _money_text(value):
    return f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):,}"


def _percent(value):
    # Rounded down, so that a share just under a threshold never reads as reaching it.
    return f"{(Decimal(value) * 100).quantize(CENT, ROUND_DOWN)}%"


def business_date(value, field):
    """A real date, not in the future (services refuse future business dates)."""
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise _invalid(field, _("请填写有效的日期。"))
    if value > timezone.localdate():
        raise _invalid(field, _("日期不能晚于今天。"))
    return value


def county_scope(division):
    """The code prefix of the county (县级) containing `division`, or of the division itself when
    it is higher than a county: where an owner may place projects and where linked loans may be
    handled."""
    if division.level in ("province", "city"):
        return division.prefix
    return division.code[:6]


_MOBILE_CANDIDATE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}(?!\d)")


def looks_like_mobile(text):
    """Does `text` contain a mainland mobile number? Candidates are confirmed with the platform's
    phone validator (tmcs.ids.normalize_phone), which tells mobiles from landlines."""
    for match in _MOBILE_CANDIDATE.finditer(text or ""):
        raw = match.group()
        if raw.startswith("86"):
            raw = "+" + raw
        try:
            number = normalize_phone(raw)
        except IdentifierError:
            continue
        if not number.startswith("0"):
            return True
    return False


def clean_contact(value, field="showcase_contact"):
    contact = (value or "").strip()
    if len(contact) > 100:
        raise _invalid(field, _("联系方式不能超过 100 个字。"))
    if looks_like_mobile(contact):
        raise _invalid(
            field,
            _("招商联系方式将公开展示，请填写单位固定电话或邮箱，不要填写个人手机号码。"),
            code="personal_phone",
        )
    return contact


def owner_party(organization):
    """The owner's party without creating one (a read must not write); None if it has none."""
    return Party.objects.filter(kind=PartyKind.ORGANIZATION, organization_id=organization.pk).first()


def owner_memberships(actor, organization):
    """The actor's memberships that let them apply for projects of `organization`."""
    return [
        m for m in memberships_with(actor, Capability.APPLY_PROJECTS) if m.organization_id == organization.pk
    ]


def is_owner_member(actor, project):
    return bool(owner_memberships(actor, project.owner))


def may_manage(actor, project):
    return can(actor, Capability.MANAGE_PROJECTS, division=project.division)


def may_prepare(actor, project):
    """The creator, a member of the owner or staff of the division."""
    return project.created_by_id == actor.pk or is_owner_member(actor, project) or may_manage(actor, project)


def may_edit(actor, project):
    return project.status == S.DRAFT and may_prepare(actor, project)


def submitter_of(project):
    """Who submitted the project for review this time: the user in the audit context of the
    history event that moved it to SUBMITTED (services always set one); the creator otherwise."""
    from directory.models import User

    submission = None
    # Newest first: the submission is the oldest event of the latest run of SUBMITTED snapshots.
    for event in project.events.select_related("pgh_context").order_by("-pgh_id")[:50]:
        if event.status != S.SUBMITTED:
            break
        submission = event
    context = submission.pgh_context if submission is not None else None
    user_id = (context.metadata or {}).get("user") if context is not None else None
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return user or project.created_by


def _owner_recipients(project, actor):
    users = users_with(Capability.APPLY_PROJECTS, organization=project.owner)
    if project.created_by not in users:
        users.append(project.created_by)
    return [user for user in users if user.pk != actor.pk]


def _notify_after_commit(recipients, title, project, body="", level="info"):
    recipients = list({user.pk: user for user in recipients if user is not None}.values())
    if not recipients:
        return
    text = body or f"{project.number} {project.name}"
    link = project.get_absolute_url()
    transaction.on_commit(
        lambda: notify(recipients=recipients, title=title, body=text, link=link, level=level)
    )


# --- criteria sets ------------------------------------------------------------------------------


def _clean_threshold(method, raw, position):
    field = f"criteria.{position}.threshold"
    if method in NO_THRESHOLD:
        return None
    if raw is None or str(raw).strip() == "":
        raise _invalid(field, _("第 %(n)s 条标准须填写阈值。") % {"n": position + 1})
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise _invalid(field, _("第 %(n)s 条标准的阈值不是有效数字。") % {"n": position + 1})
    if method == CriterionCheck.MIN_INVESTMENT and value <= 0:
        raise _invalid(field, _("第 %(n)s 条标准：总投资门槛须大于 0 元。") % {"n": position + 1})
    if method == CriterionCheck.MIN_SOCIAL_CAPITAL_SHARE and not Decimal(0) < value <= Decimal(1):
        raise _invalid(
            field,
            _("第 %(n)s 条标准：社会资本占比须大于 0 且不超过 1（如 0.3 表示 30%%）。") % {"n": position + 1},
        )
    if method == CriterionCheck.OWNER_NO_VIOLATIONS and (
        value != value.to_integral() or not 1 <= value <= 120
    ):
        raise _invalid(field, _("第 %(n)s 条标准：回溯月数须为 1 至 120 的整数。") % {"n": position + 1})
    if method == CriterionCheck.OWNER_MIN_CREDIT and not Decimal(0) <= value <= Decimal(1000):
        raise _invalid(field, _("第 %(n)s 条标准：信用分门槛须在 0 至 1000 之间。") % {"n": position + 1})
    if value != value.quantize(FRACTION_PLACES):
        raise _invalid(field, _("第 %(n)s 条标准：阈值最多保留六位小数。") % {"n": position + 1})
    return value


def clean_criteria(criteria):
    """[{code, title, description, method, threshold, applies_to_evaluation}] checked: at least one,
    codes unique, a known method, a threshold where the method needs one."""
    criteria = list(criteria or [])
    if not criteria:
        raise _invalid("criteria", _("请至少填写一条准入标准。"))
    cleaned, codes = [], set()
    for position, row in enumerate(criteria):
        code = required_text(
            row.get("code"),
            f"criteria.{position}.code",
            _("第 %(n)s 条标准须填写编号。") % {"n": position + 1},
            20,
        )
        if code.upper() in codes:
            raise _invalid(f"criteria.{position}.code", _("标准编号“%(code)s”重复。") % {"code": code})
        codes.add(code.upper())
        title = required_text(
            row.get("title"),
            f"criteria.{position}.title",
            _("第 %(n)s 条标准须填写内容。") % {"n": position + 1},
            200,
        )
        method = row.get("method")
        if method not in CriterionCheck.values:
            raise _invalid(
                f"criteria.{position}.method", _("第 %(n)s 条标准的评定方式无效。") % {"n": position + 1}
            )
        cleaned.append(
            {
                "code": code,
                "title": title,
                "description": (row.get("description") or "").strip(),
                "method": method,
                "threshold": _clean_threshold(method, row.get("threshold"), position),
                "applies_to_evaluation": bool(row.get("applies_to_evaluation", True)),
            }
        )
    return cleaned


def _clean_set_header(name, version, source):
    errors = _Errors()
    name = errors.run("name", lambda: required_text(name, "name", _("请填写标准名称。"), 100))
    version = errors.run("version", lambda: required_text(version, "version", _("请填写版本号。"), 20))
    source = errors.run("source", lambda: required_text(source, "source", _("请填写制定依据。"), 300))
    errors.raise_if_any()
    return name, version, source


def _check_version_free(version, exclude=None):
    taken = CriteriaSet.objects.filter(version__iexact=version)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ConflictError(
            _("版本号“%(version)s”已被使用。") % {"version": version},
            code="duplicate",
            fields={"version": [_("该版本号已被使用。")]},
        )


def _write_criteria(criteria_set, cleaned):
    Criterion.objects.bulk_create(
        [Criterion(criteria_set=criteria_set, order=n, **row) for n, row in enumerate(cleaned, 1)]
    )


@transaction.atomic
def create_criteria_set(*, actor, name, version, source, criteria):
    """A draft set of admission criteria (city administrators)."""
    require(actor, Capability.MANAGE_OVERSIGHT)
    name, version, source = _clean_set_header(name, version, source)
    cleaned = clean_criteria(criteria)
    _check_version_free(version)
    with audit_context(user=actor, reason=f"create criteria set {version}"):
        criteria_set = CriteriaSet.objects.create(name=name, version=version, source=source, created_by=actor)
        _write_criteria(criteria_set, cleaned)
    return criteria_set


@transaction.atomic
def update_criteria_set(*, actor, criteria_set, name, version, source, criteria):
    """Change a draft set; its criteria are replaced. A published or retired set never changes."""
    require(actor, Capability.MANAGE_OVERSIGHT)
    criteria_set = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if criteria_set.status != CriteriaStatus.DRAFT:
        raise ConflictError(_("只有草稿状态的准入标准可以修改；已发布的标准请另建新版本。"), code="not_draft")
    name, version, source = _clean_set_header(name, version, source)
    cleaned = clean_criteria(criteria)
    _check_version_free(version, exclude=criteria_set)
    with audit_context(user=actor, reason=f"edit criteria set {version}"):
        criteria_set.name, criteria_set.version, criteria_set.source = name, version, source
        criteria_set.save(update_fields=["name", "version", "source"])
        criteria_set.criteria.all().delete()
        _write_criteria(criteria_set, cleaned)
    return criteria_set


@transaction.atomic
def publish_criteria_set(*, actor, criteria_set):
    """Publish a draft set; the set in force until now is retired in the same transaction."""
    require(actor, Capability.MANAGE_OVERSIGHT)
    criteria_set = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if criteria_set.status != CriteriaStatus.DRAFT:
        raise ConflictError(_("只有草稿状态的准入标准可以发布。"), code="not_draft")
    if not criteria_set.criteria.exists():
        raise DomainError(_("准入标准没有任何条目，不能发布。"), code="empty_criteria_set")
    with audit_context(user=actor, reason=f"publish criteria set {criteria_set.version}"):
        for previous in CriteriaSet.objects.select_for_update().filter(status=CriteriaStatus.PUBLISHED):
            previous.status = CriteriaStatus.RETIRED
            previous.save(update_fields=["status"])
        criteria_set.status = CriteriaStatus.PUBLISHED
        criteria_set.published_at = timezone.now()
        criteria_set.published_by = actor
        try:
            with transaction.atomic():
                criteria_set.save(update_fields=["status", "published_at", "published_by"])
        except IntegrityError:  # another set was published at the same moment
            raise ConflictError(
                _("另一套准入标准刚刚发布，请刷新后重试。"), code="publish_conflict"
            ) from None
    return criteria_set


def published_criteria_set():
    return CriteriaSet.objects.filter(status=CriteriaStatus.PUBLISHED).first()


# --- criteria evaluation ------------------------------------------------------------------------


def project_assets(project):
    """Assets the project touches: linked ones and those whose GEP it consumes."""
    consumed = project.consumptions.values("asset_id")
    return (
        (Asset.objects.filter(pk__in=project.assets.values("pk")) | Asset.objects.filter(pk__in=consumed))
        .select_related("division")
        .defer("geometry", "division__boundary")
        .order_by("code")
    )


def gep_preview(project, on=None):
    """The reviewer's GEP check (gep_balance.preview_admission), or {"consumes": False} for a
    project that consumes nothing, or {"error": …} when it cannot be measured (no rule)."""
    if not project.consumptions.exists():
        return {"consumes": False, "shortfall": "0.00", "debit": "0.00", "missing_valuations": []}
    try:
        return {"consumes": True, **gep_balance.preview_admission(project, on)}
    except DomainError as exc:
        return {"consumes": True, "error": str(exc.detail), "code": exc.code}


def _check_min_investment(project, threshold, **_context):
    met = project.total_investment >= threshold
    return met, _("计划总投资 %(value)s 元，标准为不低于 %(threshold)s 元。") % {
        "value": _money_text(project.total_investment),
        "threshold": _money_text(threshold),
    }


def _check_social_share(project, threshold, **_context):
    share = project.social_capital / project.total_investment
    return share >= threshold, _(
        "社会资本 %(capital)s 元，占计划总投资 %(total)s 元的 %(share)s，标准为不低于 %(threshold)s。"
    ) % {
        "capital": _money_text(project.social_capital),
        "total": _money_text(project.total_investment),
        "share": _percent(share),
        "threshold": _percent(threshold),
    }


def _check_gep_balance(project, threshold, *, stage, preview, **_context):
    if stage == "evaluation":
        return _check_gep_balance_after_admission(project)
    if not preview.get("consumes"):
        return True, _("项目不占用 GEP，无需占补平衡。")
    if preview.get("error"):
        return False, preview["error"]
    if preview["missing_valuations"]:
        return False, _("以下资源尚无已采纳的 GEP 核算结果，无法测算占用：%(codes)s。") % {
            "codes": "、".join(preview["missing_valuations"])
        }
    shortfall = Decimal(preview["shortfall"])
    numbers = {
        "division": preview["division"],
        "before": _money_text(preview["balance_before"]),
        "debit": _money_text(preview["debit"]),
        "after": _money_text(preview["balance_after"]),
        "shortfall": _money_text(shortfall),
    }
    if shortfall > 0:
        return False, _(
            "%(division)s GEP 占补平衡余额 %(before)s 元，本项目占用 %(debit)s 元，入库后余额 %(after)s 元，缺口 %(shortfall)s 元。"
        ) % numbers
    return True, _(
        "%(division)s GEP 占补平衡余额 %(before)s 元，本项目占用 %(debit)s 元，入库后余额 %(after)s 元。"
    ) % numbers


def _check_gep_balance_after_admission(project):
    """At an evaluation the debit is already posted: the division's balance must not be negative."""
    try:
        division = gep_balance.balancing_division(project.division)
    except DomainError as exc:
        if not project.consumptions.exists():
            return True, _("项目不占用 GEP，无需占补平衡。")
        return False, str(exc.detail)
    balance = gep_balance.balance_of(division)
    debited = -sum(
        (e.amount for e in GepBalanceEntry.objects.filter(project=project, kind=GepEntryKind.PROJECT_DEBIT)),
        Decimal("0.00"),
    )
    numbers = {"division": division.name, "balance": _money_text(balance), "debit": _money_text(debited)}
    if balance < 0:
        return False, _(
            "%(division)s GEP 占补平衡余额为 %(balance)s 元（已为负）；本项目入库时占用 %(debit)s 元。"
        ) % numbers
    return True, _(
        "%(division)s GEP 占补平衡余额 %(balance)s 元，未出现负数；本项目入库时占用 %(debit)s 元。"
    ) % numbers


def _check_assets_registered(project, threshold, **_context):
    assets = list(project_assets(project))
    if not assets:
        return True, _("项目未关联资源资产。")
    unregistered = [a for a in assets if a.status not in REGISTERED_STATUSES]
    outside = [a for a in assets if not project.division.contains(a.division)]
    problems = []
    if unregistered:
        problems.append(
            _("未完成确权登记或已注销：%(list)s")
            % {"list": "、".join(f"{a.code}（{a.get_status_display()}）" for a in unregistered)}
        )
    if outside:
        problems.append(
            _("不在项目所在区划 %(division)s 内：%(list)s")
            % {
                "division": project.division.name,
                "list": "、".join(f"{a.code}（{a.division.name}）" for a in outside),
            }
        )
    if problems:
        return False, _("关联资源 %(n)s 项，") % {"n": len(assets)} + "；".join(problems) + "。"
    return True, _("关联资源 %(n)s 项均已确权登记，且均在 %(division)s 内。") % {
        "n": len(assets),
        "division": project.division.name,
    }


def _check_owner_violations(project, threshold, *, as_of, **_context):
    months = int(threshold)
    since = add_months(as_of, -months)
    party = owner_party(project.owner)
    records = (
        list(
            EcoBehaviourRecord.objects.filter(
                party=party,
                category__in=NEGATIVE_BEHAVIOUR,
                revoked_at__isnull=True,
                occurred_on__gte=since,
                occurred_on__lte=as_of,
            ).order_by("occurred_on", "pk")
        )
        if party is not None
        else []
    )
    numbers = {"months": months, "since": since.isoformat(), "as_of": as_of.isoformat()}
    if not records:
        return True, _("业主近 %(months)s 个月（%(since)s 至 %(as_of)s）无生态违规记录。") % numbers
    listed = "、".join(f"{r.occurred_on.isoformat()} {r.get_category_display()}" for r in records)
    return False, _("业主近 %(months)s 个月（%(since)s 至 %(as_of)s）有 %(n)s 条生态违规记录：%(list)s。") % {
        **numbers,
        "n": len(records),
        "list": listed,
    }


def _check_owner_credit(project, threshold, **_context):
    party = owner_party(project.owner)
    score = current_score(party) if party is not None else None
    if score is None:
        return False, _("业主尚无生态信用评分，标准为不低于 %(threshold)s 分。") % {
            "threshold": threshold.normalize()
        }
    return score.score >= threshold, _(
        "业主生态信用分 %(score)s 分（%(grade)s 级），标准为不低于 %(threshold)s 分。"
    ) % {
        "score": score.score,
        "grade": score.grade,
        "threshold": threshold.normalize(),
    }


CHECKS = {
    CriterionCheck.MIN_INVESTMENT: _check_min_investment,
    CriterionCheck.MIN_SOCIAL_CAPITAL_SHARE: _check_social_share,
    CriterionCheck.GEP_BALANCE: _check_gep_balance,
    CriterionCheck.ASSETS_REGISTERED: _check_assets_registered,
    CriterionCheck.OWNER_NO_VIOLATIONS: _check_owner_violations,
    CriterionCheck.OWNER_MIN_CREDIT: _check_owner_credit,
}


def clean_manual(manual, criteria):
    """{code: {"met": bool, "reason": str}} for the manual criteria among `criteria`. Accepts that
    mapping or a list of {code, met, reason}; refuses unknown codes, marks on automatic
    criteria and marks without a reason."""
    if not manual:
        return {}
    if isinstance(manual, dict):
        rows = [
            {"code": code, **(value if isinstance(value, dict) else {})} for code, value in manual.items()
        ]
    else:
        rows = list(manual)
    by_code = {c.code.upper(): c for c in criteria}
    cleaned = {}
    for row in rows:
        code = str(row.get("code") or "").strip()
        criterion = by_code.get(code.upper())
        if criterion is None:
            raise _invalid("manual", _("没有编号为“%(code)s”的标准。") % {"code": code})
        if criterion.method != CriterionCheck.MANUAL:
            raise _invalid("manual", _("“%(code)s”由平台自动评定，不能人工评定。") % {"code": criterion.code})
        met = row.get("met")
        if met is None or met == "":
            continue  # left unmarked
        if not isinstance(met, bool):
            raise _invalid("manual", _("“%(code)s”的评定结果须为符合或不符合。") % {"code": criterion.code})
        reason = (row.get("reason") or "").strip()
        if not reason:
            raise _invalid("manual", _("请填写“%(code)s”的评定理由。") % {"code": criterion.code})
        if len(reason) > 300:
            raise _invalid("manual", _("“%(code)s”的评定理由不能超过 300 个字。") % {"code": criterion.code})
        cleaned[criterion.code] = {"met": met, "reason": reason}
    return cleaned


def evaluate_criteria(project, criteria_set, manual=None, *, stage="admission", as_of=None, preview=None):
    """[{code, title, method, threshold, automatic, met, detail}] for each criterion of the set (at
    an evaluation: those flagged applies_to_evaluation). `met` is None for a manual criterion the
    reviewer has not marked. Nothing is written."""
    criteria = list(criteria_set.criteria.all().order_by("order", "pk"))
    if stage == "evaluation":
        criteria = [c for c in criteria if c.applies_to_evaluation]
    marks = clean_manual(manual, criteria)
    as_of = as_of or timezone.localdate()
    needs_preview = any(c.method == CriterionCheck.GEP_BALANCE for c in criteria) and stage == "admission"
    if preview is None and needs_preview:
        preview = gep_preview(project, as_of)
    results = []
    for criterion in criteria:
        if criterion.method == CriterionCheck.MANUAL:
            mark = marks.get(criterion.code)
            met = mark["met"] if mark else None
            detail = mark["reason"] if mark else _("待审核人评定。")
        else:
            met, detail = CHECKS[criterion.method](
                project, criterion.threshold, stage=stage, as_of=as_of, preview=preview or {}
            )
        results.append(
            {
                "code": criterion.code,
                "title": criterion.title,
                "method": criterion.method,
                "threshold": None if criterion.threshold is None else str(criterion.threshold.normalize()),
                "automatic": criterion.method != CriterionCheck.MANUAL,
                "met": met,
                "detail": str(detail),
            }
        )
    return results


# --- projects: input ----------------------------------------------------------------------------


def _clean_fraction(value, position):
    field = "consumptions"
    try:
        fraction = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        fraction = None
    if fraction is None or not fraction.is_finite():
        raise _invalid(field, _("第 %(n)s 项 GEP 占用的比例不是有效数字。") % {"n": position + 1})
    if not Decimal(0) < fraction <= Decimal(1):
        raise _invalid(field, _("第 %(n)s 项 GEP 占用的比例须大于 0 且不超过 1。") % {"n": position + 1})
    if fraction != fraction.quantize(FRACTION_PLACES):
        raise _invalid(field, _("第 %(n)s 项 GEP 占用的比例最多保留六位小数。") % {"n": position + 1})
    return fraction


def _in_subtree(division, things, field, label):
    outside = [t for t in things if not division.contains(t.division)]
    if outside:
        raise _invalid(
            field,
            _("%(label)s不在项目所在区划 %(division)s 内：%(list)s")
            % {"label": label, "division": division.name, "list": "、".join(str(t) for t in outside)},
        )


def _clean_links(values, owner):
    """Assets, packages and loans within reach of the project, and its consumptions.

    - assets and packages lie in the project's division (subtree);
    - a loan must finance this project: borrowed by the owner or secured by a pledge on a right
      of one of the project's assets, and handled in the project's county (a county-level owner
      borrows at the county, so the project's own village would be too narrow).
    """
    division = values["division"]
    errors = _Errors()
    consumptions = []
    for position, row in enumerate(values.get("consumptions") or ()):
        if isinstance(row, dict):
            asset, fraction, note = row.get("asset"), row.get("fraction"), row.get("note")
        else:
            asset, fraction, note = (*row, "")[:3]
        if not isinstance(asset, Asset):
            errors.add("consumptions", _("第 %(n)s 项 GEP 占用未选择资源。") % {"n": position + 1})
            continue
        fraction = errors.run("consumptions", lambda f=fraction, p=position: _clean_fraction(f, p))
        note = errors.run(
            "consumptions",
            lambda n=note, p=position: required_text(
                n,
                "consumptions",
                _("请说明第 %(n)s 项占用的方式（如林地转为建设用地）。") % {"n": p + 1},
                300,
            ),
        )
        consumptions.append((asset, fraction, note))
    seen = [asset.pk for asset, _f, _n in consumptions]
    if len(seen) != len(set(seen)):
        errors.add("consumptions", _("同一资源只能填写一项 GEP 占用。"))
    assets = list(
        {a.pk: a for a in [*(values.get("assets") or ()), *(a for a, _f, _n in consumptions)]}.values()
    )
    errors.run("assets", lambda: _in_subtree(division, assets, "assets", _("关联资源")))
    retired = [a for a in assets if a.status == AssetStatus.RETIRED]
    if retired:
        errors.add(
            "assets", _("已注销的资源不能关联：%(list)s") % {"list": "、".join(a.code for a in retired)}
        )
    packages = list(values.get("packages") or ())
    errors.run("packages", lambda: _in_subtree(division, packages, "packages", _("资源包")))
    loans = list(values.get("loans") or ())
    if loans:
        _check_loans(errors, loans, owner, division, assets)
    errors.raise_if_any()
    return assets, packages, loans, consumptions


def _check_loans(errors, loans, owner, division, assets):
    county = county_scope(division)
    party = owner_party(owner)
    asset_ids = {a.pk for a in assets}
    secured = set(
        Loan.objects.filter(
            pk__in=[loan.pk for loan in loans],
            application__pledges__right__asset_id__in=asset_ids,
        ).values_list("pk", flat=True)
    )
    for loan in loans:
        if not loan.division.code.startswith(county):
            errors.add("loans", _("贷款 %(number)s 不在项目所在县（市、区）受理。") % {"number": loan.number})
        elif not (party is not None and loan.borrower_id == party.pk) and loan.pk not in secured:
            errors.add(
                "loans",
                _("贷款 %(number)s 既不是项目业主的借款，也没有以项目关联资源质押，不能关联。")
                % {"number": loan.number},
            )


def _clean_values(values):
    """Every scalar field of a project checked (all problems at once)."""
    errors = _Errors()
    cleaned = {}
    if values.get("division") is None:
        errors.add("division", _("请选择项目所在区划。"))
    cleaned["division"] = values.get("division")
    cleaned["name"] = errors.run(
        "name", lambda: required_text(values.get("name"), "name", _("请填写项目名称。"), 200)
    )
    if values.get("category") not in ProjectCategory.values:
        errors.add("category", _("请选择项目类型。"))
    cleaned["category"] = values.get("category")
    cleaned["summary"] = errors.run(
        "summary", lambda: required_text(values.get("summary"), "summary", _("请填写项目简介。"), 500)
    )
    description = (values.get("description") or "").strip()
    if len(description) > 5000:
        errors.add("description", _("建设内容不能超过 5000 个字。"))
    cleaned["description"] = description
    total = errors.run(
        "total_investment", lambda: parse_money(values.get("total_investment"), "total_investment")
    )
    social = errors.run(
        "social_capital",
        lambda: parse_money(values.get("social_capital", "0"), "social_capital", allow_zero=True),
    )
    if total is not None and social is not None and social > total:
        errors.add("social_capital", _("社会资本不能超过计划总投资。"))
    cleaned["total_investment"], cleaned["social_capital"] = total, social
    cleaned["expected_gep_gain"] = errors.run(
        "expected_gep_gain",
        lambda: parse_money(values.get("expected_gep_gain", "0"), "expected_gep_gain", allow_zero=True),
    )
    start, end = values.get("planned_start"), values.get("planned_end")
    for field, day in (("planned_start", start), ("planned_end", end)):
        if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
            errors.add(field, _("请填写有效的日期。"))
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end <= start:
        errors.add("planned_end", _("计划完工日期须晚于计划开工日期。"))
    cleaned["planned_start"], cleaned["planned_end"] = start, end
    cleaned["showcase_contact"] = errors.run(
        "showcase_contact", lambda: clean_contact(values.get("showcase_contact"))
    )
    errors.raise_if_any()
    return cleaned


def _require_preparer(actor, owner, division):
    """Staff prepare projects in their divisions; an owner's member for their own organization,
    in its county."""
    if can(actor, Capability.MANAGE_PROJECTS, division=division):
        return
    if owner_memberships(actor, owner):
        if not division.code.startswith(county_scope(owner.division)):
            raise _invalid(
                "division",
                _("项目须位于%(owner)s所在的县（市、区）内。") % {"owner": owner.name},
                code="outside_owner_county",
            )
        return
    raise PermissionDeniedError(_("您没有权限为该业主或在该区划填报重点项目。"))


def _clean_owner(owner):
    if not isinstance(owner, Organization):
        raise _invalid("owner", _("请选择项目业主。"))
    if not owner.is_active or owner.kind not in OWNER_KINDS:
        raise _invalid("owner", _("项目业主须为在册的企业、村集体、强村公司、合作社或政府部门。"))
    return owner


def _save_links(project, assets, packages, loans, consumptions):
    project.assets.set(assets)
    project.packages.set(packages)
    project.loans.set(loans)
    project.consumptions.all().delete()
    ProjectConsumption.objects.bulk_create(
        [
            ProjectConsumption(project=project, asset=asset, fraction=fraction, note=note)
            for asset, fraction, note in consumptions
        ]
    )


# --- projects: lifecycle ------------------------------------------------------------------------


@transaction.atomic
def create_project(
    *,
    actor,
    owner,
    division,
    name,
    category,
    summary,
    description,
    total_investment,
    social_capital,
    expected_gep_gain,
    planned_start,
    planned_end,
    assets=(),
    packages=(),
    loans=(),
    consumptions=(),
    showcase_contact="",
):
    """A DRAFT project. consumptions = [(asset, fraction 0–1, note)]; consumed assets are linked too."""
    owner = _clean_owner(owner)
    if division is None:
        raise _invalid("division", _("请选择项目所在区划。"))
    _require_preparer(actor, owner, division)
    values = _clean_values(
        {
            "division": division,
            "name": name,
            "category": category,
            "summary": summary,
            "description": description,
            "total_investment": total_investment,
            "social_capital": social_capital,
            "expected_gep_gain": expected_gep_gain,
            "planned_start": planned_start,
            "planned_end": planned_end,
            "showcase_contact": showcase_contact,
        }
    )
    links = _clean_links(
        {
            "division": division,
            "assets": assets,
            "packages": packages,
            "loans": loans,
            "consumptions": consumptions,
        },
        owner,
    )
    with audit_context(user=actor, reason=f"create key project {values['name']}"):
        project = KeyProject.objects.create(number=next_number("XM"), owner=owner, created_by=actor, **values)
        _save_links(project, *links)
    return project


def _lock(project):
    return (
        KeyProject.objects.select_for_update(of=("self",))
        .select_related("owner__division", "division", "created_by", "criteria_set")
        .get(pk=project.pk)
    )


@transaction.atomic
def update_project(*, actor, project, **changes):
    """Change a DRAFT (or returned) project: its creator, a member of its owner or staff of its
    division. Link lists (assets, packages, loans, consumptions) given replace the old ones."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(_("不能修改这些字段：%(f)s") % {"f": "、".join(sorted(unknown))}, code="invalid")
    project = _lock(project)
    if project.status != S.DRAFT:
        raise ConflictError(
            _("只有草稿或已退回的项目可以修改（当前状态：%(s)s）。") % {"s": project.get_status_display()},
            code="not_editable",
        )
    if not may_edit(actor, project):
        raise PermissionDeniedError(_("您没有权限修改该项目。"))
    current = {field: getattr(project, field) for field in EDITABLE_FIELDS if field not in _LINK_FIELDS}
    current.update(
        assets=list(project.assets.all()),
        packages=list(project.packages.all()),
        loans=list(project.loans.all()),
        consumptions=[(c.asset, c.fraction, c.note) for c in project.consumptions.select_related("asset")],
    )
    merged = {**current, **changes}
    if merged["division"] is None:
        raise _invalid("division", _("请选择项目所在区划。"))
    if "division" in changes and changes["division"] != project.division:
        _require_preparer(actor, project.owner, merged["division"])
    values = _clean_values({k: v for k, v in merged.items() if k not in _LINK_FIELDS})
    links = _clean_links({**merged, "division": values["division"]}, project.owner)
    with audit_context(user=actor, reason=f"edit key project {project.number}"):
        for field, value in values.items():
            setattr(project, field, value)
        project.save()
        _save_links(project, *links)
    return project


@transaction.atomic
def submit_project(*, actor, project):
    """DRAFT → SUBMITTED under the published criteria set (refused when none is published)."""
    project = _lock(project)
    if not may_prepare(actor, project):
        raise PermissionDeniedError(_("您没有权限提交该项目。"))
    check_transition(TRANSITIONS, project.status, S.SUBMITTED, _label)
    criteria_set = published_criteria_set()
    if criteria_set is None:
        raise ConflictError(_("尚未发布重点项目准入标准，暂不能提交审核。"), code="no_published_criteria")
    with audit_context(user=actor, reason=f"submit key project {project.number}"):
        _transition(project, S.SUBMITTED)
        project.criteria_set = criteria_set
        project.submitted_at = timezone.now()
        project.save(update_fields=["status", "criteria_set", "submitted_at"])
    reviewers = [
        u for u in users_with(Capability.MANAGE_PROJECTS, division=project.division) if u.pk != actor.pk
    ]
    _notify_after_commit(reviewers, _("新的重点项目待审核"), project)
    return project


@transaction.atomic
def review_project(*, actor, project, decision, note, manual=None):
    """Admit, reject or return a SUBMITTED project (a staff member other than its creator and
    submitter). Admission needs every criterion met (manual ones marked by the reviewer) and
    posts the GEP debit in this transaction: a shortfall (ConflictError gep_shortfall with
    fields["shortfall"]) leaves nothing written."""
    project = _lock(project)
    require(actor, Capability.MANAGE_PROJECTS, project.division)
    if decision not in ReviewDecision.values:
        raise _invalid("decision", _("请选择审核结论。"))
    target = DECISION_TARGET[ReviewDecision(decision)]
    check_transition(TRANSITIONS, project.status, target, _label)
    preparer = submitter_of(project)
    if actor.pk in (project.created_by_id, preparer.pk):
        raise PermissionDeniedError(
            _("双人复核：项目的填报人或提交人不能审核该项目，请由另一位工作人员审核。"), code="maker_checker"
        )
    note = (note or "").strip()
    if decision != ReviewDecision.ADMIT:
        note = required_text(note, "note", _("不予入库或退回修改时请填写审核意见。"), 1000)
    elif len(note) > 1000:
        raise _invalid("note", _("审核意见不能超过 1000 个字。"))
    today = timezone.localdate()
    preview = gep_preview(project, today)
    results = evaluate_criteria(project, project.criteria_set, manual, preview=preview, as_of=today)
    if decision == ReviewDecision.ADMIT:
        _require_all_met(results)
    reason = f"review key project {project.number}: {decision}"
    if decision == ReviewDecision.ADMIT:
        with audit_context(user=actor, reason=reason):
            # Under the balance lock; refuses with the shortfall before anything here is saved.
            entry = gep_balance.post_project_debit(actor=actor, project=project, occurred_on=today)
        if entry is not None:  # store the balance as posted under the lock, not as previewed before it
            preview = {
                **preview,
                "balance_before": str(entry.balance_after - entry.amount),
                "debit": str(-entry.amount),
                "balance_after": str(entry.balance_after),
                "shortfall": "0.00",
                "entry": entry.number,
            }
        project.admitted_on = today
    # A context of its own: the debit's nested context leaves its reason behind.
    with audit_context(user=actor, reason=reason):
        _transition(project, target)
        project.save(update_fields=["status", "admitted_on"])
        review = ProjectReview.objects.create(
            project=project,
            criteria_set=project.criteria_set,
            decision=decision,
            note=note,
            criteria_results=results,
            gep_check=preview,
            prepared_by=preparer,
            reviewer=actor,
        )
    titles = {
        ReviewDecision.ADMIT: _("重点项目已入库"),
        ReviewDecision.REJECT: _("重点项目未通过审核"),
        ReviewDecision.RETURN: _("重点项目被退回修改"),
    }
    body = f"{project.number} {project.name}" + (f"：{note}" if note else "")
    level = "success" if decision == ReviewDecision.ADMIT else "warning"
    _notify_after_commit(
        _owner_recipients(project, actor), titles[ReviewDecision(decision)], project, body, level
    )
    return review


def _require_all_met(results):
    unmarked = [r["code"] for r in results if not r["automatic"] and r["met"] is None]
    if unmarked:
        raise DomainError(
            _("请先评定人工评定的标准：%(codes)s。") % {"codes": "、".join(unmarked)},
            code="manual_criteria_unmarked",
            fields={"manual": unmarked},
        )
    # A GEP shortfall is left to the debit itself: it is measured again under the balance lock.
    failed = [r for r in results if r["met"] is False and r["method"] != CriterionCheck.GEP_BALANCE]
    if failed:
        raise DomainError(
            _("以下准入标准未达到，不能入库：%(list)s")
            % {"list": "；".join(f"{r['code']} {r['title']}（{r['detail']}）" for r in failed)},
            code="criteria_not_met",
            fields={"criteria": [r["code"] for r in failed]},
        )


def gep_change(project, period_end):
    """The GEP (all categories) of the project's assets in the latest accepted run before the
    admission year (the baseline) and in the latest accepted run from the admission year up to
    the period's end, per asset and in total."""
    admitted_year = project.admitted_on.year
    lines, baseline_total, current_total, incomplete = [], Decimal("0"), Decimal("0"), []
    for asset in project_assets(project):
        base_run = gep_balance.latest_accepted_run(asset, before_year=admitted_year)
        current_run = gep_balance.latest_accepted_run(asset, before_year=period_end.year + 1)
        if current_run is not None and current_run.year < admitted_year:
            current_run = None  # nothing accounted since admission yet
        base = gep_balance.asset_gep(asset, gep_balance.ALL_CATEGORIES, base_run)[0] if base_run else None
        current = (
            gep_balance.asset_gep(asset, gep_balance.ALL_CATEGORIES, current_run)[0] if current_run else None
        )
        if base is None or current is None:
            incomplete.append(asset.code)
        else:
            baseline_total += base
            current_total += current
        lines.append(
            {
                "asset": asset.code,
                "asset_id": asset.pk,
                "baseline_run": base_run.pk if base_run else None,
                "baseline_year": base_run.year if base_run else None,
                "baseline": None if base is None else str(base),
                "current_run": current_run.pk if current_run else None,
                "current_year": current_run.year if current_run else None,
                "current": None if current is None else str(current),
                "change": None if base is None or current is None else str(current - base),
            }
        )
    return {
        "admitted_year": admitted_year,
        "baseline": str(baseline_total),
        "current": str(current_total),
        "change": str(current_total - baseline_total),
        "incomplete": incomplete,
        "assets": lines,
    }


@transaction.atomic
def evaluate_project(
    *,
    actor,
    project,
    period_start,
    period_end,
    investment_to_date,
    progress_note,
    jobs_created,
    outcome,
    note,
    manual=None,
):
    """A periodic evaluation of an ADMITTED project (staff of its division). The criteria flagged
    for evaluation are checked again; an outcome of GOOD or PASS is refused while any of them
    fails."""
    project = _lock(project)
    require(actor, Capability.MANAGE_PROJECTS, project.division)
    if project.status != S.ADMITTED:
        raise ConflictError(_("只有已入库的项目可以评价。"), code="not_admitted")
    errors = _Errors()
    for field, day in (("period_start", period_start), ("period_end", period_end)):
        errors.run(field, lambda d=day, f=field: business_date(d, f))
    errors.raise_if_any()
    if period_end <= period_start:
        raise _invalid("period_end", _("评价期止须晚于评价期起。"))
    if period_end <= project.admitted_on:
        raise _invalid("period_end", _("评价期须在入库日期（%(d)s）之后结束。") % {"d": project.admitted_on})
    investment = errors.run(
        "investment_to_date",
        lambda: parse_money(investment_to_date, "investment_to_date", allow_zero=True),
    )
    if (
        isinstance(jobs_created, bool)
        or not isinstance(jobs_created, int)
        or not 0 <= jobs_created <= 1_000_000
    ):
        errors.add("jobs_created", _("带动就业人数须为不小于 0 的整数。"))
    progress_note = errors.run(
        "progress_note",
        lambda: required_text(progress_note, "progress_note", _("请填写项目进展情况。"), 5000),
    )
    note = errors.run("note", lambda: required_text(note, "note", _("请填写评价意见。"), 1000))
    if outcome not in EvaluationOutcome.values:
        errors.add("outcome", _("请选择评价结论。"))
    errors.raise_if_any()
    if ProjectEvaluation.objects.filter(project=project, period_end=period_end).exists():
        raise ConflictError(
            _("该项目已有截至 %(d)s 的评价。") % {"d": period_end},
            code="duplicate",
            fields={"period_end": [_("该评价期已评价。")]},
        )
    results = evaluate_criteria(project, project.criteria_set, manual, stage="evaluation", as_of=period_end)
    failed = [r for r in results if r["met"] is False]
    if outcome in (EvaluationOutcome.GOOD, EvaluationOutcome.PASS) and failed:
        message = _("以下标准未达到，评价结论不能为“良好”或“合格”：%(list)s") % {
            "list": "；".join(f"{r['code']} {r['title']}（{r['detail']}）" for r in failed)
        }
        raise DomainError(message, code="outcome_conflicts_with_criteria", fields={"outcome": [message]})
    with audit_context(user=actor, reason=f"evaluate key project {project.number} to {period_end}"):
        evaluation = ProjectEvaluation.objects.create(
            project=project,
            period_start=period_start,
            period_end=period_end,
            investment_to_date=investment,
            progress_note=progress_note,
            jobs_created=jobs_created,
            gep_change=gep_change(project, period_end),
            criteria_results=results,
            outcome=outcome,
            note=note,
            evaluator=actor,
        )
    _notify_after_commit(
        _owner_recipients(project, actor),
        _("重点项目定期评价：%(outcome)s") % {"outcome": evaluation.get_outcome_display()},
        project,
        level="warning" if outcome == EvaluationOutcome.FAIL else "info",
    )
    return evaluation


def latest_evaluation(project):
    return ProjectEvaluation.objects.filter(project=project).order_by("-period_end", "-pk").first()


def owner_violations_since(project, since):
    party = owner_party(project.owner)
    if party is None:
        return []
    return list(
        EcoBehaviourRecord.objects.filter(
            party=party, category__in=NEGATIVE_BEHAVIOUR, revoked_at__isnull=True, occurred_on__gte=since
        ).order_by("occurred_on", "pk")
    )


def _check_exit_rule(project, reason, note):
    """Each exit reason needs its evidence (a refusal says what is missing)."""
    if reason == ExitReason.COMPLETED:
        evaluation = latest_evaluation(project)
        if evaluation is None or evaluation.investment_to_date < project.total_investment:
            done = evaluation.investment_to_date if evaluation else Decimal("0.00")
            raise ConflictError(
                _("建成达效退库须最近一次评价的累计完成投资（%(done)s 元）达到计划总投资（%(total)s 元）。")
                % {"done": _money_text(done), "total": _money_text(project.total_investment)},
                code="exit_rule_not_met",
                fields={"reason": [_("累计完成投资未达到计划总投资。")]},
            )
    elif reason == ExitReason.FAILED_CRITERIA:
        evaluation = latest_evaluation(project)
        if evaluation is None or evaluation.outcome != EvaluationOutcome.FAIL:
            raise ConflictError(
                _("因不再符合入库标准退库，须最近一次定期评价结论为“不合格”。"),
                code="exit_rule_not_met",
                fields={"reason": [_("最近一次评价不是“不合格”。")]},
            )
    elif (
        reason == ExitReason.VIOLATION
        and not owner_violations_since(project, project.admitted_on)
        and len(note) < VIOLATION_NOTE_MIN
    ):
        raise DomainError(
            _(
                "业主入库后没有生态违规记录；因违法违规退库请在说明中写明处罚决定书文号等依据（不少于 %(n)s 个字）。"
            )
            % {"n": VIOLATION_NOTE_MIN},
            code="exit_rule_not_met",
            fields={"note": [_("请写明处罚依据。")]},
        )


@transaction.atomic
def exit_project(*, actor, project, reason, note, exited_on):
    """ADMITTED → EXITED for a documented reason; the showcase is switched off."""
    project = _lock(project)
    if reason not in ExitReason.values:
        raise _invalid("reason", _("请选择退库原因。"))
    staff = may_manage(actor, project)
    if not staff and not (reason == ExitReason.OWNER_REQUEST and is_owner_member(actor, project)):
        raise PermissionDeniedError(_("您没有权限办理该项目退库。"))
    check_transition(TRANSITIONS, project.status, S.EXITED, _label)
    note = required_text(note, "note", _("请填写退库说明。"), 500)
    exited_on = business_date(exited_on, "exited_on")
    if exited_on < project.admitted_on:
        raise _invalid("exited_on", _("退库日期不能早于入库日期（%(d)s）。") % {"d": project.admitted_on})
    _check_exit_rule(project, reason, note)
    with audit_context(user=actor, reason=f"exit key project {project.number}: {reason}"):
        _transition(project, S.EXITED)
        project.exited_on, project.exit_reason, project.exit_note = exited_on, reason, note
        project.showcase = False
        project.save(update_fields=["status", "exited_on", "exit_reason", "exit_note", "showcase"])
    _notify_after_commit(
        _owner_recipients(project, actor),
        _("重点项目已退库：%(reason)s") % {"reason": ExitReason(reason).label},
        project,
        f"{project.number} {project.name}：{note}",
        "warning",
    )
    return project


@transaction.atomic
def withdraw_project(*, actor, project, reason):
    """The creator or the owner withdraws a DRAFT or SUBMITTED project (the reason is kept in
    the project's history)."""
    project = _lock(project)
    if project.created_by_id != actor.pk and not is_owner_member(actor, project):
        raise PermissionDeniedError(_("只有项目填报人或项目业主可以撤回。"))
    check_transition(TRANSITIONS, project.status, S.WITHDRAWN, _label)
    reason = required_text(reason, "reason", _("请填写撤回原因。"), 300)
    was_submitted = project.status == S.SUBMITTED
    with audit_context(user=actor, reason=f"withdraw key project {project.number}: {reason}"):
        _transition(project, S.WITHDRAWN)
        project.showcase = False
        project.save(update_fields=["status", "showcase"])
    if was_submitted:
        reviewers = users_with(Capability.MANAGE_PROJECTS, division=project.division)
        _notify_after_commit(
            [u for u in reviewers if u.pk != actor.pk],
            _("重点项目已撤回"),
            project,
            f"{project.number}：{reason}",
        )
    return project


@transaction.atomic
def set_showcase(*, actor, project, showcase, contact=""):
    """Show an ADMITTED project on the public investment page (or take it off). The contact is
    public: a unit's landline or e-mail, never a personal mobile number."""
    project = _lock(project)
    if not may_manage(actor, project) and not is_owner_member(actor, project):
        raise PermissionDeniedError(_("您没有权限设置该项目的招商展示。"))
    if project.status != S.ADMITTED:
        raise ConflictError(_("只有已入库的项目可以在招商推介页展示。"), code="not_admitted")
    contact = clean_contact(contact if contact else project.showcase_contact, "contact")
    if showcase and not contact:
        raise _invalid("contact", _("请填写公开的招商联系方式（单位电话或邮箱）。"))
    with audit_context(user=actor, reason=f"showcase key project {project.number}: {bool(showcase)}"):
        project.showcase = bool(showcase)
        project.showcase_contact = contact
        project.save(update_fields=["showcase", "showcase_contact"])
    return project
