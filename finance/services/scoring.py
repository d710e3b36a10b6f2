"""Eco-credit (生态信用): eco-behaviour records, versioned scorecards and each party's score.

A score is computed from the platform's own records (finance.scoring_factors measures each
factor); every factor keeps its value, its points and a sentence explaining both. A party has one
current score: a recompute whose inputs digest is unchanged writes nothing, otherwise the old
score is flipped to history and a new one written, under a lock on the party's row (two
recomputes of one party never both write).

    points  = clamp(value × points_per_unit, min_points, max_points)       per factor
    score   = clamp(base_score + Σ points, min_score, max_score)
    grade   = first band whose floor the score reaches (GRADE_BANDS), else C
    line    = min(line_cap, max(0, score − line_floor_score) × line_per_point), rounded down to 100 元

Grade bands (the platform's setting, TMCS_CREDIT_GRADE_BANDS; Lishui's tiers are [unverified],
eco-finance.md §7): ≥ 850 AAA, ≥ 750 AA, ≥ 650 A, ≥ 550 B, otherwise C.
"""

import datetime
import hashlib
import json
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision, OrganizationKind, Party, PartyKind
from directory.permissions import Capability, can
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from ..models import (
    NEGATIVE_BEHAVIOUR,
    CreditGrade,
    CreditScore,
    EcoBehaviourCategory,
    EcoBehaviourRecord,
    FactorKey,
    Scorecard,
    ScorecardFactor,
    ScoreSubject,
)
from ..scoring_factors import measure, number
from .common import require, required_text, schedule_score_recompute

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
MAX_RECORD_POINTS = Decimal("100")  # the largest item of the 雾溪 list is +30 (national pilot)
EARLIEST_RECORD = datetime.date(2000, 1, 1)
DEFAULT_GRADE_BANDS = (
    (850, CreditGrade.AAA),
    (750, CreditGrade.AA),
    (650, CreditGrade.A),
    (550, CreditGrade.B),
)
COLLECTIVE_KINDS = (OrganizationKind.VILLAGE_COLLECTIVE, OrganizationKind.STRONG_VILLAGE_COMPANY)
# Institutions that run or fund the platform are not scored by "recompute all".
NOT_SCORED_KINDS = (
    OrganizationKind.BANK,
    OrganizationKind.COOPERATIVE,
    OrganizationKind.GUARANTOR,
    OrganizationKind.GOVERNMENT,
    OrganizationKind.INSURER,
)


def _invalid(field, message, code="invalid"):
    return DomainError(message, code=code, fields={field: [str(message)]})


def party_division(party):
    """Where a party lives or is registered (a person's or an organization's division)."""
    return party.person.division if party.kind == PartyKind.PERSON else party.organization.division


def subject_for(party):
    """Which scorecard applies: persons → 农户, village collectives and strong-village companies →
    村集体, every other organization → 企业."""
    if party.kind == PartyKind.PERSON:
        return ScoreSubject.HOUSEHOLD
    if party.organization.kind in COLLECTIVE_KINDS:
        return ScoreSubject.COLLECTIVE
    return ScoreSubject.ENTERPRISE


# --- eco-behaviour records --------------------------------------------------------------------


def _points(points, category):
    try:
        value = points if isinstance(points, Decimal) else Decimal(str(points).strip())
    except (InvalidOperation, ValueError):
        raise _invalid("points", _("请输入数字。")) from None
    if not value.is_finite() or value != value.quantize(CENT):
        raise _invalid("points", _("分值最多保留 2 位小数。"))
    if value == 0:
        raise _invalid("points", _("分值不能为 0。"))
    if abs(value) > MAX_RECORD_POINTS:
        raise _invalid(
            "points", _("单条记录的分值不能超过 ±%(max)s 分。") % {"max": number(MAX_RECORD_POINTS)}
        )
    negative = category in NEGATIVE_BEHAVIOUR
    if negative and value > 0:
        raise _invalid("points", _("“%(category)s”是扣分项，分值须为负数。") % {"category": category.label})
    if not negative and value < 0:
        raise _invalid("points", _("“%(category)s”是加分项，分值须为正数。") % {"category": category.label})
    return value


@transaction.atomic
def record_eco_behaviour(
    *, actor, party, division, category, points, occurred_on, description, source_document
):
    """Record one act from the 生态行为加减分清单 where it happened; the party's score is then
    recomputed in the background. Staff and village clerks record within their reach, for
    parties of their reach."""
    if not isinstance(party, Party):
        raise _invalid("party", _("请选择主体。"))
    if not isinstance(division, AdministrativeDivision):
        raise _invalid("division", _("请选择区划。"))
    require(actor, Capability.RECORD_ECO_BEHAVIOUR, division)
    party = Party.objects.select_related("person__division", "organization__division").get(pk=party.pk)
    if not can(actor, Capability.RECORD_ECO_BEHAVIOUR, division=party_division(party)):
        raise PermissionDeniedError(_("该主体不在您的管辖范围内。"))
    if category not in EcoBehaviourCategory.values:
        raise _invalid("category", _("请选择有效的类别。"))
    category = EcoBehaviourCategory(category)
    value = _points(points, category)
    if not isinstance(occurred_on, datetime.date) or isinstance(occurred_on, datetime.datetime):
        raise _invalid("occurred_on", _("请填写发生日期。"))
    if occurred_on > timezone.localdate():
        raise _invalid("occurred_on", _("发生日期不能晚于今天。"))
    if occurred_on < EARLIEST_RECORD:
        raise _invalid("occurred_on", _("发生日期不能早于 2000 年。"))
    description = required_text(description, "description", _("请填写情况说明。"), max_length=300)
    source_document = required_text(
        source_document, "source_document", _("请填写依据（如村评议记录、执法文书编号）。"), max_length=200
    )
    with audit_context(user=actor, reason=f"record eco behaviour {category} {value} of party {party.pk}"):
        record = EcoBehaviourRecord.objects.create(
            party=party,
            division=division,
            category=category,
            points=value,
            occurred_on=occurred_on,
            description=description,
            source_document=source_document,
            recorded_by=actor,
        )
    schedule_score_recompute(party.pk)
    return record


@transaction.atomic
def revoke_eco_behaviour(*, actor, record, reason):
    """A record found wrong is revoked (never deleted): it stops counting, its history stays."""
    record = (
        EcoBehaviourRecord.objects.select_for_update(of=("self",))
        .select_related("division")
        .get(pk=record.pk)
    )
    require(actor, Capability.RECORD_ECO_BEHAVIOUR, record.division)
    reason = required_text(reason, "reason", _("请填写撤销原因。"), max_length=200)
    if record.revoked_at is not None:
        revoked_at = timezone.localtime(record.revoked_at).strftime("%Y-%m-%d %H:%M")
        raise ConflictError(_("该记录已于 %(at)s 撤销。") % {"at": revoked_at}, code="revoked")
    with audit_context(user=actor, reason=f"revoke eco behaviour {record.pk}: {reason}"):
        record.revoked_at = timezone.now()
        record.revoke_reason = reason
        record.save(update_fields=["revoked_at", "revoke_reason"])
    schedule_score_recompute(record.party_id)
    return record


# --- scorecards -------------------------------------------------------------------------------


def _decimal(field, value, *, places=2):
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise _invalid(field, _("请输入数字。")) from None
    if not result.is_finite() or result != result.quantize(Decimal(1).scaleb(-places)):
        raise _invalid(field, _("最多保留 %(n)s 位小数。") % {"n": places})
    return result


def _clean_factors(factors):
    if not factors:
        raise _invalid("factors", _("评分卡须至少包含一个因子。"))
    cleaned, seen = [], set()
    for item in factors:
        key = item.get("key")
        if key not in FactorKey.values:
            raise _invalid("factors", _("“%(key)s”不是有效的评分因子。") % {"key": key})
        if key in seen:
            raise _invalid("factors", _("因子“%(key)s”重复。") % {"key": FactorKey(key).label})
        seen.add(key)
        ppu = _decimal("factors", item.get("points_per_unit"), places=4)
        low = _decimal("factors", item.get("min_points"))
        high = _decimal("factors", item.get("max_points"))
        if low > high:
            raise _invalid(
                "factors", _("因子“%(key)s”的最低分值不能高于最高分值。") % {"key": FactorKey(key).label}
            )
        if abs(ppu) >= Decimal("100000") or max(abs(low), abs(high)) >= Decimal("100000"):
            raise _invalid("factors", _("因子“%(key)s”的分值过大。") % {"key": FactorKey(key).label})
        note = (item.get("note") or "").strip()
        if len(note) > 200:
            raise _invalid("factors", _("因子说明不能超过 200 个字。"))
        cleaned.append(
            {"key": key, "points_per_unit": ppu, "min_points": low, "max_points": high, "note": note}
        )
    return cleaned


@transaction.atomic
def create_scorecard(
    *,
    actor,
    subject,
    name,
    factors,
    base_score=Decimal("600"),
    min_score=Decimal("300"),
    max_score=Decimal("1000"),
    line_floor_score=Decimal("600"),
    line_per_point=Decimal("1000"),
    line_cap=Decimal("300000"),
    source="",
    activate=True,
):
    """A new version of the subject's scorecard (a used scorecard is never changed). When
    `activate`, it replaces the active one; scores already made keep pointing at their version."""
    require(actor, Capability.MANAGE_SCORECARDS)
    if subject not in ScoreSubject.values:
        raise _invalid("subject", _("请选择评价对象。"))
    name = required_text(name, "name", _("请填写评分卡名称。"), max_length=100)
    source = (source or "").strip()
    if len(source) > 300:
        raise _invalid("source", _("依据不能超过 300 个字。"))
    cleaned = _clean_factors(factors)
    base = _decimal("base_score", base_score)
    low, high = _decimal("min_score", min_score), _decimal("max_score", max_score)
    if not Decimal("0") <= low < high <= Decimal("10000"):
        raise _invalid("max_score", _("分数范围须满足 0 ≤ 最低分 < 最高分 ≤ 10000。"))
    if not low <= base <= high:
        raise _invalid("base_score", _("基础分须在最低分与最高分之间。"))
    floor = _decimal("line_floor_score", line_floor_score)
    if not low <= floor <= high:
        raise _invalid("line_floor_score", _("授信起点分须在最低分与最高分之间。"))
    per_point, cap = _decimal("line_per_point", line_per_point), _decimal("line_cap", line_cap)
    if per_point < 0:
        raise _invalid("line_per_point", _("每分授信额度不能为负数。"))
    if not Decimal("0") <= cap <= Decimal("100000000"):
        raise _invalid("line_cap", _("授信上限须在 0 至 1 亿元之间。"))
    # Lock the subject's scorecards: the version number and the one active card are decided here.
    existing = list(Scorecard.objects.select_for_update().filter(subject=subject).order_by("pk"))
    version = (max((card.version for card in existing), default=0)) + 1
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"create scorecard {subject} v{version}"):
            if activate:
                Scorecard.objects.filter(subject=subject, is_active=True).update(is_active=False)
            scorecard = Scorecard.objects.create(
                subject=subject,
                version=version,
                name=name,
                base_score=base,
                min_score=low,
                max_score=high,
                line_floor_score=floor,
                line_per_point=per_point,
                line_cap=cap,
                source=source,
                is_active=bool(activate),
                created_by=actor,
            )
            ScorecardFactor.objects.bulk_create(
                [ScorecardFactor(scorecard=scorecard, **factor) for factor in cleaned]
            )
    except IntegrityError:
        # A first scorecard of a subject has no row to lock: a concurrent twin loses here.
        raise ConflictError(_("评分卡正被他人同时修改，请重试。"), code="concurrent") from None
    return scorecard


def active_scorecard(subject):
    return Scorecard.objects.filter(subject=subject, is_active=True).prefetch_related("factors").first()


SOURCE = (
    "eco-finance.md §7：雾溪乡生态行为加减分清单（垃圾分类每次+1；县/市/省/国家级农业标准化试点"
    "+6/8/10/30；门前三包不到位−2；违法排污、违规使用化肥农药−3）[R11,R12]；墨脱积分折算授信"
    "（1 分=10 元）[R32]；%(line)s。因子权重、等级档位为平台设定[未经核实]。"
)
DEFAULT_CARDS = {
    ScoreSubject.HOUSEHOLD: {
        "name": "农户生态信用评分卡",
        "line_per_point": Decimal("1000"),
        "line_cap": Decimal("300000"),
        "line_source": "云和“普惠·两山贷”信用贷款≤30 万元[R11]",
        "factors": [
            ("eco_behaviour", "2", "0", "150", "每 1 分生态行为积分计 2 分，最多 +150"),
            ("violations", "10", "-200", "0", "每扣 1 分计 −10 分（违法排污一次 −30），最多 −200"),
            ("gep_contribution", "3", "0", "90", "按份额计 GEP 每万元计 3 分，最多 +90"),
            ("collection_history", "15", "0", "60", "每份流转收储合同计 15 分，最多 +60"),
            ("repayment_record", "2", "-200", "100", "净按期还款每期计 2 分"),
        ],
    },
    ScoreSubject.COLLECTIVE: {
        "name": "村集体生态信用评分卡",
        "line_per_point": Decimal("5000"),
        "line_cap": Decimal("1000000"),
        "line_source": "云和“普惠·两山贷”担保贷款≤100 万元[R11]",
        "factors": [
            ("eco_behaviour", "1", "0", "100", "每 1 分生态行为积分计 1 分，最多 +100"),
            ("violations", "10", "-200", "0", "每扣 1 分计 −10 分，最多 −200"),
            ("gep_contribution", "1", "0", "150", "按份额计 GEP 每万元计 1 分，最多 +150"),
            ("collection_history", "10", "0", "80", "每份流转收储合同计 10 分，最多 +80"),
            ("contract_history", "10", "-100", "60", "净履约合同每份计 10 分"),
            ("repayment_record", "2", "-200", "100", "净按期还款每期计 2 分"),
        ],
    },
    ScoreSubject.ENTERPRISE: {
        "name": "企业生态信用评分卡",
        "line_per_point": Decimal("10000"),
        "line_cap": Decimal("3000000"),
        "line_source": "浙江农担单户 10 万至 300 万元[R24]",
        "factors": [
            ("eco_behaviour", "1", "0", "80", "每 1 分生态行为积分计 1 分，最多 +80"),
            ("violations", "15", "-300", "0", "每扣 1 分计 −15 分，最多 −300"),
            ("gep_contribution", "1", "0", "100", "按份额计 GEP 每万元计 1 分，最多 +100"),
            ("contract_history", "20", "-200", "120", "净履约合同每份计 20 分"),
            ("repayment_record", "2", "-200", "100", "净按期还款每期计 2 分"),
        ],
    },
}


def default_scorecards(actor):
    """The three active scorecards the demo starts with (a subject that already has an active
    scorecard keeps it). Returns the scorecards created."""
    created = []
    for subject, card in DEFAULT_CARDS.items():
        if Scorecard.objects.filter(subject=subject, is_active=True).exists():
            continue
        created.append(
            create_scorecard(
                actor=actor,
                subject=subject,
                name=card["name"],
                factors=[
                    {"key": key, "points_per_unit": ppu, "min_points": low, "max_points": high, "note": note}
                    for key, ppu, low, high, note in card["factors"]
                ],
                line_per_point=card["line_per_point"],
                line_cap=card["line_cap"],
                source=SOURCE % {"line": card["line_source"]},
            )
        )
    return created


# --- scores -----------------------------------------------------------------------------------


def grade_bands():
    bands = getattr(settings, "TMCS_CREDIT_GRADE_BANDS", None) or DEFAULT_GRADE_BANDS
    return sorted(((Decimal(str(floor)), CreditGrade(grade)) for floor, grade in bands), reverse=True)


def grade_for(score):
    for floor, grade in grade_bands():
        if score >= floor:
            return grade
    return CreditGrade.C


def suggested_line(scorecard, score):
    """max(0, score − floor) × per point, capped, rounded down to whole hundreds of 元."""
    raw = max(Decimal("0"), score - scorecard.line_floor_score) * scorecard.line_per_point
    raw = min(raw, scorecard.line_cap)
    return ((raw / HUNDRED).to_integral_value(rounding=ROUND_FLOOR) * HUNDRED).quantize(CENT)


def _clamp(value, low, high):
    return min(max(value, low), high)


def _explain(factor, measured, raw, points):
    text = _("%(summary)s；按每%(unit)s %(ppu)s 分计 %(raw)s 分") % {
        "summary": measured.summary,
        "unit": measured.unit,
        "ppu": number(factor.points_per_unit),
        "raw": number(raw),
    }
    if raw > factor.max_points:
        text += _("，超过上限，按 %(cap)s 分计") % {"cap": number(factor.max_points)}
    elif raw < factor.min_points:
        text += _("，低于下限，按 %(floor)s 分计") % {"floor": number(factor.min_points)}
    sign = "+" if points > 0 else ""
    return text + _("；本项 %(points)s 分。") % {"points": f"{sign}{number(points)}"}


def compute_score(party, scorecard, *, as_of):
    """(factors, score, grade, line, digest) for the party under the scorecard, from today's records."""
    factors, canonical = [], []
    for factor in scorecard.factors.all():
        measured = measure(factor.key, party, as_of=as_of)
        raw = (measured.value * factor.points_per_unit).quantize(CENT, rounding=ROUND_HALF_UP)
        points = _clamp(raw, factor.min_points, factor.max_points)
        factors.append(
            {
                "key": factor.key,
                "label": str(FactorKey(factor.key).label),
                "value": str(measured.value),
                "unit": measured.unit,
                "points_per_unit": str(factor.points_per_unit),
                "min_points": str(factor.min_points),
                "max_points": str(factor.max_points),
                "points": str(points),
                "explanation": _explain(factor, measured, raw, points),
            }
        )
        canonical.append(
            {
                "key": factor.key,
                "rule": [str(factor.points_per_unit), str(factor.min_points), str(factor.max_points)],
                "value": str(measured.value),
                "inputs": measured.inputs,
            }
        )
    total = scorecard.base_score + sum((Decimal(f["points"]) for f in factors), Decimal("0"))
    score = _clamp(total, scorecard.min_score, scorecard.max_score).quantize(CENT)
    digest = inputs_digest(scorecard, canonical)
    return factors, score, grade_for(score), suggested_line(scorecard, score), digest


def inputs_digest(scorecard, canonical_factors):
    """sha256 over everything the score depends on, in a canonical JSON form."""
    document = {
        "scorecard": [
            scorecard.pk,
            scorecard.version,
            str(scorecard.base_score),
            str(scorecard.min_score),
            str(scorecard.max_score),
            str(scorecard.line_floor_score),
            str(scorecard.line_per_point),
            str(scorecard.line_cap),
        ],
        "bands": [[str(floor), str(grade)] for floor, grade in grade_bands()],
        "factors": canonical_factors,
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_score(party):
    return CreditScore.objects.filter(party=party, is_current=True).select_related("scorecard").first()


@transaction.atomic
def recompute_credit_score(party_id, *, as_of=None):
    """Compute the party's score again. Unchanged inputs → no new row, the current score is
    returned; no active scorecard for its subject → the current score (or None) is kept."""
    party = (
        Party.objects.select_for_update(of=("self",))
        .select_related("person", "organization")
        .filter(pk=party_id)
        .first()
    )
    if party is None:
        return None
    current = current_score(party)
    scorecard = active_scorecard(subject_for(party))
    if scorecard is None:
        return current
    # Explanations are stored text: always in the platform's language, whoever triggered the run.
    with translation.override(settings.LANGUAGE_CODE):
        factors, score, grade, line, digest = compute_score(
            party, scorecard, as_of=as_of or timezone.localdate()
        )
    if current is not None and current.inputs_digest == digest and current.scorecard_id == scorecard.pk:
        return current
    with audit_context(reason=f"recompute credit score of party {party.pk}"):
        if current is not None:
            CreditScore.objects.filter(pk=current.pk).update(is_current=False)
        return CreditScore.objects.create(
            party=party,
            scorecard=scorecard,
            score=score,
            grade=grade,
            suggested_line=line,
            factors=factors,
            inputs_digest=digest,
            is_current=True,
        )


def scored_party_ids():
    """Parties "recompute all" visits: persons and organizations that may borrow."""
    return (
        Party.objects.exclude(kind=PartyKind.ORGANIZATION, organization__kind__in=NOT_SCORED_KINDS)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def recompute_all_credit_scores(*, as_of=None, party_ids=None):
    """Recompute every scored party, each in its own transaction. Returns (visited, new scores)."""
    visited = written = 0
    for party_id in list(party_ids if party_ids is not None else scored_party_ids()):
        before = (
            CreditScore.objects.filter(party_id=party_id, is_current=True)
            .values_list("pk", flat=True)
            .first()
        )
        score = recompute_credit_score(party_id, as_of=as_of)
        visited += 1
        if score is not None and score.pk != before:
            written += 1
    return visited, written
