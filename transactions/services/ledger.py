"""The trading desk's double-entry ledger. Money moves only through `post`: one movement whose
postings (debit positive, credit negative) sum to zero, checked here and again by a deferred
constraint trigger at commit; nothing is ever updated or deleted (append-only triggers)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tmcs.audit import audit_context
from tmcs.errors import ConflictError

from .. import journaling
from .._money import CENT
from ..models import AccountKind, LedgerAccount, Movement, Posting


@dataclass(frozen=True)
class Line:
    kind: str  # AccountKind
    party: object  # directory.Party
    amount: Decimal  # debit positive, credit negative
    sub_account: str = ""  # 辅助核算, e.g. a green fund's number


def account(kind, party, sub_account=""):
    acct, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind(kind), party=party, sub_account=sub_account
    )
    return acct


def debit(kind, party, amount, sub_account=""):
    return Line(kind, party, Decimal(amount), sub_account)


def credit(kind, party, amount, sub_account=""):
    return Line(kind, party, -Decimal(amount), sub_account)


class AlreadyPosted(Exception):
    """The idempotency key was used before; `movement` is the earlier movement."""

    def __init__(self, movement):
        super().__init__(f"movement {movement.pk} already recorded")
        self.movement = movement


@transaction.atomic
def post(*, actor, kind, memo, lines, occurred_on=None, reference="", idempotency_key=None, **links):
    """Record one movement. `links` name what it belongs to (listing=, application=,
    trade_contract=, collection_contract=, distribution=, reverses=).

    With an idempotency key already used, raises AlreadyPosted carrying the earlier movement, so
    callers can answer a retried request with the original result.
    """
    lines = [line for line in lines if line.amount != 0]
    for line in lines:
        if line.amount != line.amount.quantize(CENT):
            raise ValueError(f"posting {line.amount} is not to the cent")
    if len(lines) < 2 or sum(line.amount for line in lines) != 0:
        raise ValueError(f"unbalanced movement: {[(line.kind, line.amount) for line in lines]}")
    if idempotency_key:
        earlier = Movement.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            raise AlreadyPosted(earlier)
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"ledger: {kind}"):
            movement = Movement.objects.create(
                kind=kind,
                memo=memo[:300],
                occurred_on=occurred_on or timezone.localdate(),
                reference=reference,
                recorded_by=actor,
                idempotency_key=idempotency_key or None,
                **links,
            )
            Posting.objects.bulk_create(
                [
                    Posting(
                        movement=movement,
                        account=account(line.kind, line.party, line.sub_account),
                        amount=line.amount,
                    )
                    for line in lines
                ]
            )
            journaling.movement_posted(actor, movement, lines)
    except IntegrityError as exc:
        if idempotency_key and "idempotency_key" in str(exc):
            raise AlreadyPosted(Movement.objects.get(idempotency_key=idempotency_key)) from None
        raise
    return movement


@transaction.atomic
def reverse(*, actor, movement, reason):
    """Correct a mistaken movement with its mirror image (the original stays on the books)."""
    if hasattr(movement, "reversed_by"):
        raise ConflictError(_("该凭证已冲正。"), code="already_reversed")
    lines = [
        Line(p.account.kind, p.account.party, -p.amount, p.account.sub_account)
        for p in movement.postings.select_related("account__party")
    ]
    return post(
        actor=actor,
        kind="reversal",
        memo=_("冲正 #%(pk)s：%(reason)s") % {"pk": movement.pk, "reason": reason},
        lines=lines,
        reverses=movement,
    )


def balance(kind, party, sub_account=""):
    """Debit-positive balance of one account (0 when it has never been used)."""
    total = Posting.objects.filter(
        account__kind=kind, account__party=party, account__sub_account=sub_account
    ).aggregate(s=Sum("amount"))["s"]
    return (total or Decimal("0")).quantize(CENT)


def balances_by_party(kind, sub_account=""):
    """{party_id: balance} of every account of one kind (and sub-account), in one query."""
    rows = (
        Posting.objects.filter(account__kind=kind, account__sub_account=sub_account)
        .values("account__party")
        .annotate(s=Sum("amount"))
    )
    return {row["account__party"]: row["s"].quantize(CENT) for row in rows}
