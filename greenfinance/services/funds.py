"""Green bonds and funds (绿色债券、生态产业基金、风险补偿资金、担保基金) the cooperative uses or
manages: commitments (认缴), contributions (出资到账), drawdowns to key projects and loans (投放),
returns (收回), income, expenses and coupons, write-offs (核销), redemptions (退出/兑付) and
reversals (冲正).

Every yuan is in the transactions ledger. Each fund's accounts carry the fund's number as
sub-account (辅助核算):
- cash      GREEN_FUND_CASH      under the manager's party;
- capital   GREEN_FUND_CAPITAL   under each contributor's party;
- deployed  GREEN_FUND_DEPLOYED  under each recipient's party;
- income    GREEN_FUND_INCOME    and expense GREEN_FUND_EXPENSE under the manager's party.

Entries (debit / credit): contribution cash / capital; drawdown deployed / cash; return cash /
deployed; income cash / income; expense expense / cash; write-off expense / deployed; redemption
capital / cash; a reversal is the ledger's mirror image. Each movement is posted with
`ledger.post` and recorded beside it as one append-only `FundMovement` (what it backs, who paid)
in the same transaction; `cash_effect` is the signed change of the fund's cash, so the sum of a
fund's cash effects equals its cash account.

Rules, checked under the fund's row lock (one lock per fund, so two desks racing for the last
yuan are serialised and the second is refused):
- the fund never pays out more cash than it holds, on the business date and every later date
  (drawdowns, expenses, redemptions, and reversals that take cash out → 409 with the shortfall);
- paid-in per commitment ≤ committed; commitments in total ≤ the fund's size;
- a return or write-off ≤ the drawdown's outstanding; a redemption ≤ the contributor's paid-in
  less earlier redemptions;
- a drawdown backs an admitted key project or an active loan (or both) inside the fund's
  division, and goes to that project's owner / loan's borrower;
- what a fund may do depends on its status: RAISING takes commitments and contributions (the first
  contribution makes it ACTIVE); ACTIVE takes everything; CLOSED nothing. A fund closes only with
  no cash and nothing deployed;
- a retried movement with the same (fund, kind, reference) is refused (409 duplicate_reference)
  unless the earlier one was reversed.

Balances are never stored: `fund_position` reads them back from the ledger.
"""

import datetime
from decimal import Decimal, InvalidOperation
from functools import partial

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision, Organization, Party
from directory.permissions import Capability
from directory.selectors import users_with
from directory.services import ensure_party, notify
from finance.models import Loan, LoanStatus
from projects.models import KeyProject, ProjectStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions._money import parse_money
from transactions.models import AccountKind, MovementKind, Posting
from transactions.services import ledger
from transactions.services.common import check_transition, next_number, require, required_text

from ..models import FundCommitment, FundKind, FundMovement, FundMovementKind, FundStatus, GreenFund

ZERO = Decimal("0.00")
NUMBER_PREFIX = "LJ"  # 绿色基金: LJ2026000001
RATE_PLACES = Decimal("0.000001")  # GreenFund.coupon_rate has 6 decimal places
COMMITMENT = "commitment"  # not a movement, but allowed per status like one

K = FundMovementKind
FUND_TRANSITIONS = {
    FundStatus.RAISING: {FundStatus.ACTIVE, FundStatus.CLOSED},
    FundStatus.ACTIVE: {FundStatus.CLOSED},
    FundStatus.CLOSED: set(),
}
ALLOWED = {
    FundStatus.RAISING: frozenset({COMMITMENT, K.CONTRIBUTION}),
    FundStatus.ACTIVE: frozenset({COMMITMENT, *K.values}),
    FundStatus.CLOSED: frozenset(),
}
LEDGER_KIND = {
    K.CONTRIBUTION: MovementKind.GREEN_FUND_CONTRIBUTION,
    K.DRAWDOWN: MovementKind.GREEN_FUND_DRAWDOWN,
    K.RETURN: MovementKind.GREEN_FUND_RETURN,
    K.INCOME: MovementKind.GREEN_FUND_INCOME,
    K.EXPENSE: MovementKind.GREEN_FUND_EXPENSE,
    K.WRITE_OFF: MovementKind.GREEN_FUND_WRITE_OFF,
    K.REDEMPTION: MovementKind.GREEN_FUND_REDEMPTION,
}
CASH = AccountKind.GREEN_FUND_CASH
CAPITAL = AccountKind.GREEN_FUND_CAPITAL
DEPLOYED = AccountKind.GREEN_FUND_DEPLOYED
INCOME = AccountKind.GREEN_FUND_INCOME
EXPENSE = AccountKind.GREEN_FUND_EXPENSE
FUND_ACCOUNT_KINDS = (CASH, CAPITAL, DEPLOYED, INCOME, EXPENSE)
# The business kind of a posting: a reversal counts against the kind it reverses, so that
# "paid in" is net of reversed contributions and "returned" net of reversed returns.
EFFECTIVE_KIND = Coalesce(
    "movement__green_fund_movement__reverses__kind", "movement__green_fund_movement__kind"
)


# --- small pieces -----------------------------------------------------------------------------


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def _date(value, field):
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise _invalid(field, _("请填写有效的日期。"))
    if value > timezone.localdate():
        raise _invalid(field, _("日期不能晚于今天。"))
    return value


def _rate(value):
    if value is None or str(value).strip() == "":
        return None
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        raise _invalid("coupon_rate", _("票面利率/预期收益率须为 0 到 1 之间的小数（如 0.035 表示 3.5%）。"))
    if rate != rate.quantize(RATE_PLACES):
        raise _invalid("coupon_rate", _("票面利率/预期收益率最多保留六位小数。"))
    return rate


def _optional_text(value, field, max_length):
    value = (value or "").strip()
    if len(value) > max_length:
        raise _invalid(field, _("不能超过 %(n)s 个字。") % {"n": max_length})
    return value


def party_of(who, field):
    """The ledger party of an organization (created on first use) or the party itself."""
    if isinstance(who, Party) and who.pk is not None:
        return who
    if isinstance(who, Organization) and who.pk is not None:
        if not who.is_active:
            raise _invalid(field, _("该机构已停用。"))
        return ensure_party(who)
    raise _invalid(field, _("请选择主体。"))


def _lock(fund_id):
    return (
        GreenFund.objects.select_for_update(of=("self",))
        .select_related("manager", "division")
        .defer("division__boundary")
        .get(pk=fund_id)
    )


def _locked_fund(actor, fund_id, what):
    """The fund's row, locked; the actor must keep green finance in its division and the fund's
    status must allow `what` (a FundMovementKind or COMMITMENT)."""
    fund = _lock(fund_id)
    require(actor, Capability.MANAGE_GREEN_FINANCE, fund.division)
    if what not in ALLOWED[fund.status]:
        if fund.status == FundStatus.CLOSED:
            message = _("基金 %(number)s 已清算，不能再办理任何业务。")
        else:
            message = _("基金 %(number)s 尚在募集中，只能登记认缴和出资到账。")
        raise ConflictError(message % {"number": fund.number}, code="fund_status")
    return fund


def _locked_commitment(actor, commitment, what):
    if not isinstance(commitment, FundCommitment) or commitment.pk is None:
        raise _invalid("commitment", _("请选择认缴记录。"))
    fund = _locked_fund(actor, commitment.fund_id, what)
    return fund, FundCommitment.objects.select_related("contributor").get(pk=commitment.pk)


def _not_before_issue(fund, on, field):
    if on < fund.issue_date:
        raise _invalid(
            field, _("业务日期不能早于基金设立/发行日 %(date)s。") % {"date": fund.issue_date.isoformat()}
        )
    return on


def _reference(fund, kind, reference):
    """The cleaned reference; a live movement of the same kind with it is a retried request."""
    reference = _optional_text(reference, "reference", 60)
    if reference:
        earlier = FundMovement.objects.filter(
            fund=fund, kind=kind, reference=reference, reversed_by__isnull=True
        ).first()
        if earlier is not None:
            raise ConflictError(
                _("凭证号 %(ref)s 已于 %(date)s 登记过一笔%(kind)s（%(amount)s 元），不能重复登记。")
                % {
                    "ref": reference,
                    "date": earlier.occurred_on.isoformat(),
                    "kind": K(kind).label,
                    "amount": earlier.amount,
                },
                code="duplicate_reference",
                fields={"reference": [_("该凭证号已登记。")]},
            )
    return reference


def _manager(fund):
    return ensure_party(fund.manager)


def _postings(fund, kind):
    return Posting.objects.filter(account__kind=kind, account__sub_account=fund.number)


def _sum(queryset):
    return (queryset.aggregate(s=Sum("amount"))["s"] or ZERO).quantize(Decimal("0.01"))


def cash_available(fund, on):
    """What the fund can pay out on `on` without its cash going below zero on that day or any
    later one: the smallest end-of-day cash balance from `on` onwards (one query)."""
    days = list(
        _postings(fund, CASH)
        .values("movement__occurred_on")
        .annotate(s=Sum("amount"))
        .order_by("movement__occurred_on")
    )
    running, available = ZERO, None
    for row in days:
        running += row["s"]
        if row["movement__occurred_on"] >= on:
            available = running if available is None else min(available, running)
    at_day = sum((r["s"] for r in days if r["movement__occurred_on"] <= on), ZERO)
    return at_day if available is None else min(available, at_day)


def _ensure_cash(fund, amount, on):
    available = cash_available(fund, on)
    if amount > available:
        raise ConflictError(
            _("基金存款不足：%(date)s 起可用余额 %(available)s 元，本次支付 %(amount)s 元，缺口 %(gap)s 元。")
            % {
                "date": on.isoformat(),
                "available": available,
                "amount": amount,
                "gap": amount - available,
            },
            code="insufficient_cash",
            fields={"amount": [_("超过基金可用余额 %(available)s 元。") % {"available": available}]},
        )


def _capital_of(fund, party):
    """(paid in, redeemed) of one contributor, from its capital account (credit = paid in)."""
    rows = (
        _postings(fund, CAPITAL)
        .filter(account__party=party)
        .values(kind=EFFECTIVE_KIND)
        .annotate(s=Sum("amount"))
    )
    totals = {row["kind"]: row["s"] for row in rows}
    return -totals.get(K.CONTRIBUTION, ZERO), totals.get(K.REDEMPTION, ZERO)


def drawdown_outstanding(drawdown):
    """What is still deployed under a drawdown: its deployed postings and those of its returns,
    write-offs and their reversals (all of which name it as `drawdown`)."""
    return _sum(
        Posting.objects.filter(
            Q(movement__green_fund_movement=drawdown) | Q(movement__green_fund_movement__drawdown=drawdown),
            account__kind=DEPLOYED,
        )
    )


def _post(fund, *, actor, kind, lines, amount, cash_effect, occurred_on, reference, memo, **links):
    """One ledger movement and its FundMovement, in the caller's transaction."""
    with audit_context(user=actor, reason=f"green fund {fund.number}: {kind}"):
        movement = ledger.post(
            actor=actor,
            kind=LEDGER_KIND[kind],
            memo=memo,
            lines=lines,
            occurred_on=occurred_on,
            reference=reference,
        )
        return FundMovement.objects.create(
            fund=fund,
            kind=kind,
            occurred_on=occurred_on,
            amount=amount,
            cash_effect=cash_effect,
            memo=memo[:300],
            reference=reference,
            movement=movement,
            recorded_by=actor,
            **links,
        )


def _notify(fund, actor, title, level="info"):
    recipients = [
        user
        for user in users_with(Capability.MANAGE_GREEN_FINANCE, division=fund.division)
        if user.pk != actor.pk
    ]
    if recipients:
        transaction.on_commit(
            partial(
                notify,
                recipients=recipients,
                title=title,
                body=str(fund),
                link=fund.get_absolute_url(),
                level=level,
            )
        )


# --- funds ------------------------------------------------------------------------------------


@transaction.atomic
def create_fund(
    *,
    actor,
    name,
    kind,
    manager,
    division,
    size,
    issue_date,
    purpose,
    source,
    coupon_rate=None,
    maturity_date=None,
):
    """A green bond (contributors are its subscribers; coupons are expenses), an eco fund, a risk
    compensation pool or a guarantee fund, RAISING until money first arrives."""
    if not isinstance(division, AdministrativeDivision):
        raise _invalid("division", _("请选择覆盖区划。"))
    require(actor, Capability.MANAGE_GREEN_FINANCE, division)
    name = required_text(name, "name", _("请填写名称。"), max_length=200)
    if kind not in FundKind.values:
        raise _invalid("kind", _("请选择有效的基金类型。"))
    if not isinstance(manager, Organization) or manager.pk is None:
        raise _invalid("manager", _("请选择管理人/发行人。"))
    if not manager.is_active:
        raise _invalid("manager", _("该机构已停用。"))
    size = parse_money(size, "size")
    issue_date = _date(issue_date, "issue_date")
    if maturity_date is not None:
        if not isinstance(maturity_date, datetime.date) or isinstance(maturity_date, datetime.datetime):
            raise _invalid("maturity_date", _("请填写有效的日期。"))
        if maturity_date <= issue_date:
            raise _invalid("maturity_date", _("到期日须晚于设立/发行日。"))
    elif kind == FundKind.GREEN_BOND:
        raise _invalid("maturity_date", _("绿色债券须填写到期日。"))
    coupon_rate = _rate(coupon_rate)
    purpose = required_text(purpose, "purpose", _("请填写资金用途。"), max_length=500)
    source = required_text(source, "source", _("请填写设立依据或批文。"), max_length=300)
    ensure_party(manager)  # the fund's cash account belongs to the manager's party
    with audit_context(user=actor, reason=f"create green fund {name}"):
        return GreenFund.objects.create(
            number=next_number(NUMBER_PREFIX),
            name=name,
            kind=kind,
            manager=manager,
            division=division,
            size=size,
            coupon_rate=coupon_rate,
            issue_date=issue_date,
            maturity_date=maturity_date,
            purpose=purpose,
            source=source,
            created_by=actor,
        )


@transaction.atomic
def close_fund(*, actor, fund):
    """清算: only with no cash left and nothing deployed (capital not redeemed was lost)."""
    fund = _lock(fund.pk)
    require(actor, Capability.MANAGE_GREEN_FINANCE, fund.division)
    check_transition(FUND_TRANSITIONS, fund.status, FundStatus.CLOSED, lambda s: FundStatus(s).label)
    cash, deployed = _sum(_postings(fund, CASH)), _sum(_postings(fund, DEPLOYED))
    if cash != 0 or deployed != 0:
        raise ConflictError(
            _("基金尚有存款 %(cash)s 元、投放余额 %(deployed)s 元，须全部收回或兑付后才能清算。")
            % {"cash": cash, "deployed": deployed},
            code="fund_not_empty",
        )
    with audit_context(user=actor, reason=f"close green fund {fund.number}"):
        fund.status = FundStatus.CLOSED
        fund.save(update_fields=["status"])
    _notify(fund, actor, _("基金已清算：%(fund)s") % {"fund": fund})
    return fund


# --- capital ----------------------------------------------------------------------------------


@transaction.atomic
def record_commitment(*, actor, fund, contributor, amount, committed_on, document):
    """A contributor's commitment (认缴) or a bond subscription: one per contributor, and all
    commitments together within the fund's size."""
    fund = _locked_fund(actor, fund.pk, COMMITMENT)
    party = party_of(contributor, "contributor")
    amount = parse_money(amount, "amount")
    committed_on = _date(committed_on, "committed_on")
    document = required_text(document, "document", _("请填写认缴协议或文件。"), max_length=200)
    if FundCommitment.objects.filter(fund=fund, contributor=party).exists():
        raise ConflictError(
            _("%(who)s 已认缴本基金，如需调整请联系管理人另行处理。") % {"who": party},
            code="duplicate_commitment",
            fields={"contributor": [_("该出资人已认缴。")]},
        )
    committed = FundCommitment.objects.filter(fund=fund).aggregate(s=Sum("amount"))["s"] or ZERO
    room = fund.size - committed
    if amount > room:
        raise ConflictError(
            _("认缴合计将超过基金规模 %(size)s 元：已认缴 %(committed)s 元，尚可认缴 %(room)s 元。")
            % {"size": fund.size, "committed": committed, "room": room},
            code="over_size",
            fields={"amount": [_("最多可认缴 %(room)s 元。") % {"room": room}]},
        )
    with audit_context(user=actor, reason=f"green fund {fund.number}: commitment"):
        return FundCommitment.objects.create(
            fund=fund,
            contributor=party,
            amount=amount,
            committed_on=committed_on,
            document=document,
            created_by=actor,
        )


@transaction.atomic
def record_contribution(*, actor, commitment, amount, occurred_on, reference="", memo=""):
    """Money paid in against a commitment: Dr cash / Cr the contributor's capital. The first
    contribution makes a RAISING fund ACTIVE."""
    fund, commitment = _locked_commitment(actor, commitment, K.CONTRIBUTION)
    amount = parse_money(amount, "amount")
    occurred_on = _not_before_issue(fund, _date(occurred_on, "occurred_on"), "occurred_on")
    if occurred_on < commitment.committed_on:
        raise _invalid("occurred_on", _("到账日期不能早于认缴日期。"))
    reference = _reference(fund, K.CONTRIBUTION, reference)
    paid_in, _redeemed = _capital_of(fund, commitment.contributor)
    room = commitment.amount - paid_in
    if amount > room:
        raise ConflictError(
            _("实缴将超过认缴：认缴 %(committed)s 元，已实缴 %(paid)s 元，尚可缴 %(room)s 元。")
            % {"committed": commitment.amount, "paid": paid_in, "room": room},
            code="over_commitment",
            fields={"amount": [_("最多可缴 %(room)s 元。") % {"room": room}]},
        )
    memo = _optional_text(memo, "memo", 200) or _("%(who)s 出资到账") % {"who": commitment.contributor}
    movement = _post(
        fund,
        actor=actor,
        kind=K.CONTRIBUTION,
        lines=[
            ledger.debit(CASH, _manager(fund), amount, fund.number),
            ledger.credit(CAPITAL, commitment.contributor, amount, fund.number),
        ],
        amount=amount,
        cash_effect=amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        counterparty=commitment.contributor,
        commitment=commitment,
    )
    if fund.status == FundStatus.RAISING:
        check_transition(FUND_TRANSITIONS, fund.status, FundStatus.ACTIVE, lambda s: FundStatus(s).label)
        with audit_context(user=actor, reason=f"green fund {fund.number}: first money in"):
            fund.status = FundStatus.ACTIVE
            fund.save(update_fields=["status"])
    return movement


@transaction.atomic
def redeem(*, actor, commitment, amount, occurred_on, reference=""):
    """退出/兑付: capital paid back to a contributor (a bond's principal at maturity), at most what
    it paid in less earlier redemptions, and never more than the fund's cash."""
    fund, commitment = _locked_commitment(actor, commitment, K.REDEMPTION)
    amount = parse_money(amount, "amount")
    occurred_on = _not_before_issue(fund, _date(occurred_on, "occurred_on"), "occurred_on")
    reference = _reference(fund, K.REDEMPTION, reference)
    paid_in, redeemed = _capital_of(fund, commitment.contributor)
    capital = paid_in - redeemed
    if amount > capital:
        raise ConflictError(
            _(
                "兑付金额超过该出资人的在投资本：已实缴 %(paid)s 元，已兑付 %(redeemed)s 元，尚可兑付 %(left)s 元。"
            )
            % {"paid": paid_in, "redeemed": redeemed, "left": capital},
            code="over_capital",
            fields={"amount": [_("最多可兑付 %(left)s 元。") % {"left": capital}]},
        )
    _ensure_cash(fund, amount, occurred_on)
    return _post(
        fund,
        actor=actor,
        kind=K.REDEMPTION,
        lines=[
            ledger.debit(CAPITAL, commitment.contributor, amount, fund.number),
            ledger.credit(CASH, _manager(fund), amount, fund.number),
        ],
        amount=amount,
        cash_effect=-amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=_("向 %(who)s 兑付") % {"who": commitment.contributor},
        counterparty=commitment.contributor,
        commitment=commitment,
    )


# --- deployment -------------------------------------------------------------------------------


def _backed(fund, project, loan):
    """(project, loan, party the money must go to): an admitted key project and/or an active
    loan inside the fund's division; with both, the project's owner must be the borrower."""
    if project is None and loan is None:
        message = _("投放须指明支持的重点项目或贷款。")
        raise DomainError(message, code="invalid", fields={"project": [message], "loan": [message]})
    owner = None
    if project is not None:
        if not isinstance(project, KeyProject) or project.pk is None:
            raise _invalid("project", _("请选择有效的重点项目。"))
        project = (
            KeyProject.objects.select_related("owner", "division")
            .defer("division__boundary")
            .get(pk=project.pk)
        )
        if project.status != ProjectStatus.ADMITTED:
            raise _invalid(
                "project",
                _("只能投放已入库的重点项目，该项目状态为“%(s)s”。") % {"s": project.get_status_display()},
            )
        if not fund.division.contains(project.division):
            raise _invalid("project", _("该项目不在基金覆盖区划内。"))
        owner = ensure_party(project.owner)
    if loan is not None:
        if not isinstance(loan, Loan) or loan.pk is None:
            raise _invalid("loan", _("请选择有效的贷款。"))
        loan = Loan.objects.select_related("borrower", "division").defer("division__boundary").get(pk=loan.pk)
        if loan.status != LoanStatus.ACTIVE:
            raise _invalid(
                "loan",
                _("只能支持正常还款中的贷款，该贷款状态为“%(s)s”。") % {"s": loan.get_status_display()},
            )
        if not fund.division.contains(loan.division):
            raise _invalid("loan", _("该贷款不在基金覆盖区划内。"))
        if owner is not None and owner.pk != loan.borrower_id:
            raise _invalid("loan", _("所选贷款的借款人不是该项目的业主。"))
        owner = loan.borrower
    return project, loan, owner


@transaction.atomic
def draw_down(*, actor, fund, amount, occurred_on, recipient, project=None, loan=None, reference="", memo):
    """投放: money out of the fund to a project's owner or a loan's borrower (Dr deployed / Cr
    cash), never more than the fund holds."""
    fund = _locked_fund(actor, fund.pk, K.DRAWDOWN)
    amount = parse_money(amount, "amount")
    occurred_on = _not_before_issue(fund, _date(occurred_on, "occurred_on"), "occurred_on")
    if fund.maturity_date is not None and occurred_on >= fund.maturity_date:
        raise _invalid(
            "occurred_on", _("基金已于 %(date)s 到期，不能再投放。") % {"date": fund.maturity_date}
        )
    project, loan, expected = _backed(fund, project, loan)
    recipient = party_of(recipient, "recipient")
    if recipient.pk != expected.pk:
        raise _invalid(
            "recipient",
            _("资金须投放给项目业主或贷款借款人（%(who)s）。") % {"who": expected},
        )
    memo = required_text(memo, "memo", _("请填写投放用途摘要。"), max_length=200)
    reference = _reference(fund, K.DRAWDOWN, reference)
    _ensure_cash(fund, amount, occurred_on)
    movement = _post(
        fund,
        actor=actor,
        kind=K.DRAWDOWN,
        lines=[
            ledger.debit(DEPLOYED, recipient, amount, fund.number),
            ledger.credit(CASH, _manager(fund), amount, fund.number),
        ],
        amount=amount,
        cash_effect=-amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        counterparty=recipient,
        project=project,
        loan=loan,
    )
    _notify(fund, actor, _("基金投放 %(amount)s 元：%(fund)s") % {"amount": amount, "fund": fund.name})
    return movement


def _locked_drawdown(actor, drawdown, what):
    if not isinstance(drawdown, FundMovement) or drawdown.pk is None:
        raise _invalid("drawdown", _("请选择一笔投放。"))
    fund = _locked_fund(actor, drawdown.fund_id, what)
    drawdown = FundMovement.objects.select_related("counterparty").get(pk=drawdown.pk)
    if drawdown.kind != K.DRAWDOWN:
        raise _invalid("drawdown", _("所选记录不是一笔投放。"))
    if FundMovement.objects.filter(reverses=drawdown).exists():
        raise ConflictError(_("该笔投放已冲正。"), code="already_reversed")
    return fund, drawdown


def _within_outstanding(drawdown, amount, occurred_on):
    if occurred_on < drawdown.occurred_on:
        raise _invalid("occurred_on", _("日期不能早于投放日期 %(date)s。") % {"date": drawdown.occurred_on})
    outstanding = drawdown_outstanding(drawdown)
    if amount > outstanding:
        raise ConflictError(
            _("金额超过该笔投放的未收回余额 %(left)s 元。") % {"left": outstanding},
            code="over_outstanding",
            fields={"amount": [_("最多 %(left)s 元。") % {"left": outstanding}]},
        )


def _followup_links(drawdown):
    return {
        "drawdown": drawdown,
        "counterparty": drawdown.counterparty,
        "project_id": drawdown.project_id,
        "loan_id": drawdown.loan_id,
    }


@transaction.atomic
def record_return(*, actor, drawdown, amount, occurred_on, reference="", memo=""):
    """收回: money back from a drawdown's recipient (Dr cash / Cr deployed)."""
    fund, drawdown = _locked_drawdown(actor, drawdown, K.RETURN)
    amount = parse_money(amount, "amount")
    occurred_on = _date(occurred_on, "occurred_on")
    _within_outstanding(drawdown, amount, occurred_on)
    reference = _reference(fund, K.RETURN, reference)
    memo = _optional_text(memo, "memo", 200) or _("收回投放（%(who)s）") % {"who": drawdown.counterparty}
    return _post(
        fund,
        actor=actor,
        kind=K.RETURN,
        lines=[
            ledger.debit(CASH, _manager(fund), amount, fund.number),
            ledger.credit(DEPLOYED, drawdown.counterparty, amount, fund.number),
        ],
        amount=amount,
        cash_effect=amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        **_followup_links(drawdown),
    )


@transaction.atomic
def write_off(*, actor, drawdown, amount, occurred_on, reason, reference=""):
    """核销: a loss on a drawdown that will not come back (Dr expense / Cr deployed; no cash)."""
    fund, drawdown = _locked_drawdown(actor, drawdown, K.WRITE_OFF)
    amount = parse_money(amount, "amount")
    occurred_on = _date(occurred_on, "occurred_on")
    reason = required_text(reason, "reason", _("请填写核销原因及依据。"), max_length=200)
    _within_outstanding(drawdown, amount, occurred_on)
    reference = _reference(fund, K.WRITE_OFF, reference)
    return _post(
        fund,
        actor=actor,
        kind=K.WRITE_OFF,
        lines=[
            ledger.debit(EXPENSE, _manager(fund), amount, fund.number),
            ledger.credit(DEPLOYED, drawdown.counterparty, amount, fund.number),
        ],
        amount=amount,
        cash_effect=ZERO,
        occurred_on=occurred_on,
        reference=reference,
        memo=_("核销：%(reason)s") % {"reason": reason},
        **_followup_links(drawdown),
    )


# --- income and expense -----------------------------------------------------------------------


def _income_or_expense(*, actor, fund, kind, amount, occurred_on, reference, memo, counterparty):
    fund = _locked_fund(actor, fund.pk, kind)
    amount = parse_money(amount, "amount")
    occurred_on = _not_before_issue(fund, _date(occurred_on, "occurred_on"), "occurred_on")
    memo = required_text(memo, "memo", _("请填写摘要（如利息收入、管理费、债券付息）。"), max_length=200)
    counterparty = party_of(counterparty, "counterparty") if counterparty is not None else None
    reference = _reference(fund, kind, reference)
    manager = _manager(fund)
    if kind == K.INCOME:
        lines = [
            ledger.debit(CASH, manager, amount, fund.number),
            ledger.credit(INCOME, manager, amount, fund.number),
        ]
        effect = amount
    else:
        _ensure_cash(fund, amount, occurred_on)
        lines = [
            ledger.debit(EXPENSE, manager, amount, fund.number),
            ledger.credit(CASH, manager, amount, fund.number),
        ]
        effect = -amount
    return _post(
        fund,
        actor=actor,
        kind=kind,
        lines=lines,
        amount=amount,
        cash_effect=effect,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        counterparty=counterparty,
    )


@transaction.atomic
def record_income(*, actor, fund, amount, occurred_on, reference="", memo, counterparty=None):
    """收益 (interest, dividends, guarantee fees): Dr cash / Cr income."""
    return _income_or_expense(
        actor=actor,
        fund=fund,
        kind=K.INCOME,
        amount=amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        counterparty=counterparty,
    )


@transaction.atomic
def record_expense(*, actor, fund, amount, occurred_on, reference="", memo, counterparty=None):
    """费用/付息 (a bond's coupon, management fees): Dr expense / Cr cash, within the cash."""
    return _income_or_expense(
        actor=actor,
        fund=fund,
        kind=K.EXPENSE,
        amount=amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        counterparty=counterparty,
    )


# --- reversal ---------------------------------------------------------------------------------


@transaction.atomic
def reverse_fund_movement(*, actor, fund_movement, reason):
    """冲正: the ledger's mirror image of a mistaken movement, dated today, plus a REVERSAL row
    naming it. Refused when it would leave the fund short of cash, undo capital already
    redeemed, or orphan the returns/write-offs of a drawdown (reverse those first)."""
    if not isinstance(fund_movement, FundMovement) or fund_movement.pk is None:
        raise _invalid("fund_movement", _("请选择要冲正的记录。"))
    fund = _locked_fund(actor, fund_movement.fund_id, K.REVERSAL)
    original = FundMovement.objects.select_related("movement", "counterparty").get(pk=fund_movement.pk)
    reason = required_text(reason, "reason", _("请填写冲正原因。"), max_length=200)
    if original.kind == K.REVERSAL:
        raise ConflictError(_("冲正记录不能再冲正。"), code="cannot_reverse_reversal")
    if FundMovement.objects.filter(reverses=original).exists():
        raise ConflictError(_("该记录已冲正。"), code="already_reversed")
    if (
        original.kind == K.DRAWDOWN
        and FundMovement.objects.filter(drawdown=original, reversed_by__isnull=True)
        .exclude(kind=K.REVERSAL)
        .exists()
    ):
        raise ConflictError(_("该笔投放已有收回或核销记录，请先冲正这些记录。"), code="has_followups")
    if original.kind == K.CONTRIBUTION:
        paid_in, redeemed = _capital_of(fund, original.counterparty)
        if original.amount > paid_in - redeemed:
            raise ConflictError(
                _("该出资已部分兑付（在投资本 %(left)s 元），请先冲正兑付记录。")
                % {"left": paid_in - redeemed},
                code="capital_redeemed",
            )
    today = timezone.localdate()
    if original.cash_effect > 0:
        _ensure_cash(fund, original.cash_effect, today)
    with audit_context(user=actor, reason=f"green fund {fund.number}: reversal of {original.pk}"):
        movement = ledger.reverse(actor=actor, movement=original.movement, reason=reason)
        return FundMovement.objects.create(
            fund=fund,
            kind=K.REVERSAL,
            occurred_on=movement.occurred_on,
            amount=original.amount,
            cash_effect=-original.cash_effect,
            counterparty=original.counterparty,
            commitment_id=original.commitment_id,
            project_id=original.project_id,
            loan_id=original.loan_id,
            # a reversal of a drawdown or of its follow-ups counts under that drawdown
            drawdown_id=original.pk if original.kind == K.DRAWDOWN else original.drawdown_id,
            reverses=original,
            memo=_("冲正 %(kind)s #%(pk)s：%(reason)s")
            % {"kind": original.get_kind_display(), "pk": original.pk, "reason": reason},
            reference=original.reference,
            movement=movement,
            recorded_by=actor,
        )


# --- position ---------------------------------------------------------------------------------


def _blank_flow():
    return {"drawn": ZERO, "returned": ZERO, "written_off": ZERO, "outstanding": ZERO}


def fund_position(fund):
    """The fund's figures read back from the ledger (postings with the fund's number as
    sub-account) in five queries whatever its size: totals, per contributor (committed, paid in,
    redeemed, capital), per project and per loan (drawn, returned, written off, outstanding), and
    the outstanding of each drawdown."""
    rows = (
        Posting.objects.filter(account__sub_account=fund.number, account__kind__in=FUND_ACCOUNT_KINDS)
        .values(
            "account__kind",
            "account__party",
            project=F("movement__green_fund_movement__project"),
            loan=F("movement__green_fund_movement__loan"),
            kind=EFFECTIVE_KIND,
            drawdown=Case(
                When(
                    account__kind=DEPLOYED,
                    then=Coalesce(
                        "movement__green_fund_movement__drawdown", "movement__green_fund_movement__id"
                    ),
                ),
                output_field=IntegerField(),
            ),
        )
        .annotate(s=Sum("amount"))
        .order_by()
    )
    totals = dict.fromkeys(FUND_ACCOUNT_KINDS, ZERO)
    by_kind = {}
    capital = {}  # party id → {"paid_in", "redeemed"}
    projects, loans, drawdowns = {}, {}, {}
    for row in rows:
        account, amount, kind = row["account__kind"], row["s"], row["kind"]
        totals[account] += amount
        by_kind[(account, kind)] = by_kind.get((account, kind), ZERO) + amount
        if account == CAPITAL:
            figures = capital.setdefault(row["account__party"], {"paid_in": ZERO, "redeemed": ZERO})
            if kind == K.CONTRIBUTION:
                figures["paid_in"] -= amount
            elif kind == K.REDEMPTION:
                figures["redeemed"] += amount
        if account == DEPLOYED:
            drawdowns[row["drawdown"]] = drawdowns.get(row["drawdown"], ZERO) + amount
            flow_key = {K.DRAWDOWN: "drawn", K.RETURN: "returned", K.WRITE_OFF: "written_off"}.get(kind)
            for key, store in (("project", projects), ("loan", loans)):
                if row[key] is None:
                    continue
                flow = store.setdefault(row[key], _blank_flow())
                flow["outstanding"] += amount
                if flow_key:
                    flow[flow_key] += amount if flow_key == "drawn" else -amount

    commitments = list(
        FundCommitment.objects.filter(fund=fund)
        .select_related("contributor__organization", "contributor__person")
        .order_by("pk")
    )
    contributors = []
    for commitment in commitments:
        figures = capital.get(commitment.contributor_id, {"paid_in": ZERO, "redeemed": ZERO})
        contributors.append(
            {
                "commitment": commitment,
                "contributor": commitment.contributor,
                "committed": commitment.amount,
                "paid_in": figures["paid_in"],
                "redeemed": figures["redeemed"],
                "capital": figures["paid_in"] - figures["redeemed"],
                "uncalled": commitment.amount - figures["paid_in"],
            }
        )
    project_rows = KeyProject.objects.filter(pk__in=list(projects)).select_related("owner").order_by("number")
    loan_rows = (
        Loan.objects.filter(pk__in=list(loans))
        .select_related("bank", "borrower__organization", "borrower__person")
        .order_by("number")
    )
    drawdown_rows = (
        FundMovement.objects.filter(pk__in=[pk for pk in drawdowns if pk is not None], kind=K.DRAWDOWN)
        .select_related(
            "counterparty__organization", "counterparty__person", "project", "loan", "reversed_by"
        )
        .order_by("occurred_on", "pk")
    )

    def flow(key):
        return -by_kind.get(key, ZERO)

    paid_in = flow((CAPITAL, K.CONTRIBUTION))
    redeemed = by_kind.get((CAPITAL, K.REDEMPTION), ZERO)
    committed = sum((c.amount for c in commitments), ZERO)
    return {
        "size": fund.size,
        "committed": committed,
        "uncommitted": fund.size - committed,
        "paid_in": paid_in,
        "uncalled": committed - paid_in,
        "redeemed": redeemed,
        "capital": -totals[CAPITAL],
        "cash": totals[CASH],
        "drawn": by_kind.get((DEPLOYED, K.DRAWDOWN), ZERO),
        "returned": flow((DEPLOYED, K.RETURN)),
        "written_off": flow((DEPLOYED, K.WRITE_OFF)),
        "deployed": totals[DEPLOYED],
        "income": -totals[INCOME],
        "expense": by_kind.get((EXPENSE, K.EXPENSE), ZERO),
        "losses": by_kind.get((EXPENSE, K.WRITE_OFF), ZERO),
        "result": -totals[INCOME] - totals[EXPENSE],
        "contributors": contributors,
        "projects": [{"project": p, **projects[p.pk]} for p in project_rows],
        "loans": [{"loan": loan, **loans[loan.pk]} for loan in loan_rows],
        "drawdowns": [{"drawdown": d, "outstanding": drawdowns[d.pk]} for d in drawdown_rows],
    }
