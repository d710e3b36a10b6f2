"""The cooperative's own books beyond trading: paid-in capital, borrowings and their repayment,
and equity stakes in firms (参股企业). Every yuan goes through `transactions.services.ledger.post`
on the cooperative's party; this module also reads the ledger back as a balance sheet, which is
what the red lines are computed from.

Accounts (debit positive, credit negative):
- capital:      debit CASH, credit PAID_IN_CAPITAL (movement CAPITAL_CONTRIBUTION);
- borrowing:    debit CASH, credit BORROWINGS (BORROWING); repayment the mirror (BORROWING_REPAYMENT);
- equity stake: debit EQUITY_INVESTMENTS, credit CASH at cost (EQUITY_INVESTMENT);
- disposal:     debit CASH with the proceeds, credit EQUITY_INVESTMENTS at cost, the difference to
  DISPOSAL_RESULT_ACCOUNT (EQUITY_DISPOSAL).

Whose money is it: the cooperative's own accounts are those of its party. The per-counterparty
accounts (DEPOSIT_HELD, RECEIVABLE, PAYABLE: party = the investor, holder or household) belong to
the cooperative whose own accounts are posted in the same movement. One movement kind posts no own
account at all: DEPOSIT_APPLIED (deposit held → price receivable, both on the investor's party);
it names its trade contract, whose cooperative it belongs to (`attribution_problems` lists any
movement that neither rule attributes to exactly one cooperative).

The lender of a borrowing: BORROWINGS is one own account per cooperative and a movement has no
counterparty field, so each borrowing and repayment is also a `projects.models.Borrowing` row
(cooperative, lender, borrow|repay, amount, day) created with its movement in one transaction.
What is owed to a lender is SUM(borrow) − SUM(repay) of those rows in SQL (rows whose movement was
reversed in the ledger do not count); a repayment is checked against it under a per-lender lock.
A caller's idempotency key (form token, Idempotency-Key header) becomes the movement's key,
prefixed with the kind of record only so that one token cannot collide with another kind of
record; nothing is ever read back from a key.

Results: income and cost accounts (RESULT_KINDS, 投资收益 among them) are neither assets nor
liabilities; they reach the balance sheet through net assets, which equal paid-in capital plus the
accumulated result when every movement is attributed.
"""

import hashlib
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Organization, OrganizationKind, Party, PartyKind
from directory.permissions import Capability
from directory.services import ensure_party
from finance.services.risk import business_date
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions._money import CENT, parse_money
from transactions.models import AccountKind, Movement, MovementKind, Posting
from transactions.services import ledger

from ..models import Borrowing, BorrowingKind, EquityStake
from .common import require, required_text

ZERO = Decimal("0.00")
SHARE_PLACES = Decimal("0.000001")  # EquityStake.share
MONEY = DecimalField(max_digits=16, decimal_places=2)
# The gain or loss on disposing of a stake is 投资收益: an income account (a gain is credited, a
# loss debited), neither an asset nor a liability, so it changes net assets only through the result.
DISPOSAL_RESULT_ACCOUNT = AccountKind.INVESTMENT_INCOME
# Income and cost accounts of the cooperative (credit balance = income, debit = cost).
RESULT_KINDS = (
    AccountKind.TRADE_INCOME,
    AccountKind.FORFEIT_INCOME,
    AccountKind.INVESTMENT_INCOME,
    AccountKind.COLLECTION_COST,
    AccountKind.DIVIDEND_COST,
    AccountKind.LOSS_COST,
)
# Kinds posted on the cooperative's own party (see transactions.models.AccountKind).
OWN_KINDS = (
    AccountKind.CASH,
    AccountKind.BUYBACK_ASSETS,
    AccountKind.EQUITY_INVESTMENTS,
    AccountKind.BORROWINGS,
    AccountKind.PAID_IN_CAPITAL,
    *RESULT_KINDS,
)
COUNTERPARTY_KINDS = (AccountKind.DEPOSIT_HELD, AccountKind.RECEIVABLE, AccountKind.PAYABLE)
ASSET_KINDS = (
    AccountKind.CASH,
    AccountKind.RECEIVABLE,
    AccountKind.BUYBACK_ASSETS,
    AccountKind.EQUITY_INVESTMENTS,
)
LIABILITY_KINDS = (AccountKind.BORROWINGS, AccountKind.DEPOSIT_HELD, AccountKind.PAYABLE)
# Investees: firms, village companies and collectives, banks or guarantors, other cooperatives —
# not a government department.
INVESTEE_KINDS = tuple(k for k in OrganizationKind.values if k != OrganizationKind.GOVERNMENT)
KEY_PREFIX = "projects:"
TOKEN_LENGTH = 40


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def cents(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _cooperative(cooperative):
    if not isinstance(cooperative, Organization) or cooperative.kind != OrganizationKind.COOPERATIVE:
        raise _invalid("cooperative", _("请选择两山合作社。"))
    if not cooperative.is_active:
        raise _invalid("cooperative", _("该合作社已停用。"))
    return cooperative


def _organization(value, field, message):
    if not isinstance(value, Organization) or not value.is_active:
        raise _invalid(field, message)
    return value


def cooperative_party(cooperative):
    """The cooperative's ledger party without creating one (a read must not write); None if it has
    never been used."""
    return Party.objects.filter(kind=PartyKind.ORGANIZATION, organization_id=cooperative.pk).first()


# --- idempotency keys -------------------------------------------------------------------------


def _token(value):
    """A caller's key (form token or Idempotency-Key header) as is, hashed when too long for the
    movement's key column; a fresh one if none."""
    if value is None or str(value).strip() == "":
        return uuid.uuid4().hex
    value = str(value).strip()
    if len(value) <= TOKEN_LENGTH:
        return value
    return hashlib.sha256(value.encode()).hexdigest()[:TOKEN_LENGTH]


def stake_idempotency_key(cooperative, token):
    """The ledger key of an equity stake recorded under a caller's token (the API uses it to tell a
    replay from a new registration)."""
    return f"{KEY_PREFIX}stake:{cooperative.pk}:{_token(token)}"


def kind_key(kind, token):
    """The movement key of a caller's key for one kind of record; None without a caller's key."""
    if token is None or str(token).strip() == "":
        return None
    return f"{KEY_PREFIX}{kind}:{_token(token)}"


def _same_lines(movement, lines):
    posted = sorted(
        (p.account.kind, p.account.party_id, p.amount) for p in movement.postings.select_related("account")
    )
    wanted = sorted((line.kind, line.party.pk, line.amount) for line in lines if line.amount != 0)
    return posted == wanted


def _replay(key, kind, lines):
    """The movement already recorded under `key` (a form submitted twice, a retried request), if
    it is the same movement; a different one under the same key is refused."""
    earlier = Movement.objects.filter(idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.kind != kind or not _same_lines(earlier, lines):
        raise ConflictError(_("此幂等键已用于内容不同的记账。"), code="idempotency_key_reused")
    return earlier


def _post(actor, *, kind, memo, lines, occurred_on, reference, key):
    try:
        return ledger.post(
            actor=actor,
            kind=kind,
            memo=memo,
            lines=lines,
            occurred_on=occurred_on,
            reference=reference,
            idempotency_key=key,
        )
    except ledger.AlreadyPosted as replay:  # the same key committed meanwhile
        return _replay(replay.movement.idempotency_key, kind, lines)


# --- capital and borrowings -------------------------------------------------------------------


def _money_inputs(actor, cooperative, amount, occurred_on, reference, memo):
    cooperative = _cooperative(cooperative)
    require(actor, Capability.MANAGE_PROJECTS, division=cooperative.division)
    amount = parse_money(amount, "amount")
    occurred_on = business_date(occurred_on, "occurred_on")
    reference = required_text(reference, "reference", _("请填写银行流水号或凭证号。"), max_length=60)
    memo = required_text(memo, "memo", _("请填写摘要。"), max_length=200)
    return cooperative, amount, occurred_on, reference, memo


@transaction.atomic
def record_capital(*, actor, cooperative, amount, occurred_on, reference, memo, idempotency_key=None):
    """Paid-in capital received (资本金到账): debit CASH, credit PAID_IN_CAPITAL."""
    cooperative, amount, occurred_on, reference, memo = _money_inputs(
        actor, cooperative, amount, occurred_on, reference, memo
    )
    party = ensure_party(cooperative)
    key = f"{KEY_PREFIX}capital:{cooperative.pk}:{_token(idempotency_key)}"
    lines = [
        ledger.debit(AccountKind.CASH, party, amount),
        ledger.credit(AccountKind.PAID_IN_CAPITAL, party, amount),
    ]
    kind = MovementKind.CAPITAL_CONTRIBUTION
    earlier = _replay(key, kind, lines)
    if earlier is not None:
        return earlier
    return _post(
        actor,
        kind=kind,
        memo=_("资本金到账 %(amount)s 元：%(memo)s") % {"amount": amount, "memo": memo},
        lines=lines,
        occurred_on=occurred_on,
        reference=reference,
        key=key,
    )


def _lender(cooperative, lender):
    lender = _organization(lender, "lender", _("请选择出借方。"))
    if lender.pk == cooperative.pk:
        raise _invalid("lender", _("合作社不能向自己借款。"))
    return lender


# A borrowing's movement kind, its lines (debit-positive on the cooperative's party) and its memo.
BORROWING_MOVEMENTS = {
    BorrowingKind.BORROW: MovementKind.BORROWING,
    BorrowingKind.REPAY: MovementKind.BORROWING_REPAYMENT,
}


def _borrowing_lines(kind, party, amount):
    if kind == BorrowingKind.BORROW:
        return [
            ledger.debit(AccountKind.CASH, party, amount),
            ledger.credit(AccountKind.BORROWINGS, party, amount),
        ]
    return [
        ledger.debit(AccountKind.BORROWINGS, party, amount),
        ledger.credit(AccountKind.CASH, party, amount),
    ]


def _borrowing_memo(kind, lender, amount, memo):
    values = {"lender": lender.name, "amount": amount, "memo": memo}
    if kind == BorrowingKind.BORROW:
        return _("向 %(lender)s 借入 %(amount)s 元：%(memo)s") % values
    return _("归还 %(lender)s 借款 %(amount)s 元：%(memo)s") % values


def _borrowing_replay(key, kind, lines, lender):
    """The Borrowing recorded earlier under `key`, if it is the same record (same kind, lines and
    lender); a different one under the same key is refused."""
    if key is None:
        return None
    earlier = _replay(key, BORROWING_MOVEMENTS[kind], lines)
    if earlier is None:
        return None
    row = Borrowing.objects.filter(movement=earlier).first()
    if row is None or row.kind != kind or row.lender_id != lender.pk:
        raise ConflictError(_("此幂等键已用于内容不同的记账。"), code="idempotency_key_reused")
    return row


def _lock_lender(cooperative, lender):
    """Serialise repayments to one lender of one cooperative until the transaction ends, so the
    check "not more than owed" and the repayment's insert are one step: two clerks cannot both
    repay the last 60,000 元. Borrowing needs no lock: it never lowers what is owed. (hashtext
    collisions only serialise more.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tmcs-borrowing:{cooperative.pk}:{lender.pk}"]
        )


def _record(*, actor, kind, cooperative, lender, amount, occurred_on, reference, memo, idempotency_key):
    cooperative, amount, occurred_on, reference, memo = _money_inputs(
        actor, cooperative, amount, occurred_on, reference, memo
    )
    lender = _lender(cooperative, lender)
    party = ensure_party(cooperative)
    key = kind_key(kind, idempotency_key)
    lines = _borrowing_lines(kind, party, amount)
    if kind == BorrowingKind.REPAY:
        _lock_lender(cooperative, lender)  # before the replay check: a concurrent twin has committed by then
    earlier = _borrowing_replay(key, kind, lines, lender)
    if earlier is not None:
        return earlier
    if kind == BorrowingKind.REPAY:
        repayable = _repayable(cooperative, lender, occurred_on)
        if amount > repayable:
            message = _("还款金额 %(amount)s 元超过 %(day)s 尚欠 %(lender)s 的借款余额 %(owed)s 元。") % {
                "amount": amount,
                "day": occurred_on,
                "lender": lender.name,
                "owed": repayable,
            }
            raise ConflictError(message, code="repayment_exceeds_borrowing", fields={"amount": [message]})
    try:
        movement = ledger.post(
            actor=actor,
            kind=BORROWING_MOVEMENTS[kind],
            memo=_borrowing_memo(kind, lender, amount, memo),
            lines=lines,
            occurred_on=occurred_on,
            reference=reference,
            idempotency_key=key,
        )
    except ledger.AlreadyPosted:  # the same key committed meanwhile (with its Borrowing row)
        return _borrowing_replay(key, kind, lines, lender)
    with audit_context(user=actor, reason=f"{kind} {amount} with lender {lender.pk}"):
        return Borrowing.objects.create(
            cooperative=cooperative,
            lender=lender,
            kind=kind,
            amount=amount,
            occurred_on=occurred_on,
            movement=movement,
            created_by=actor,
        )


@transaction.atomic
def record_borrowing(
    *, actor, cooperative, lender, amount, occurred_on, reference, memo, idempotency_key=None
):
    """Money borrowed (借入资金) from `lender`: debit CASH, credit BORROWINGS, and the Borrowing
    row naming the lender. Returns the Borrowing (its `movement` is the ledger entry)."""
    return _record(
        actor=actor,
        kind=BorrowingKind.BORROW,
        cooperative=cooperative,
        lender=lender,
        amount=amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def repay_borrowing(
    *, actor, cooperative, lender, amount, occurred_on, reference, memo, idempotency_key=None
):
    """A repayment to `lender` (归还借款): debit BORROWINGS, credit CASH, and the Borrowing row.
    Never more than what is owed to that lender on that day or any later day already booked,
    checked under the lender's lock. Returns the Borrowing."""
    return _record(
        actor=actor,
        kind=BorrowingKind.REPAY,
        cooperative=cooperative,
        lender=lender,
        amount=amount,
        occurred_on=occurred_on,
        reference=reference,
        memo=memo,
        idempotency_key=idempotency_key,
    )


# Borrowed positive, repaid negative.
SIGNED_AMOUNT = Case(
    When(kind=BorrowingKind.REPAY, then=-F("amount")), default=F("amount"), output_field=MONEY
)


def counted_borrowings(cooperative, *, lender=None, on=None):
    """The cooperative's Borrowing rows that count: up to the end of `on` (default all), their
    movement not reversed in the ledger (a reversal takes the money back out of BORROWINGS)."""
    rows = Borrowing.objects.filter(cooperative=cooperative, movement__reversed_by__isnull=True)
    if lender is not None:
        rows = rows.filter(lender=lender)
    if on is not None:
        rows = rows.filter(occurred_on__lte=on)
    return rows


def outstanding_borrowing(cooperative, lender, *, on=None):
    """What the cooperative owes `lender` at the end of `on` (default: everything recorded)."""
    total = counted_borrowings(cooperative, lender=lender, on=on).aggregate(s=Sum(SIGNED_AMOUNT))["s"]
    return cents(total or ZERO)


def _repayable(cooperative, lender, on):
    """The most that can be repaid on `on` without the debt to `lender` going below zero on that
    day or on any later day already booked (one grouped query)."""
    rows = (
        counted_borrowings(cooperative, lender=lender)
        .values("occurred_on")
        .annotate(s=Sum(SIGNED_AMOUNT))
        .order_by("occurred_on")
    )
    owed, on_the_day, later = ZERO, ZERO, []
    for row in rows:
        owed += row["s"]
        if row["occurred_on"] <= on:
            on_the_day = owed
        else:
            later.append(owed)
    return cents(min([on_the_day, *later]))


def borrowings_by_lender(cooperative, as_of=None):
    """[{lender_id, lender, borrowed, repaid, outstanding, entries}] of every lender the
    cooperative has dealt with up to the end of `as_of`, largest debt first (one query)."""
    zero = Value(ZERO, output_field=MONEY)
    rows = (
        counted_borrowings(cooperative, on=as_of)
        .values("lender", "lender__name")
        .annotate(
            borrowed=Coalesce(Sum("amount", filter=Q(kind=BorrowingKind.BORROW)), zero),
            repaid=Coalesce(Sum("amount", filter=Q(kind=BorrowingKind.REPAY)), zero),
            entries=Count("pk"),
        )
        .annotate(outstanding=F("borrowed") - F("repaid"))
        .order_by("-outstanding", "lender__name", "lender")
    )
    return [
        {
            "lender_id": row["lender"],
            "lender": row["lender__name"],
            "borrowed": cents(row["borrowed"]),
            "repaid": cents(row["repaid"]),
            "outstanding": cents(row["outstanding"]),
            "entries": row["entries"],
        }
        for row in rows
    ]


# --- equity stakes ----------------------------------------------------------------------------


def _share(value):
    try:
        share = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        share = None
    if share is None or not share.is_finite():
        raise _invalid("share", _("持股比例不是有效数字。"))
    if not Decimal(0) < share <= Decimal(1):
        raise _invalid("share", _("持股比例须大于0且不超过1（如 0.3 表示 30%）。"))
    if share != share.quantize(SHARE_PLACES):
        raise _invalid("share", _("持股比例最多保留六位小数。"))
    return share


def _duplicate_stake(investee):
    message = _(
        "本社已持有 %(name)s 的股权（尚未退出），同一企业只能登记一笔在持投资；增资请先办理退出后重新登记。"
    ) % {"name": investee.name}
    return ConflictError(message, code="duplicate_stake", fields={"investee": [message]})


@transaction.atomic
def record_equity_stake(
    *,
    actor,
    cooperative,
    investee,
    amount,
    share,
    acquired_on,
    source_document,
    reference,
    idempotency_key=None,
):
    """An equity investment (对外股权投资): the stake and its movement (debit EQUITY_INVESTMENTS,
    credit CASH at cost). One open stake per investee (database constraint)."""
    cooperative = _cooperative(cooperative)
    require(actor, Capability.MANAGE_PROJECTS, division=cooperative.division)
    investee = _organization(investee, "investee", _("请选择被投资企业。"))
    if investee.pk == cooperative.pk:
        raise _invalid("investee", _("合作社不能投资自己。"))
    if investee.kind not in INVESTEE_KINDS:
        raise _invalid("investee", _("被投资方不能是政府部门。"))
    amount = parse_money(amount, "amount")
    share = _share(share)
    acquired_on = business_date(acquired_on, "acquired_on")
    source_document = required_text(
        source_document, "source_document", _("请填写决策文件（如“三重一大”会议纪要编号）。"), max_length=200
    )
    reference = required_text(reference, "reference", _("请填写银行流水号或凭证号。"), max_length=60)
    party = ensure_party(cooperative)
    key = stake_idempotency_key(cooperative, idempotency_key)
    lines = [
        ledger.debit(AccountKind.EQUITY_INVESTMENTS, party, amount),
        ledger.credit(AccountKind.CASH, party, amount),
    ]
    kind = MovementKind.EQUITY_INVESTMENT
    earlier = _replay(key, kind, lines)
    if earlier is not None:
        stake = EquityStake.objects.filter(movement=earlier).first()
        if stake is None or stake.investee_id != investee.pk:
            raise ConflictError(_("此幂等键已用于内容不同的记账。"), code="idempotency_key_reused")
        return stake
    if EquityStake.objects.filter(
        cooperative=cooperative, investee=investee, disposed_on__isnull=True
    ).exists():
        raise _duplicate_stake(investee)
    movement = _post(
        actor,
        kind=kind,
        memo=_("对 %(name)s 股权投资 %(amount)s 元（持股 %(share)s）")
        % {"name": investee.name, "amount": amount, "share": share.normalize()},
        lines=lines,
        occurred_on=acquired_on,
        reference=reference,
        key=key,
    )
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"equity stake in {investee.pk}"):
            return EquityStake.objects.create(
                cooperative=cooperative,
                investee=investee,
                amount=amount,
                share=share,
                acquired_on=acquired_on,
                source_document=source_document,
                movement=movement,
                created_by=actor,
            )
    except IntegrityError as exc:  # a concurrent registration of the same investee won
        if "one_open_stake_per_investee" in str(exc):
            raise _duplicate_stake(investee) from None
        raise


def _disposal_lines(stake, party, proceeds):
    gain = proceeds - stake.amount
    lines = [
        ledger.debit(AccountKind.CASH, party, proceeds),
        ledger.credit(AccountKind.EQUITY_INVESTMENTS, party, stake.amount),
    ]
    if gain > 0:
        lines.append(ledger.credit(DISPOSAL_RESULT_ACCOUNT, party, gain))
    elif gain < 0:
        lines.append(ledger.debit(DISPOSAL_RESULT_ACCOUNT, party, -gain))
    return lines


@transaction.atomic
def dispose_equity_stake(*, actor, stake, proceeds, disposed_on, reference):
    """The stake sold or wound up (收回股权投资): debit CASH with the proceeds, credit
    EQUITY_INVESTMENTS at cost, the difference to DISPOSAL_RESULT_ACCOUNT. Submitting the same
    disposal twice returns the stake as disposed the first time."""
    stake = (
        EquityStake.objects.select_for_update(of=("self",))
        .select_related("cooperative__division", "investee")
        .get(pk=stake.pk)
    )
    require(actor, Capability.MANAGE_PROJECTS, division=stake.cooperative.division)
    proceeds = parse_money(proceeds, "proceeds", allow_zero=True)
    disposed_on = business_date(disposed_on, "disposed_on")
    reference = required_text(reference, "reference", _("请填写银行流水号或凭证号。"), max_length=60)
    party = ensure_party(stake.cooperative)
    lines = _disposal_lines(stake, party, proceeds)
    if stake.disposed_on is not None:
        movement = stake.disposal_movement
        if stake.disposed_on == disposed_on and movement is not None and _same_lines(movement, lines):
            return stake
        raise ConflictError(
            _("该笔投资已于 %(day)s 退出。") % {"day": stake.disposed_on}, code="already_disposed"
        )
    if disposed_on < stake.acquired_on:
        raise _invalid("disposed_on", _("退出日期不能早于投资日期（%(day)s）。") % {"day": stake.acquired_on})
    gain = proceeds - stake.amount
    movement = _post(
        actor,
        kind=MovementKind.EQUITY_DISPOSAL,
        memo=_("收回对 %(name)s 的股权投资：成本 %(cost)s 元，收回 %(proceeds)s 元，投资收益 %(gain)s 元")
        % {"name": stake.investee.name, "cost": stake.amount, "proceeds": proceeds, "gain": gain},
        lines=lines,
        occurred_on=disposed_on,
        reference=reference,
        key=f"{KEY_PREFIX}dispose:{stake.pk}",
    )
    with audit_context(user=actor, reason=f"dispose equity stake {stake.pk}"):
        stake.disposed_on = disposed_on
        stake.disposal_movement = movement
        stake.save(update_fields=["disposed_on", "disposal_movement"])
    return stake


def open_stakes(cooperative, on=None):
    """Stakes the cooperative held at the end of `on` (default today)."""
    on = on or timezone.localdate()
    return EquityStake.objects.filter(cooperative=cooperative, acquired_on__lte=on).filter(
        Q(disposed_on__isnull=True) | Q(disposed_on__gt=on)
    )


# --- reading the books back -------------------------------------------------------------------


def attributed_postings(cooperative, party):
    """Per-counterparty postings that belong to the cooperative: its own accounts are posted in
    the same movement or, when the movement posts no cooperative's own account (DEPOSIT_APPLIED),
    its trade contract is the cooperative's."""
    own = Posting.objects.filter(
        movement=OuterRef("movement"),
        account__kind__in=OWN_KINDS,
        account__party__organization__kind=OrganizationKind.COOPERATIVE,
    )
    mine = own.filter(account__party=party)
    by_contract = Q(movement__trade_contract__cooperative=cooperative) | Q(
        movement__reverses__trade_contract__cooperative=cooperative
    )
    return Posting.objects.filter(account__kind__in=COUNTERPARTY_KINDS).filter(
        Exists(mine) | (~Exists(own) & by_contract)
    )


def account_balances(cooperative, as_of=None):
    """{kind: debit-positive balance} of the cooperative's own accounts and the per-counterparty
    accounts attributed to it, from movements up to the end of `as_of`, and {kind: number of
    counterparties}. Two queries whatever the number of movements."""
    as_of = as_of or timezone.localdate()
    balances = dict.fromkeys(AccountKind.values, ZERO)
    counterparties = dict.fromkeys(COUNTERPARTY_KINDS, 0)
    party = cooperative_party(cooperative)
    if party is None:
        return balances, counterparties
    own = (
        Posting.objects.filter(
            account__party=party, account__kind__in=OWN_KINDS, movement__occurred_on__lte=as_of
        )
        .values("account__kind")
        .annotate(total=Sum("amount"))
    )
    for row in own:
        balances[row["account__kind"]] = cents(row["total"])
    theirs = (
        attributed_postings(cooperative, party)
        .filter(movement__occurred_on__lte=as_of)
        .values("account__kind")
        .annotate(total=Sum("amount"), parties=Count("account__party", distinct=True))
    )
    for row in theirs:
        balances[row["account__kind"]] = cents(row["total"])
        counterparties[row["account__kind"]] = row["parties"]
    return balances, counterparties


def balance_sheet(cooperative, as_of=None):
    """The accounts the red lines use, with their balances at the end of `as_of` (default today):
    assets (debit balances), liabilities (credit balances shown positive), net assets, paid-in
    capital and the accumulated result (income − costs, RESULT_KINDS: part of net assets, never an
    asset or a liability)."""
    as_of = as_of or timezone.localdate()
    balances, counterparties = account_balances(cooperative, as_of)
    assets = {kind: balances[kind] for kind in ASSET_KINDS}
    liabilities = {kind: -balances[kind] for kind in LIABILITY_KINDS}
    results = {kind: -balances[kind] for kind in RESULT_KINDS}  # income positive, costs negative
    total_assets = sum(assets.values(), ZERO)
    total_liabilities = sum(liabilities.values(), ZERO)
    return {
        "as_of": as_of,
        "assets": assets,
        "total_assets": total_assets,
        "liabilities": liabilities,
        "total_liabilities": total_liabilities,
        "net_assets": total_assets - total_liabilities,
        "paid_in_capital": -balances[AccountKind.PAID_IN_CAPITAL],
        "results": results,
        "result": sum(results.values(), ZERO),
        "counterparties": counterparties,
        "balances": balances,
    }


def labelled(amounts):
    """[(kind, label, amount)] for templates and details."""
    return [(kind, str(AccountKind(kind).label), amount) for kind, amount in amounts.items()]


def attribution_problems(limit=20):
    """Movements that post a per-counterparty account but cannot be attributed to exactly one
    cooperative (none of their own accounts and no trade contract, or two cooperatives' own
    accounts). Expected empty; shown on the books page when it is not."""
    own_parties = (
        Posting.objects.filter(
            movement=OuterRef("pk"),
            account__kind__in=OWN_KINDS,
            account__party__organization__kind=OrganizationKind.COOPERATIVE,
        )
        .order_by()
        .values("movement")
        .annotate(n=Count("account__party", distinct=True))
        .values("n")
    )
    counterparty = Posting.objects.filter(movement=OuterRef("pk"), account__kind__in=COUNTERPARTY_KINDS)
    return list(
        Movement.objects.filter(Exists(counterparty))
        .annotate(cooperatives=Coalesce(Subquery(own_parties), Value(0)))
        .exclude(cooperatives=1)
        .exclude(cooperatives=0, trade_contract__isnull=False)
        .exclude(cooperatives=0, reverses__trade_contract__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
