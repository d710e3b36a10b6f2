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
counterparty field, so the lender is kept in the movement's idempotency key,
`projects:lender:<cooperative pk>:<lender pk>:<borrow|repay>:<token>` (a token is generated when
the caller gives none). Outstanding per lender and "repayment not above what is owed to that
lender" are computed from those keys in SQL.
"""

import hashlib
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, Subquery, Sum, Value
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
from transactions.models import AccountKind, LedgerAccount, Movement, MovementKind, Posting
from transactions.services import ledger

from ..models import EquityStake
from .common import require, required_text

ZERO = Decimal("0.00")
SHARE_PLACES = Decimal("0.000001")  # EquityStake.share
# The gain or loss on disposing of a stake belongs in 投资收益, which AccountKind does not have yet
# (reported to the lead). Until it exists the difference goes to the cooperative's trading income,
# the only income account that is not earmarked for something else; change this one name then.
DISPOSAL_RESULT_ACCOUNT = AccountKind.TRADE_INCOME
# Kinds posted on the cooperative's own party (see transactions.models.AccountKind).
OWN_KINDS = (
    AccountKind.CASH,
    AccountKind.TRADE_INCOME,
    AccountKind.COLLECTION_COST,
    AccountKind.DIVIDEND_COST,
    AccountKind.FORFEIT_INCOME,
    AccountKind.BUYBACK_ASSETS,
    AccountKind.LOSS_COST,
    AccountKind.EQUITY_INVESTMENTS,
    AccountKind.BORROWINGS,
    AccountKind.PAID_IN_CAPITAL,
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
    """A caller's key (form token or Idempotency-Key header) as a short token; a fresh one if none."""
    if value is None or str(value).strip() == "":
        return uuid.uuid4().hex
    value = str(value).strip()
    if len(value) <= TOKEN_LENGTH and ":" not in value:
        return value
    return hashlib.sha256(value.encode()).hexdigest()[:TOKEN_LENGTH]


def stake_idempotency_key(cooperative, token):
    """The ledger key of an equity stake recorded under a caller's token (the API uses it to tell a
    replay from a new registration)."""
    return f"{KEY_PREFIX}stake:{cooperative.pk}:{_token(token)}"


def lender_prefix(cooperative_pk, lender_pk=None):
    if lender_pk is None:
        return f"{KEY_PREFIX}lender:{cooperative_pk}:"
    return f"{KEY_PREFIX}lender:{cooperative_pk}:{lender_pk}:"


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


@transaction.atomic
def record_borrowing(
    *, actor, cooperative, lender, amount, occurred_on, reference, memo, idempotency_key=None
):
    """Money borrowed (借入资金) from `lender`: debit CASH, credit BORROWINGS."""
    cooperative, amount, occurred_on, reference, memo = _money_inputs(
        actor, cooperative, amount, occurred_on, reference, memo
    )
    lender = _lender(cooperative, lender)
    party = ensure_party(cooperative)
    key = f"{lender_prefix(cooperative.pk, lender.pk)}borrow:{_token(idempotency_key)}"
    lines = [
        ledger.debit(AccountKind.CASH, party, amount),
        ledger.credit(AccountKind.BORROWINGS, party, amount),
    ]
    kind = MovementKind.BORROWING
    earlier = _replay(key, kind, lines)
    if earlier is not None:
        return earlier
    return _post(
        actor,
        kind=kind,
        memo=_("向 %(lender)s 借入 %(amount)s 元：%(memo)s")
        % {"lender": lender.name, "amount": amount, "memo": memo},
        lines=lines,
        occurred_on=occurred_on,
        reference=reference,
        key=key,
    )


def _lender_postings(cooperative_pk, party, lender_pk=None):
    """BORROWINGS postings of the cooperative tagged with the lender (reversals carry the key of the
    movement they reverse)."""
    prefix = lender_prefix(cooperative_pk, lender_pk)
    return Posting.objects.filter(account__kind=AccountKind.BORROWINGS, account__party=party).filter(
        Q(movement__idempotency_key__startswith=prefix)
        | Q(movement__reverses__idempotency_key__startswith=prefix)
    )


def outstanding_borrowing(cooperative, lender, *, on=None):
    """What the cooperative owes `lender` at the end of `on` (default: everything recorded)."""
    party = cooperative_party(cooperative)
    if party is None:
        return ZERO
    postings = _lender_postings(cooperative.pk, party, lender.pk)
    if on is not None:
        postings = postings.filter(movement__occurred_on__lte=on)
    return cents(-(postings.aggregate(s=Sum("amount"))["s"] or ZERO))


def _repayable(cooperative, party, lender, on):
    """The most that can be repaid on `on` without the debt to `lender` going below zero on that
    day or on any later day already booked (one grouped query)."""
    rows = (
        _lender_postings(cooperative.pk, party, lender.pk)
        .values("movement__occurred_on")
        .annotate(s=Sum("amount"))
        .order_by("movement__occurred_on")
    )
    owed, on_the_day, later = ZERO, ZERO, []
    for row in rows:
        owed -= row["s"]
        if row["movement__occurred_on"] <= on:
            on_the_day = owed
        else:
            later.append(owed)
    return cents(min([on_the_day, *later]))


@transaction.atomic
def repay_borrowing(
    *, actor, cooperative, lender, amount, occurred_on, reference, memo, idempotency_key=None
):
    """A repayment to `lender` (归还借款): debit BORROWINGS, credit CASH. Never more than what is
    owed to that lender, checked under the lock of the cooperative's BORROWINGS account."""
    cooperative, amount, occurred_on, reference, memo = _money_inputs(
        actor, cooperative, amount, occurred_on, reference, memo
    )
    lender = _lender(cooperative, lender)
    party = ensure_party(cooperative)
    key = f"{lender_prefix(cooperative.pk, lender.pk)}repay:{_token(idempotency_key)}"
    lines = [
        ledger.debit(AccountKind.BORROWINGS, party, amount),
        ledger.credit(AccountKind.CASH, party, amount),
    ]
    kind = MovementKind.BORROWING_REPAYMENT
    earlier = _replay(key, kind, lines)
    if earlier is not None:
        return earlier
    account = ledger.account(AccountKind.BORROWINGS, party)
    LedgerAccount.objects.select_for_update().get(pk=account.pk)  # one repayment at a time
    repayable = _repayable(cooperative, party, lender, occurred_on)
    if amount > repayable:
        message = _("还款金额 %(amount)s 元超过 %(day)s 尚欠 %(lender)s 的借款余额 %(owed)s 元。") % {
            "amount": amount,
            "day": occurred_on,
            "lender": lender.name,
            "owed": repayable,
        }
        raise ConflictError(message, code="repayment_exceeds_borrowing", fields={"amount": [message]})
    return _post(
        actor,
        kind=kind,
        memo=_("归还 %(lender)s 借款 %(amount)s 元：%(memo)s")
        % {"lender": lender.name, "amount": amount, "memo": memo},
        lines=lines,
        occurred_on=occurred_on,
        reference=reference,
        key=key,
    )


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
        memo=_("收回对 %(name)s 的股权投资：成本 %(cost)s 元，收回 %(proceeds)s 元，处置损益 %(gain)s 元")
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


def borrowings_by_lender(cooperative, as_of=None):
    """[{lender_id, lender, outstanding}] of lenders with a balance, largest first (two queries)."""
    party = cooperative_party(cooperative)
    if party is None:
        return []
    key = Coalesce(F("movement__idempotency_key"), F("movement__reverses__idempotency_key"))
    postings = _lender_postings(cooperative.pk, party)
    if as_of is not None:
        postings = postings.filter(movement__occurred_on__lte=as_of)
    rows = (
        postings.annotate(
            lender=Func(key, Value(":"), Value(4), function="split_part", output_field=CharField())
        )
        .values("lender")
        .annotate(total=Sum("amount"))
    )
    owed = defaultdict(lambda: ZERO)
    for row in rows:
        owed[int(row["lender"])] += -row["total"]
    names = dict(Organization.objects.filter(pk__in=list(owed)).values_list("pk", "name"))
    out = [
        {"lender_id": pk, "lender": names.get(pk, str(pk)), "outstanding": cents(amount)}
        for pk, amount in owed.items()
        if amount != 0
    ]
    return sorted(out, key=lambda row: (-row["outstanding"], row["lender"]))


def balance_sheet(cooperative, as_of=None):
    """The accounts the red lines use, with their balances at the end of `as_of` (default today):
    assets (debit balances), liabilities (credit balances shown positive), net assets, paid-in
    capital, borrowings by lender and the open stakes."""
    as_of = as_of or timezone.localdate()
    balances, counterparties = account_balances(cooperative, as_of)
    assets = {kind: balances[kind] for kind in ASSET_KINDS}
    liabilities = {kind: -balances[kind] for kind in LIABILITY_KINDS}
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
