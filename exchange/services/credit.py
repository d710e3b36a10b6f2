"""Credit consents (信用信息授权) and consent-gated credit reports (信用报送) to guarantee and credit
platforms (浙江农担's 浙里担, banks' credit systems, government credit platforms).

Why so strict: supplying eco-credit evaluations and loan records to a third party may be
credit-information business (征信业务管理办法, PBoC Order 2021 No.4), and a person's data needs a
separate consent (PIPL Art. 29). So:
- a party's data leaves only under a consent that names the recipient, is valid on the day the
  data leaves and covers the scope (eco-credit score, loan performance); a party without any is
  withheld: no line, nothing of its data in any file (it is not even read), only counted;
- a line carries the minimum: party kind, name (a person's masked: 张*), an identifier token, the
  consents (number and 授权书 document number) and the data of the covered scopes;
- an export and its lines are append-only (trigger); creating it and every download of it are
  ExchangeLog rows (who, when, which format, how many parties).

Identifiers: an organization is named by its USCC. A person is never named by the ID number: the
token is the platform's keyed hash of it (HMAC-SHA256 over "national_id:<18-character ID>" with
the lookup key TMCS_LOOKUP_HASH_KEY). The recipient matches persons by the same keyed scheme
(with the key agreed with the cooperative) or by the consent document number it holds.
"""

import csv
import datetime
import io
import json
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl import Workbook

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Party, PartyKind
from directory.permissions import Capability, can
from finance.models import CreditScore, DelinquencySnapshot, Loan
from finance.services.loans import BUCKET_ORDER, position, with_schedule
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.selectors_units import public_name
from transactions.services.common import next_number, require, required_text

from ..models import (
    Channel,
    ConsentScope,
    CreditConsent,
    CreditExport,
    CreditExportLine,
    Dataset,
    Direction,
    ExchangeFormat,
)
from .logs import record_exchange

CONSENT_PREFIX = "XQ"  # 信用授权: XQ2026000001
EXPORT_PREFIX = "XB"  # 信用报送: XB2026000001
RECIPIENT_KINDS = (OrganizationKind.GUARANTOR, OrganizationKind.BANK, OrganizationKind.GOVERNMENT)
EXPORT_FORMATS = (ExchangeFormat.JSON, ExchangeFormat.CSV, ExchangeFormat.XLSX)
SCOPE_ORDER = [scope.value for scope in ConsentScope]
PERSON_ID_SCHEME = "national_id_hmac_sha256"
ORGANIZATION_ID_SCHEME = "uscc"
WORST_BUCKET_WINDOW = datetime.timedelta(days=365)  # "worst bucket in the last 12 months"
CONTENT_TYPES = {
    ExchangeFormat.JSON: "application/json",
    ExchangeFormat.CSV: "text/csv; charset=utf-8",
    ExchangeFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class FieldErrors:
    """Collects field errors so that a form shows every problem at once."""

    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        self.fields.setdefault(field, []).append(str(message))

    def raise_if_any(self):
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise DomainError(first, code="invalid", fields=self.fields)


def party_division(party):
    """Where a party lives: its person's or organization's division."""
    return party.person.division if party.kind == PartyKind.PERSON else party.organization.division


def _lock_party(party):
    if not isinstance(party, Party):
        raise DomainError(_("请选择授权主体。"), code="invalid", fields={"party": [_("请选择授权主体。")]})
    return (
        Party.objects.select_for_update(of=("self",))
        .select_related("person__division", "organization__division")
        .get(pk=party.pk)
    )


def _check_recipient(recipient, errors):
    if not isinstance(recipient, Organization):
        errors.add("recipient", _("请选择数据接收方。"))
    elif recipient.kind not in RECIPIENT_KINDS or not recipient.is_active:
        errors.add("recipient", _("数据接收方须为在用的担保机构、银行或政府部门（信用平台）。"))


def clean_scopes(scopes, errors):
    """Known scopes, each once, in a fixed order; at least one."""
    if isinstance(scopes, str) or not isinstance(scopes, list | tuple | set | frozenset):
        errors.add("scopes", _("请选择授权范围。"))
        return []
    values = [str(scope) for scope in scopes]
    unknown = [value for value in values if value not in SCOPE_ORDER]
    if unknown:
        errors.add("scopes", _("未知的授权范围：%(scopes)s。") % {"scopes": "、".join(unknown)})
        return []
    if not values:
        errors.add("scopes", _("请至少选择一项授权范围。"))
    return [scope for scope in SCOPE_ORDER if scope in values]


def _text(value, field, message, max_length, errors):
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if not value:
        errors.add(field, message)
    elif len(value) > max_length:
        errors.add(field, _("不能超过 %(n)s 个字。") % {"n": max_length})
    return value


def _date(value, field, errors):
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        errors.add(field, _("请填写有效的日期。"))
        return None
    return value


# --- consents ---------------------------------------------------------------------------------


@transaction.atomic
def record_consent(*, actor, party, recipient, purpose, scopes, document, signed_on, valid_from, valid_until):
    """Record a party's signed authorisation for `recipient` to receive its credit data.

    The party row is locked so that two clerks recording the same paper consent cannot both
    succeed: the second gets a 409."""
    party = _lock_party(party)
    require(actor, Capability.MANAGE_CONSENTS, party_division(party))
    errors = FieldErrors()
    _check_recipient(recipient, errors)
    scopes = clean_scopes(scopes, errors)
    purpose = _text(purpose, "purpose", _("请填写用途。"), 300, errors)
    document = _text(document, "document", _("请填写授权书编号或文件名称。"), 200, errors)
    signed_on = _date(signed_on, "signed_on", errors)
    valid_from = _date(valid_from, "valid_from", errors)
    valid_until = _date(valid_until, "valid_until", errors)
    if signed_on and signed_on > timezone.localdate():
        errors.add("signed_on", _("签署日期不能晚于今天。"))
    if signed_on and valid_from and valid_from < signed_on:
        errors.add("valid_from", _("有效期起不能早于签署日期。"))
    if valid_from and valid_until and valid_until < valid_from:
        errors.add("valid_until", _("有效期止不能早于有效期起。"))
    errors.raise_if_any()
    overlapping = CreditConsent.objects.filter(
        party=party,
        recipient=recipient,
        revoked_at__isnull=True,
        valid_from__lte=valid_until,
        valid_until__gte=valid_from,
    )
    duplicate = next((c for c in overlapping.order_by("pk") if sorted(c.scopes) == sorted(scopes)), None)
    if duplicate is not None:
        message = _("该主体对同一接收方、相同范围已有有效期重叠的授权：%(number)s。") % {
            "number": duplicate.number
        }
        raise ConflictError(message, code="duplicate_consent", fields={"valid_from": [message]})
    with audit_context(user=actor, reason=f"record credit consent of party {party.pk}"):
        return CreditConsent.objects.create(
            number=next_number(CONSENT_PREFIX),
            party=party,
            recipient=recipient,
            purpose=purpose,
            scopes=scopes,
            document=document,
            signed_on=signed_on,
            valid_from=valid_from,
            valid_until=valid_until,
            recorded_by=actor,
        )


@transaction.atomic
def revoke_consent(*, actor, consent, reason):
    """The party withdrew its consent: from now on it covers nothing. Final (no un-revoking); the
    exports made before stay as they were sent."""
    consent = (
        CreditConsent.objects.select_for_update(of=("self",))
        .select_related("party__person__division", "party__organization__division")
        .get(pk=consent.pk)
    )
    require(actor, Capability.MANAGE_CONSENTS, party_division(consent.party))
    reason = required_text(reason, "reason", _("请填写撤回原因。"), max_length=300)
    if consent.revoked_at is not None:
        raise ConflictError(
            _("授权 %(number)s 已于 %(at)s 撤回，撤回不可更改。")
            % {
                "number": consent.number,
                "at": timezone.localtime(consent.revoked_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="already_revoked",
        )
    consent.revoked_at = timezone.now()
    consent.revoked_by = actor
    consent.revoke_reason = reason
    with audit_context(user=actor, reason=f"revoke credit consent {consent.number}: {reason}"):
        consent.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return consent


def _covers(consent, on, scope):
    return (
        consent.revoked_at is None
        and consent.valid_from <= on <= consent.valid_until
        and scope in (consent.scopes or [])
    )


def _best(consents, on, scope):
    """Of several consents covering a scope, the one valid longest (then the newest): the same
    choice in Python as covering_consent makes in SQL."""
    covering = [c for c in consents if _covers(c, on, scope)]
    return max(covering, key=lambda c: (c.valid_until, c.pk)) if covering else None


def covering_consent(party, recipient, on, scope):
    """The consent that lets `party`'s data of `scope` go to `recipient` on day `on`, or None."""
    return (
        CreditConsent.objects.filter(
            party=party,
            recipient=recipient,
            revoked_at__isnull=True,
            valid_from__lte=on,
            valid_until__gte=on,
            scopes__contains=[str(scope)],
        )
        .order_by("-valid_until", "-pk")
        .first()
    )


# --- which parties an export covers -------------------------------------------------------------


def _day_end(on):
    """The first instant after day `on` in the platform's time zone (scores computed by then)."""
    tz = timezone.get_default_timezone()  # business days are Asia/Shanghai whoever asks
    return datetime.datetime.combine(on + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def parties_in_division(division):
    """Parties living in the division subtree, and parties who borrowed there."""
    prefix = division.prefix
    return (
        Q(person__division__code__startswith=prefix)
        | Q(organization__division__code__startswith=prefix)
        | Q(pk__in=Loan.objects.filter(division__code__startswith=prefix).values("borrower_id"))
    )


def parties_in_scope(division, as_of):
    """Ids of the parties an export of `division` on `as_of` is about: in the division (see
    parties_in_division) with an eco-credit score computed by `as_of` or a loan disbursed by then."""
    with_data = Q(pk__in=CreditScore.objects.filter(computed_at__lt=_day_end(as_of)).values("party_id")) | Q(
        pk__in=Loan.objects.filter(disbursed_on__lte=as_of).values("borrower_id")
    )
    return list(
        Party.objects.filter(parties_in_division(division))
        .filter(with_data)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _requested_ids(parties, division, as_of):
    if parties is None:
        return parties_in_scope(division, as_of)
    ids = []
    for party in parties:
        pk = party.pk if isinstance(party, Party) else party
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise DomainError(_("主体无效。"), code="invalid", fields={"parties": [_("主体无效。")]})
        if pk not in ids:
            ids.append(pk)
    inside = set(Party.objects.filter(parties_in_division(division), pk__in=ids).values_list("pk", flat=True))
    if len(inside) != len(ids):
        message = _("有 %(n)s 个主体不在所选区划内（或不存在）。") % {"n": len(ids) - len(inside)}
        raise DomainError(message, code="invalid", fields={"parties": [message]})
    return sorted(ids)


# --- what a line says ---------------------------------------------------------------------------


def _money(value):
    return str(Decimal(value).quantize(Decimal("0.01")))


def _identity(party):
    if party.kind == PartyKind.PERSON:
        return {
            "kind": PartyKind.PERSON.value,
            "name": public_name(party),
            "identifier_type": PERSON_ID_SCHEME,
            "identifier": party.person.national_id_hash,
        }
    uscc = party.organization.uscc or ""
    return {
        "kind": PartyKind.ORGANIZATION.value,
        "name": party.organization.name,
        "identifier_type": ORGANIZATION_ID_SCHEME if uscc else "",
        "identifier": uscc,
    }


def _eco_credit(score):
    if score is None:
        return None
    return {
        "score": str(score.score),
        "grade": score.grade,
        "scorecard": score.scorecard.name,
        "scorecard_version": score.scorecard.version,
        "computed_at": timezone.localtime(score.computed_at).isoformat(timespec="seconds"),
        "factors": [
            {
                "label": f.get("label", ""),
                "points": f.get("points", ""),
                "explanation": f.get("explanation", ""),
            }
            for f in score.factors or []
        ],
    }


def _latest_scores(party_ids, as_of):
    scores = (
        CreditScore.objects.filter(party_id__in=party_ids, computed_at__lt=_day_end(as_of))
        .select_related("scorecard")
        .order_by("party_id", "-computed_at", "-pk")
        .distinct("party_id")
    )
    return {score.party_id: score for score in scores}


def _installment_counts(loan, as_of):
    """(paid on time, late) among installments due by `as_of`: on time = settled on or before its
    due date; late = settled after it, or still unpaid after it."""
    on_time = late = 0
    for inst in loan.installments.all():
        if inst.due_date > as_of:
            continue
        settled = inst.settled_on is not None and inst.settled_on <= as_of
        if settled and inst.settled_on <= inst.due_date:
            on_time += 1
        elif settled or inst.due_date < as_of:
            late += 1
    return on_time, late


def _loans_by_party(party_ids, as_of):
    loans = (
        with_schedule(Loan.objects.filter(borrower_id__in=party_ids, disbursed_on__lte=as_of))
        .select_related("bank", "product")
        .order_by("borrower_id", "disbursed_on", "pk")
    )
    loans = list(loans)
    worst = defaultdict(int)
    snapshots = DelinquencySnapshot.objects.filter(
        loan__in=loans, as_of__gt=as_of - WORST_BUCKET_WINDOW, as_of__lte=as_of
    ).values_list("loan_id", "bucket")
    for loan_id, bucket in snapshots:
        worst[loan_id] = max(worst[loan_id], BUCKET_ORDER.index(bucket))
    grouped = defaultdict(list)
    for loan in loans:
        pos = position(loan, as_of)
        on_time, late = _installment_counts(loan, as_of)
        worst_rank = max(worst[loan.pk], BUCKET_ORDER.index(pos.bucket))
        grouped[loan.borrower_id].append(
            {
                "bank": loan.bank.name,
                "product_kind": str(loan.product.kind),
                "principal": _money(loan.principal),
                "disbursed_on": loan.disbursed_on.isoformat(),
                "maturity_date": loan.maturity_date.isoformat(),
                "outstanding_principal": _money(pos.outstanding_principal),
                "days_past_due": pos.days_past_due,
                "worst_bucket_12m": str(BUCKET_ORDER[worst_rank]),
                "classification": str(pos.classification),
                "status": str(loan.status),
                "installments_on_time": on_time,
                "installments_late": late,
            }
        )
    return grouped


def _plan(party_ids, consents, today):
    """{party_id: {scope: consent}} for parties with at least one covered scope (among the
    recipient's consents); parties with none are left out (withheld)."""
    by_party = defaultdict(list)
    for consent in consents:
        by_party[consent.party_id].append(consent)
    plan = {}
    for pk in party_ids:
        covered = {}
        for scope in SCOPE_ORDER:
            consent = _best(by_party.get(pk, ()), today, scope)
            if consent is not None:
                covered[scope] = consent
        if covered:
            plan[pk] = covered
    return plan


def _payload(party, covered, scores, loans):
    consents = {}
    for scope, consent in covered.items():
        entry = consents.setdefault(
            consent.pk,
            {
                "number": consent.number,
                "document": consent.document,
                "valid_until": consent.valid_until.isoformat(),
                "scopes": [],
            },
        )
        entry["scopes"].append(scope)
    payload = {"party": _identity(party), "consents": list(consents.values())}
    if ConsentScope.ECO_CREDIT in covered:
        payload[ConsentScope.ECO_CREDIT.value] = _eco_credit(scores.get(party.pk))
    if ConsentScope.LOAN_PERFORMANCE in covered:
        payload[ConsentScope.LOAN_PERFORMANCE.value] = {"loans": loans.get(party.pk, [])}
    return payload


# --- creating an export -------------------------------------------------------------------------


def _check_export_input(actor, recipient, division, as_of, fmt, channel):
    errors = FieldErrors()
    if not isinstance(division, AdministrativeDivision):
        errors.add("division", _("请选择区划。"))
    _check_recipient(recipient, errors)
    as_of = _date(as_of, "as_of", errors)
    if as_of and as_of > timezone.localdate():
        errors.add("as_of", _("数据截止日不能晚于今天。"))
    if fmt not in EXPORT_FORMATS:
        errors.add("format", _("格式须为 JSON、CSV 或 XLSX。"))
    if channel not in Channel.values:
        errors.add("channel", _("渠道无效。"))
    errors.raise_if_any()
    require(actor, Capability.MANAGE_CONSENTS, division)


@transaction.atomic
def create_credit_export(*, actor, recipient, division, as_of, parties=None, fmt="json", channel="web"):
    """A credit report for `recipient` about the parties of `division` (all with a score or a
    loan when `parties` is None), with data as of `as_of`.

    The consents used are locked until commit: a revocation racing with the export either lands
    first (and the party is withheld) or waits until the report has been sent."""
    started = timezone.now()
    _check_export_input(actor, recipient, division, as_of, fmt, channel)
    today = timezone.localdate()
    requested = _requested_ids(parties, division, as_of)
    consents = list(
        CreditConsent.objects.select_for_update()
        .filter(
            party_id__in=requested,
            recipient=recipient,
            revoked_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today,
        )
        .order_by("pk")
    )
    plan = _plan(requested, consents, today)
    exported = sorted(plan)
    # Only the consenting parties' data is read at all.
    eco_ids = [pk for pk in exported if ConsentScope.ECO_CREDIT in plan[pk]]
    loan_ids = [pk for pk in exported if ConsentScope.LOAN_PERFORMANCE in plan[pk]]
    scores = _latest_scores(eco_ids, as_of) if eco_ids else {}
    loans = _loans_by_party(loan_ids, as_of) if loan_ids else {}
    party_rows = Party.objects.select_related("person", "organization").in_bulk(exported)
    payloads = [_payload(party_rows[pk], plan[pk], scores, loans) for pk in exported]
    number = next_number(EXPORT_PREFIX)
    header = {
        "number": number,
        "dataset": Dataset.CREDIT_REPORT.value,
        "recipient": {"name": recipient.name, "uscc": recipient.uscc or ""},
        "division": {"code": division.code, "name": division.name},
        "as_of": as_of.isoformat(),
        "parties_requested": len(requested),
        "parties_exported": len(exported),
        "parties_withheld": len(requested) - len(exported),
    }
    content = _render(header, payloads, fmt)
    with audit_context(user=actor, reason=f"credit export {number} to {recipient.pk}"):
        log = record_exchange(
            actor=actor,
            direction=Direction.EXPORT,
            dataset=Dataset.CREDIT_REPORT,
            fmt=fmt,
            channel=channel,
            division=division,
            started_at=started,
            organization=recipient,
            file_name=_file_name(number, fmt),
            content=content,
            rows_total=len(exported),
            parameters={
                "credit_export": number,
                "as_of": as_of.isoformat(),
                "parties_requested": len(requested),
                "parties_withheld": len(requested) - len(exported),
                "explicit_parties": parties is not None,
            },
        )
        export = CreditExport.objects.create(
            number=number,
            recipient=recipient,
            division=division,
            as_of=as_of,
            log=log,
            parties_requested=len(requested),
            parties_exported=len(exported),
            parties_withheld=len(requested) - len(exported),
            created_by=actor,
        )
        CreditExportLine.objects.bulk_create(
            CreditExportLine(
                export=export,
                party_id=pk,
                consent=next(iter(plan[pk].values())),
                payload=payload,
            )
            for pk, payload in zip(exported, payloads, strict=True)
        )
    return export


# --- rendering ----------------------------------------------------------------------------------


def export_header(export):
    return {
        "number": export.number,
        "dataset": Dataset.CREDIT_REPORT.value,
        "recipient": {"name": export.recipient.name, "uscc": export.recipient.uscc or ""},
        "division": {"code": export.division.code, "name": export.division.name},
        "as_of": export.as_of.isoformat(),
        "parties_requested": export.parties_requested,
        "parties_exported": export.parties_exported,
        "parties_withheld": export.parties_withheld,
    }


def _file_name(number, fmt):
    return f"credit-report-{number}.{fmt}"


def render_credit_export(export, fmt):
    """(bytes, content type, file name) of an export in JSON, CSV or XLSX, from its stored lines
    only (so a withheld party cannot appear). JSON and CSV are byte-identical to what was logged
    when the export was created."""
    if fmt not in EXPORT_FORMATS:
        raise DomainError(
            _("格式须为 JSON、CSV 或 XLSX。"),
            code="invalid",
            fields={"format": [_("格式须为 JSON、CSV 或 XLSX。")]},
        )
    export = CreditExport.objects.select_related("recipient", "division").get(pk=export.pk)
    payloads = list(export.lines.order_by("party_id").values_list("payload", flat=True))
    content = _render(export_header(export), payloads, fmt)
    return content, CONTENT_TYPES[fmt], _file_name(export.number, fmt)


# (key, Chinese label) of the CSV/XLSX columns: one row per party × scope, and for loan
# performance one row per loan (a consenting party without loans still has one row).
COLUMNS = [
    ("export_number", gettext_noop("报送编号")),
    ("as_of", gettext_noop("数据截止日")),
    ("party_kind", gettext_noop("主体类型")),
    ("party_name", gettext_noop("主体名称")),
    ("identifier_type", gettext_noop("标识类型")),
    ("identifier", gettext_noop("主体标识")),
    ("scope", gettext_noop("授权范围")),
    ("consent_number", gettext_noop("授权编号")),
    ("consent_document", gettext_noop("授权书编号")),
    ("score", gettext_noop("生态信用分")),
    ("grade", gettext_noop("信用等级")),
    ("scorecard", gettext_noop("评分卡")),
    ("scorecard_version", gettext_noop("评分卡版本")),
    ("score_computed_at", gettext_noop("评分时间")),
    ("factor_explanations", gettext_noop("评分因子说明")),
    ("bank", gettext_noop("贷款银行")),
    ("product_kind", gettext_noop("产品类型")),
    ("principal", gettext_noop("本金（元）")),
    ("disbursed_on", gettext_noop("放款日")),
    ("maturity_date", gettext_noop("到期日")),
    ("outstanding_principal", gettext_noop("剩余本金（元）")),
    ("days_past_due", gettext_noop("逾期天数")),
    ("worst_bucket_12m", gettext_noop("近12个月最差逾期分档")),
    ("classification", gettext_noop("五级分类")),
    ("status", gettext_noop("贷款状态")),
    ("installments_on_time", gettext_noop("按期还款期数")),
    ("installments_late", gettext_noop("逾期还款期数")),
]
FORMULA_START = ("=", "+", "-", "@")


def _safe(value):
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _consent_of(payload, scope):
    return next((c for c in payload.get("consents", []) if scope in c.get("scopes", [])), {})


def _rows(header, payloads):
    for payload in payloads:
        party = payload.get("party", {})
        base = {
            "export_number": header["number"],
            "as_of": header["as_of"],
            "party_kind": party.get("kind", ""),
            "party_name": _safe(party.get("name", "")),
            "identifier_type": party.get("identifier_type", ""),
            "identifier": party.get("identifier", ""),
        }
        for scope in SCOPE_ORDER:
            if scope not in payload:
                continue
            consent = _consent_of(payload, scope)
            row = {
                **base,
                "scope": scope,
                "consent_number": consent.get("number", ""),
                "consent_document": _safe(consent.get("document", "")),
            }
            if scope == ConsentScope.ECO_CREDIT:
                eco = payload[scope] or {}
                row.update(
                    score=eco.get("score", ""),
                    grade=eco.get("grade", ""),
                    scorecard=_safe(eco.get("scorecard", "")),
                    scorecard_version=eco.get("scorecard_version", ""),
                    score_computed_at=eco.get("computed_at", ""),
                    factor_explanations=_safe(
                        " ".join(f.get("explanation", "") for f in eco.get("factors", []))
                    ),
                )
                yield row
            else:
                loans = (payload[scope] or {}).get("loans", [])
                if not loans:
                    yield row
                for loan in loans:
                    yield {**row, **{key: _safe(value) for key, value in loan.items()}}


def _render(header, payloads, fmt):
    # Stored text, not a page: always the platform's language, whoever downloads it.
    with translation.override(settings.LANGUAGE_CODE):
        if fmt == ExchangeFormat.JSON:
            document = {"export": header, "identifier_note": _identifier_note(), "lines": payloads}
            # Sorted keys: PostgreSQL's jsonb does not keep the key order of the stored lines, and
            # the file must be the same bytes whenever it is rendered.
            return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        keys = [key for key, _label in COLUMNS]
        labels = [_(label) for _key, label in COLUMNS]
        rows = [[row.get(key, "") for key in keys] for row in _rows(header, payloads)]
        if fmt == ExchangeFormat.CSV:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(labels)
            writer.writerow(keys)
            writer.writerows(rows)
            return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8 Chinese
        return _xlsx(header, labels, keys, rows)


def _identifier_note():
    return _(
        "自然人以身份证号码的密钥哈希（HMAC-SHA256，输入为“national_id:”加18位身份证号码，密钥与合作社约定）"
        "标识，不含身份证号码本身；机构以统一社会信用代码标识。接收方可按同一方案计算后匹配，或按授权书编号匹配。"
    )


def _xlsx(header, labels, keys, rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("信用报送"))
    sheet.append(labels)
    sheet.append(keys)
    for row in rows:
        sheet.append(row)
    about = workbook.create_sheet(_("说明"))
    about.append([_("报送编号"), header["number"]])
    about.append([_("接收方"), _safe(header["recipient"]["name"])])
    about.append([_("接收方统一社会信用代码"), header["recipient"]["uscc"]])
    about.append([_("数据范围（区划）"), f"{header['division']['code']} {header['division']['name']}"])
    about.append([_("数据截止日"), header["as_of"]])
    about.append([_("请求主体数"), header["parties_requested"]])
    about.append([_("报送主体数"), header["parties_exported"]])
    about.append([_("因无授权未报送"), header["parties_withheld"]])
    about.append([_("主体标识说明"), _identifier_note()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading and downloading -------------------------------------------------------------------


def may_read_export(user, export):
    """Staff of the export's division, or the recipient's own officers."""
    return can(user, Capability.MANAGE_CONSENTS, division=export.division) or can(
        user, Capability.RECEIVE_CREDIT_REPORTS, organization=export.recipient
    )


@transaction.atomic
def download_credit_export(*, actor, export, fmt, channel):
    """Render an export for `actor` and log the download as an exchange (an export of the
    CREDIT_REPORT dataset to the recipient). Returns (bytes, content type, file name, log)."""
    started = timezone.now()
    export = CreditExport.objects.select_related("recipient", "division").get(pk=export.pk)
    if not may_read_export(actor, export):
        raise PermissionDeniedError(_("您没有权限下载此信用报送。"))
    if channel not in Channel.values:
        raise DomainError(_("渠道无效。"), code="invalid", fields={"channel": [_("渠道无效。")]})
    content, content_type, file_name = render_credit_export(export, fmt)
    log = record_exchange(
        actor=actor,
        direction=Direction.EXPORT,
        dataset=Dataset.CREDIT_REPORT,
        fmt=fmt,
        channel=channel,
        division=export.division,
        started_at=started,
        organization=export.recipient,
        file_name=file_name,
        content=content,
        rows_total=export.parties_exported,
        parameters={"credit_export": export.number, "download": True},
    )
    return content, content_type, file_name, log
