"""The loan book: disbursement of a bank-approved application, repayments allocated to the schedule
(overdue first with penalty interest, early repayment with a recast), a loan's position and
delinquency bucket on any day, the daily delinquency snapshot, and statements.

Allocation of a repayment received on day t (every yuan goes to one installment):
1. overdue installments (due before t), oldest first: penalty, then interest, then principal.
   Penalty = 罚息 on the overdue principal + 复利 on the overdue interest, at the loan's penalty
   rate per day by its day count, from the due date to t, over the amounts outstanding in each
   stretch between payments, minus the penalty already paid;
2. the installment due on t: interest, then principal;
3. anything more is an early repayment: interest runs to the actual date (day interest on the
   outstanding principal from the start of the running period to t, never more than that
   period's scheduled interest), then principal. Prepaid principal is booked on the installment
   that closes on t: the one due on t, or else the running period, cut short at t. The unpaid
   installments after it are rewritten (their history stays in pghistory): `shorten_term` keeps
   the installment amount and drops the last periods, `lower_installment` keeps the dates and
   lowers the amounts; the rest of a cut period is a broken period earning day interest.
A repayment beyond what pays the loan off is refused with the payoff amount.

Locks: the assets and pledges securing the loan (released on payoff), then the loan.
"""

import contextlib
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Membership, Role
from directory.services import notify
from resources.models import Asset, Restriction, Right
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions._money import parse_money
from transactions.services.common import cooperative_for

from .. import journaling
from .. import schedule as calc
from ..models import (
    FREQUENCY_MONTHS,
    ApplicationStatus,
    DelinquencyBucket,
    DelinquencySnapshot,
    Installment,
    Loan,
    LoanApplication,
    LoanClassification,
    LoanStatus,
    Pledge,
    PledgeStatus,
    Repayment,
    RepaymentKind,
    RepaymentLine,
)
from .applications import mark_disbursed
from .common import next_number, require_bank_or_staff, required_text, schedule_score_recompute
from .pledges import pledges_of_loan, release_pledge

ZERO = calc.ZERO
SHORTEN_TERM = "shorten_term"
LOWER_INSTALLMENT = "lower_installment"
PREPAYMENT_MODES = (SHORTEN_TERM, LOWER_INSTALLMENT)
OPEN_STATUSES = (LoanStatus.ACTIVE, LoanStatus.DEFAULTED)
SNAPSHOT_CHUNK = 500  # loans read (with their schedules) per round of the daily snapshot
# Worse buckets come later: an alert goes out when a loan moves to a later one.
BUCKET_ORDER = [
    DelinquencyBucket.CURRENT,
    DelinquencyBucket.DPD_1_30,
    DelinquencyBucket.DPD_31_60,
    DelinquencyBucket.DPD_61_90,
    DelinquencyBucket.DPD_90_PLUS,
]
CLASSIFICATION_ORDER = [
    LoanClassification.SPECIAL_MENTION,
    LoanClassification.SUBSTANDARD,
    LoanClassification.DOUBTFUL,
    LoanClassification.LOSS,
]


# --- buckets and classification ----------------------------------------------------------------


def bucket_for(days_past_due):
    if days_past_due <= 0:
        return DelinquencyBucket.CURRENT
    if days_past_due <= 30:
        return DelinquencyBucket.DPD_1_30
    if days_past_due <= 60:
        return DelinquencyBucket.DPD_31_60
    if days_past_due <= 90:
        return DelinquencyBucket.DPD_61_90
    return DelinquencyBucket.DPD_90_PLUS


def classification_for(days_past_due):
    """五级分类 floor from days past due: TMCS_CLASSIFICATION_DPD = [关注, 次级, 可疑, 损失] thresholds
    (default [1, 91, 271, 361]; the thresholds are unverified, hence a setting)."""
    result = LoanClassification.NORMAL
    for threshold, label in zip(settings.TMCS_CLASSIFICATION_DPD, CLASSIFICATION_ORDER, strict=False):
        if days_past_due >= threshold:
            result = label
    return result


# --- state of the schedule on a day -------------------------------------------------------------


@dataclass
class _State:
    """An installment's amounts paid by the end of a day, from its allocation lines."""

    inst: Installment
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    events: list  # [(paid_on, principal, interest)] of its lines, by date

    @property
    def principal_left(self):
        return self.inst.principal_due - self.principal_paid

    @property
    def interest_left(self):
        return self.inst.interest_due - self.interest_paid

    @property
    def settled(self):
        return self.principal_left <= 0 and self.interest_left <= 0


def _states(loan, as_of):
    """Installments (prefetched with their lines when the caller did) as of the end of `as_of`."""
    out = []
    for inst in loan.installments.all():
        lines = [line for line in inst.repayment_lines.all() if line.repayment.paid_on <= as_of]
        out.append(
            _State(
                inst,
                sum((line.principal for line in lines), ZERO),
                sum((line.interest for line in lines), ZERO),
                sum((line.penalty for line in lines), ZERO),
                sorted((line.repayment.paid_on, line.principal, line.interest) for line in lines),
            )
        )
    out.sort(key=lambda s: s.inst.seq)
    return out


def _penalty_accrued(loan, state, on):
    """Penalty an installment has accrued by `on` (before deducting what was paid): the amounts
    outstanding after its due date, stretch by stretch between the payments that reduced them."""
    due = state.inst.due_date
    if on <= due:
        return ZERO
    principal, interest = state.inst.principal_due, state.inst.interest_due
    for paid_on, p, i in state.events:
        if paid_on <= due:
            principal, interest = principal - p, interest - i
    segments, cursor = [], due
    for paid_on, p, i in state.events:
        if due < paid_on < on:
            segments.append((cursor, paid_on, principal, interest))
            cursor, principal, interest = paid_on, principal - p, interest - i
    segments.append((cursor, on, principal, interest))
    on_principal, on_interest = calc.penalty_on_segments(segments, loan.penalty_rate, loan.day_count)
    return on_principal + on_interest


def _penalty_due(loan, state, on):
    return max(_penalty_accrued(loan, state, on) - state.penalty_paid, ZERO)


def _accrued_interest(loan, running, principal, on):
    """Early-repayment interest of the running period to `on`, capped at its scheduled interest,
    minus what was already paid towards it."""
    if running is None or principal <= 0:
        return ZERO
    to_date = calc.day_interest(principal, loan.annual_rate, running.inst.period_start, on, loan.day_count)
    return max(min(to_date, running.inst.interest_due) - running.interest_paid, ZERO)


# --- position --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanPosition:
    as_of: datetime.date
    outstanding_principal: Decimal
    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty_accrued: Decimal  # unpaid penalty to date
    days_past_due: int
    bucket: str
    classification: str
    next_installment: Installment | None
    accrued_interest: Decimal = ZERO  # interest of the running period to date (not yet due)
    due_today: Decimal = ZERO  # principal + interest of an installment due on as_of, unpaid
    payoff: Decimal = ZERO  # what pays the loan off on as_of

    @property
    def overdue_total(self):
        return self.overdue_principal + self.overdue_interest + self.penalty_accrued

    def get_bucket_display(self):
        return DelinquencyBucket(self.bucket).label

    def get_classification_display(self):
        return LoanClassification(self.classification).label


def position(loan, as_of=None):
    """The loan on `as_of` (default today) from its schedule and the repayments made by then.
    Prefetch `installments__repayment_lines__repayment` when calling it for many loans."""
    as_of = as_of or timezone.localdate()
    states = _states(loan, as_of)
    open_states = [s for s in states if not s.settled]
    overdue = [s for s in open_states if s.inst.due_date < as_of]
    due_today = [s for s in open_states if s.inst.due_date == as_of]
    upcoming = [s for s in open_states if s.inst.due_date > as_of]
    outstanding = sum((s.principal_left for s in states), ZERO)
    overdue_principal = sum((s.principal_left for s in overdue), ZERO)
    overdue_interest = sum((s.interest_left for s in overdue), ZERO)
    penalty = sum((_penalty_due(loan, s, as_of) for s in overdue), ZERO)
    today = sum((s.principal_left + s.interest_left for s in due_today), ZERO)
    running = upcoming[0] if upcoming else None
    accrued = _accrued_interest(loan, running, sum((s.principal_left for s in upcoming), ZERO), as_of)
    dpd = (as_of - overdue[0].inst.due_date).days if overdue else 0
    closed = loan.status not in OPEN_STATUSES and not open_states
    return LoanPosition(
        as_of=as_of,
        outstanding_principal=outstanding,
        overdue_principal=overdue_principal,
        overdue_interest=overdue_interest,
        penalty_accrued=penalty,
        days_past_due=dpd,
        bucket=bucket_for(dpd),
        classification=classification_for(dpd),
        next_installment=None if closed else (due_today[0].inst if due_today else running and running.inst),
        accrued_interest=accrued,
        due_today=today,
        payoff=outstanding
        + overdue_interest
        + penalty
        + sum((s.interest_left for s in due_today), ZERO)
        + accrued,
    )


def with_schedule(queryset):
    """Loans with what `position` reads, in three queries whatever their number."""
    lines = RepaymentLine.objects.select_related("repayment").only(
        "id", "installment_id", "principal", "interest", "penalty", "repayment__paid_on"
    )
    return queryset.prefetch_related(
        Prefetch(
            "installments",
            Installment.objects.order_by("seq").prefetch_related(Prefetch("repayment_lines", lines)),
        )
    )


# --- allocation ------------------------------------------------------------------------------


@dataclass
class _Allocation:
    lines: dict = field(default_factory=dict)  # installment pk → [principal, interest, penalty]
    overdue: bool = False
    early_interest: Decimal = ZERO
    prepaid: Decimal = ZERO
    left: Decimal | None = None  # what is left of the amount (None: no limit, for the payoff)

    def take(self, state, wanted, slot):
        if wanted <= 0:
            return ZERO
        part = wanted if self.left is None else min(wanted, self.left)
        if part <= 0:
            return ZERO
        self.lines.setdefault(state.inst.pk, [ZERO, ZERO, ZERO])[slot] += part
        if self.left is not None:
            self.left -= part
        return part

    @property
    def total(self):
        return sum((sum(parts) for parts in self.lines.values()), ZERO) + self.prepaid


PRINCIPAL, INTEREST, PENALTY = 0, 1, 2


def _allocate(loan, states, paid_on, amount=None):
    plan = _Allocation(left=amount)
    open_states = [s for s in states if not s.settled]
    for state in open_states:
        if state.inst.due_date > paid_on:
            break
        if state.inst.due_date < paid_on:
            if plan.take(state, _penalty_due(loan, state, paid_on), PENALTY):
                plan.overdue = True
            plan.overdue |= bool(plan.take(state, state.interest_left, INTEREST))
            plan.overdue |= bool(plan.take(state, state.principal_left, PRINCIPAL))
        else:
            plan.take(state, state.interest_left, INTEREST)
            plan.take(state, state.principal_left, PRINCIPAL)
    if plan.left is not None and plan.left <= 0:
        return plan
    upcoming = [s for s in open_states if s.inst.due_date > paid_on]
    if not upcoming:
        return plan
    running = upcoming[0]
    balance = sum((s.principal_left for s in upcoming), ZERO)
    plan.early_interest = plan.take(running, _accrued_interest(loan, running, balance, paid_on), INTEREST)
    prepaid = balance if plan.left is None else min(balance, plan.left)
    if prepaid > 0:
        plan.prepaid = prepaid
        if plan.left is not None:
            plan.left -= prepaid
    return plan


def payoff_amount(loan, on):
    """What pays the loan off on `on` (the schedule as it stands, penalty to that day)."""
    return _allocate(loan, _states(loan, on), on).total


# --- disbursement ----------------------------------------------------------------------------


def _business_date(value, field_name, label):
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        message = _("请填写有效的%(label)s。") % {"label": label}
        raise DomainError(message, code="invalid", fields={field_name: [message]})
    if value > timezone.localdate():
        message = _("%(label)s不能晚于今天。") % {"label": label}
        raise DomainError(message, code="invalid", fields={field_name: [message]})
    return value


def _lock_application(application):
    return (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("product__bank", "division", "applicant")
        .get(pk=application.pk)
    )


@transaction.atomic
def disburse(*, actor, application, principal, disbursed_on, bank_reference, first_due_date=None):
    """Book the bank's disbursement of a BANK_APPROVED application: the loan, its schedule (exact
    to the cent) and the application marked 已放款."""
    application = _lock_application(application)
    product = application.product
    require_bank_or_staff(actor, bank=product.bank, division=application.division)
    if application.status != ApplicationStatus.BANK_APPROVED:
        raise ConflictError(
            _("申请状态为“%(status)s”，只有银行已批准的申请可以放款。")
            % {"status": application.get_status_display()},
            code="not_bank_approved",
        )
    principal = parse_money(principal, "principal")
    ceiling = application.approved_amount or application.amount
    if principal > ceiling:
        message = _("放款金额不能超过批准金额 %(amount)s 元。") % {"amount": ceiling}
        raise DomainError(message, code="invalid", fields={"principal": [message]})
    disbursed_on = _business_date(disbursed_on, "disbursed_on", _("放款日"))
    bank_reference = required_text(bank_reference, "bank_reference", _("请填写银行借据号。"), max_length=60)
    months = FREQUENCY_MONTHS[application.payment_frequency]
    if application.term_months % months:
        message = _("贷款期限须为还款周期（%(months)s 个月）的整数倍。") % {"months": months}
        raise DomainError(message, code="invalid", fields={"term_months": [message]})
    if first_due_date is not None and (
        not isinstance(first_due_date, datetime.date)
        or not calc.first_due_allowed(disbursed_on, first_due_date, months)
    ):
        message = _("首期还款日须晚于放款日，且不超过两个还款周期。")
        raise DomainError(message, code="invalid", fields={"first_due_date": [message]})
    if (
        product.requires_pledge
        and not Pledge.objects.filter(application=application, status=PledgeStatus.ACTIVE).exists()
    ):
        raise ConflictError(
            _("该产品须办妥抵质押登记后才能放款，本申请尚无有效的抵质押登记。"), code="pledge_required"
        )
    if Loan.objects.filter(bank=product.bank, bank_reference=bank_reference).exists():
        raise _duplicate_reference(bank_reference)
    rows = calc.build_schedule(
        principal,
        application.annual_rate,
        application.term_months // months,
        application.repayment_method,
        months,
        disbursed_on,
        first_due_date,
        basis=product.day_count,
    )
    number = next_number("DK")
    penalty_rate = (application.annual_rate * (1 + product.penalty_markup)).quantize(Decimal("0.000001"))
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"disburse loan {number}"):
            loan = Loan.objects.create(
                number=number,
                application=application,
                bank=product.bank,
                borrower=application.applicant,
                division=application.division,
                product=product,
                principal=principal,
                annual_rate=application.annual_rate,
                penalty_rate=penalty_rate,
                term_months=application.term_months,
                repayment_method=application.repayment_method,
                payment_frequency=application.payment_frequency,
                day_count=product.day_count,
                disbursed_on=disbursed_on,
                maturity_date=rows[-1].due_date,
                bank_reference=bank_reference,
                recorded_by=actor,
            )
            Installment.objects.bulk_create(
                [
                    Installment(
                        loan=loan,
                        seq=row.seq,
                        period_start=row.period_start,
                        due_date=row.due_date,
                        principal_due=row.principal,
                        interest_due=row.interest,
                    )
                    for row in rows
                ]
            )
            mark_disbursed(application)
            journaling.loan_disbursed(actor, loan)
    except IntegrityError as exc:
        if "loan_bank_reference_unique" in str(exc):
            raise _duplicate_reference(bank_reference) from None
        raise
    return loan


def _duplicate_reference(reference):
    message = _("银行借据号 %(ref)s 已登记过贷款。") % {"ref": reference}
    return ConflictError(message, code="duplicate_bank_reference", fields={"bank_reference": [message]})


# --- repayments ------------------------------------------------------------------------------


def _lock_loan_and_security(loan):
    """Lock in the platform's order: asset → right → restriction → pledge of the active pledges
    (released on payoff), then the loan."""
    pledges = Pledge.objects.filter(application_id=loan.application_id, status=PledgeStatus.ACTIVE)
    keys = list(pledges.values_list("right__asset_id", "right_id", "restriction_id", "pk"))
    for model, column in ((Asset, 0), (Right, 1), (Restriction, 2), (Pledge, 3)):
        ids = sorted({key[column] for key in keys})
        if ids:
            list(model.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values("pk"))
    return with_schedule(Loan.objects.select_for_update(of=("self",)).select_related("bank", "division")).get(
        pk=loan.pk
    )


def _validate_repayment(loan, amount, paid_on, prepayment):
    if loan.status not in OPEN_STATUSES:
        raise ConflictError(
            _("贷款状态为“%(status)s”，不能再登记还款。") % {"status": loan.get_status_display()},
            code="loan_closed",
        )
    amount = parse_money(amount, "amount")
    paid_on = _business_date(paid_on, "paid_on", _("还款日"))
    if paid_on < loan.disbursed_on:
        message = _("还款日不能早于放款日 %(day)s。") % {"day": loan.disbursed_on}
        raise DomainError(message, code="invalid", fields={"paid_on": [message]})
    last = loan.repayments.order_by("-paid_on").values_list("paid_on", flat=True).first()
    if last is not None and paid_on < last:
        message = _("还款日不能早于上一笔还款日 %(day)s（还款须按时间顺序登记）。") % {"day": last}
        raise DomainError(message, code="invalid", fields={"paid_on": [message]})
    if prepayment not in PREPAYMENT_MODES:
        message = _("请选择提前还款后的处理方式。")
        raise DomainError(message, code="invalid", fields={"prepayment": [message]})
    return amount, paid_on


@transaction.atomic
def record_repayment(*, actor, loan, amount, paid_on, bank_reference="", prepayment=SHORTEN_TERM, kind=None):
    """Record money received on a loan and allocate it (see the module docstring). `kind="disposal"`
    marks proceeds of a default disposal (finance.services.defaults)."""
    loan = _lock_loan_and_security(loan)
    require_bank_or_staff(actor, bank=loan.bank, division=loan.division)
    amount, paid_on = _validate_repayment(loan, amount, paid_on, prepayment)
    bank_reference = (bank_reference or "").strip()
    if len(bank_reference) > 60:
        message = _("不能超过 %(n)s 个字。") % {"n": 60}
        raise DomainError(message, code="invalid", fields={"bank_reference": [message]})
    if bank_reference and loan.repayments.filter(bank_reference=bank_reference).exists():
        message = _("银行流水号 %(ref)s 已登记过还款。") % {"ref": bank_reference}
        raise ConflictError(message, code="duplicate_bank_reference", fields={"bank_reference": [message]})
    if kind not in (None, RepaymentKind.DISPOSAL):
        raise DomainError(_("还款类型无效。"), code="invalid", fields={"kind": [_("还款类型无效。")]})
    states = _states(loan, paid_on)
    payoff = _allocate(loan, states, paid_on).total
    if amount > payoff:
        message = _("还款金额 %(amount)s 元超过结清所需金额：%(day)s 结清全部贷款应还 %(payoff)s 元。") % {
            "amount": amount,
            "day": paid_on,
            "payoff": payoff,
        }
        raise ConflictError(message, code="overpayment", fields={"amount": [message]})
    plan = _allocate(loan, states, paid_on, amount)
    if kind is None:
        kind = (
            RepaymentKind.OVERDUE
            if plan.overdue
            else RepaymentKind.EARLY
            if plan.early_interest or plan.prepaid
            else RepaymentKind.REGULAR
        )
    with audit_context(user=actor, reason=f"repayment on loan {loan.number}"):
        lines = _apply(loan, states, plan, paid_on, prepayment)
        parts = [
            sum((line[slot] for line in lines.values()), ZERO) for slot in (PRINCIPAL, INTEREST, PENALTY)
        ]
        repayment = Repayment.objects.create(
            loan=loan,
            kind=kind,
            paid_on=paid_on,
            amount=amount,
            principal_part=parts[PRINCIPAL],
            interest_part=parts[INTEREST],
            penalty_part=parts[PENALTY],
            bank_reference=bank_reference,
            recorded_by=actor,
        )
        RepaymentLine.objects.bulk_create(
            [
                RepaymentLine(
                    repayment=repayment,
                    installment_id=pk,
                    principal=p[PRINCIPAL],
                    interest=p[INTEREST],
                    penalty=p[PENALTY],
                )
                for pk, p in sorted(lines.items())
                if any(p)
            ]
        )
        journaling.loan_repaid(actor, repayment)
        if amount == payoff:
            _pay_off(actor, loan, paid_on)
    schedule_score_recompute(loan.borrower_id)
    return repayment


def _apply(loan, states, plan, paid_on, prepayment):
    """Write the plan into the installments (and recast after a prepayment). Returns the lines
    per installment pk: [principal, interest, penalty]."""
    lines = {pk: list(parts) for pk, parts in plan.lines.items()}
    by_pk = {s.inst.pk: s for s in states}
    for pk, (principal, interest, penalty) in plan.lines.items():
        inst = by_pk[pk].inst
        inst.principal_paid += principal
        inst.interest_paid += interest
        inst.penalty_paid += penalty
        if inst.principal_paid >= inst.principal_due and inst.interest_paid >= inst.interest_due:
            inst.settled_on = paid_on
        inst.save(update_fields=["principal_paid", "interest_paid", "penalty_paid", "settled_on"])
    if plan.prepaid > 0:
        closing = _recast(loan, states, paid_on, plan.prepaid, prepayment)
        lines.setdefault(closing.pk, [ZERO, ZERO, ZERO])[PRINCIPAL] += plan.prepaid
    return lines


def _recast(loan, states, paid_on, prepaid, prepayment):
    """Book `prepaid` principal on the installment that closes on `paid_on` and rewrite the unpaid
    installments after it. Returns the closing installment."""
    upcoming = [s.inst for s in states if s.inst.settled_on is None and s.inst.due_date > paid_on]
    closing = next((s.inst for s in states if s.inst.due_date == paid_on), None)
    balance = sum((inst.principal_due for inst in upcoming), ZERO)  # none of it is paid yet
    months = FREQUENCY_MONTHS[loan.payment_frequency]
    rate = calc.period_rate(loan.annual_rate, months)
    keep = upcoming[0].principal_due
    if loan.repayment_method == calc.EQUAL_INSTALLMENT:
        keep += calc.cents(balance * rate)  # the installment amount A of the current schedule
    dates = [(inst.period_start, inst.due_date) for inst in upcoming]
    # The first new period earns day interest when it starts mid-period, or when the period it
    # replaces was already a broken one (its interest is not the regular one).
    first = upcoming[0]
    broken = paid_on > first.period_start or first.interest_due != calc.cents(balance * rate)
    replaced = upcoming
    if closing is None:  # cut the running period short at paid_on; its rest becomes a broken period
        closing = upcoming[0]
        replaced = upcoming[1:]
        dates[0] = (paid_on, closing.due_date)
        closing.due_date = paid_on
        closing.interest_due = closing.interest_paid
        closing.principal_due = ZERO
    closing.principal_due += prepaid
    closing.principal_paid += prepaid
    closing.settled_on = paid_on
    closing.save(update_fields=["due_date", "interest_due", "principal_due", "principal_paid", "settled_on"])
    Installment.objects.filter(pk__in=[inst.pk for inst in replaced]).delete()
    rest = balance - prepaid
    if rest <= 0:
        return closing
    method, basis = loan.repayment_method, loan.day_count
    if prepayment == SHORTEN_TERM:
        rows = calc.shorten_term(
            rest, loan.annual_rate, method, months, dates, keep, basis=basis, broken_first=broken
        )
    else:
        rows = calc.amortize(rest, loan.annual_rate, method, months, dates, basis=basis, broken_first=broken)
    Installment.objects.bulk_create(
        [
            Installment(
                loan=loan,
                seq=closing.seq + row.seq,
                period_start=row.period_start,
                due_date=row.due_date,
                principal_due=row.principal,
                interest_due=row.interest,
            )
            for row in rows
        ]
    )
    if rows[-1].due_date != loan.maturity_date:
        loan.maturity_date = rows[-1].due_date
        loan.save(update_fields=["maturity_date"])
    return closing


def _pay_off(actor, loan, paid_on):
    """Close the loan and release what secured it (finance.services.pledges.release_pledge)."""
    loan.status, loan.closed_on = LoanStatus.PAID_OFF, paid_on
    loan.save(update_fields=["status", "closed_on"])
    reason = _("贷款 %(number)s 已于 %(day)s 结清") % {"number": loan.number, "day": paid_on}
    for pledge in pledges_of_loan(loan):
        release_pledge(actor=actor, pledge=pledge, reason=reason)


# --- delinquency -----------------------------------------------------------------------------


def _watchers(loan):
    """Who hears of a loan getting worse: the bank's officers and the responsible cooperative's staff."""
    organizations = [loan.bank_id]
    with contextlib.suppress(DomainError):
        organizations.append(cooperative_for(loan.division).pk)
    memberships = Membership.objects.filter(
        organization_id__in=organizations,
        role__in=[Role.BANK_OFFICER, Role.COOP_STAFF],
        is_active=True,
        user__is_active=True,
    ).select_related("user")
    return list({m.user_id: m.user for m in memberships.order_by("pk")}.values())


def snapshot_delinquency(as_of=None):
    """One DelinquencySnapshot per open loan for `as_of` (default today); running it again on the
    same day rewrites the same rows. A loan that moved into a worse bucket than its previous
    snapshot raises one notification to the bank's officers and the cooperative's staff."""
    as_of = as_of or timezone.localdate()
    ids = list(
        Loan.objects.filter(status__in=OPEN_STATUSES, disbursed_on__lte=as_of)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), SNAPSHOT_CHUNK):
        chunk = with_schedule(Loan.objects.filter(pk__in=ids[start : start + SNAPSHOT_CHUNK]))
        for loan in chunk.select_related("division").order_by("pk"):
            _snapshot_one(loan, as_of)
    return len(ids)


@transaction.atomic
def _snapshot_one(loan, as_of):
    pos = position(loan, as_of)
    earlier = (
        DelinquencySnapshot.objects.filter(loan=loan, as_of__lte=as_of)
        .order_by("-as_of")
        .values("as_of", "bucket")[:2]
    )
    today_row = next((row for row in earlier if row["as_of"] == as_of), None)
    before = next((row for row in earlier if row["as_of"] < as_of), None)
    previous_rank = BUCKET_ORDER.index(before["bucket"]) if before else 0
    already = today_row is not None and BUCKET_ORDER.index(today_row["bucket"]) >= BUCKET_ORDER.index(
        pos.bucket
    )
    DelinquencySnapshot.objects.update_or_create(
        loan=loan,
        as_of=as_of,
        defaults={
            "days_past_due": pos.days_past_due,
            "bucket": pos.bucket,
            "classification": pos.classification,
            "outstanding_principal": pos.outstanding_principal,
            "overdue_principal": pos.overdue_principal,
            "overdue_interest": pos.overdue_interest,
            "penalty_accrued": pos.penalty_accrued,
        },
    )
    if BUCKET_ORDER.index(pos.bucket) > previous_rank and not already:
        title = _("贷款 %(number)s 逾期升级：%(bucket)s") % {
            "number": loan.number,
            "bucket": pos.get_bucket_display(),
        }
        body = _(
            "逾期 %(days)s 天，逾期本金 %(principal)s 元，逾期利息 %(interest)s 元，五级分类：%(cls)s。"
        ) % {
            "days": pos.days_past_due,
            "principal": pos.overdue_principal,
            "interest": pos.overdue_interest,
            "cls": pos.get_classification_display(),
        }
        recipients = _watchers(loan)
        link = loan.get_absolute_url()
        transaction.on_commit(
            lambda: notify(recipients=recipients, title=title, body=body, link=link, level="warning")
        )


# --- statement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    loan: Loan
    start: datetime.date
    end: datetime.date
    opening_balance: Decimal
    disbursed: Decimal  # principal lent within the period
    repayments: list  # Repayment with .lines prefetched
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    scheduled: list  # [(installment, paid principal, paid interest, paid penalty)] due in the period
    scheduled_principal: Decimal
    scheduled_interest: Decimal
    closing_balance: Decimal
    position: LoanPosition  # on `end`

    @property
    def total_paid(self):
        return self.principal_paid + self.interest_paid + self.penalty_paid


def statement(loan, start, end):
    """The loan between `start` and `end` (inclusive): opening balance, repayments with their
    allocation, installments due against what was paid on them by `end`, closing balance and the
    unpaid penalty on `end`."""
    errors = {}
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime.date):
            errors[name] = [_("请填写有效的日期。")]
    if not errors and start > end:
        errors["end"] = [_("截止日不能早于起始日。")]
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    loan = with_schedule(Loan.objects.filter(pk=loan.pk)).select_related("bank", "borrower", "product").get()
    repayments = list(
        loan.repayments.filter(paid_on__lte=end)
        .prefetch_related(Prefetch("lines", RepaymentLine.objects.select_related("installment")))
        .order_by("paid_on", "pk")
    )
    before = [r for r in repayments if r.paid_on < start]
    within = [r for r in repayments if r.paid_on >= start]
    repaid_before = sum((r.principal_part for r in before), ZERO)
    opening = (loan.principal if loan.disbursed_on < start else ZERO) - repaid_before
    disbursed = loan.principal if start <= loan.disbursed_on <= end else ZERO
    principal_paid = sum((r.principal_part for r in within), ZERO)
    scheduled = []
    for state in _states(loan, end):
        if start <= state.inst.due_date <= end:
            scheduled.append((state.inst, state.principal_paid, state.interest_paid, state.penalty_paid))
    return Statement(
        loan=loan,
        start=start,
        end=end,
        opening_balance=opening,
        disbursed=disbursed,
        repayments=within,
        principal_paid=principal_paid,
        interest_paid=sum((r.interest_part for r in within), ZERO),
        penalty_paid=sum((r.penalty_part for r in within), ZERO),
        scheduled=scheduled,
        scheduled_principal=sum((row[0].principal_due for row in scheduled), ZERO),
        scheduled_interest=sum((row[0].interest_due for row in scheduled), ZERO),
        closing_balance=opening + disbursed - principal_paid,
        position=position(loan, end),
    )
