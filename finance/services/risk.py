"""Risk sharing (风险分担): risk compensation funds (风险补偿基金) whose money lives in the
transactions ledger, and schemes that split a loan loss among the government fund, a guarantee
institution, the cooperative and the lending bank exactly to the cent.

A fund belongs to its manager organization (one fund per manager): its money is the ledger account
(RISK_FUND, manager's party), so the balance is always the sum of that account's postings and
nothing is stored twice. Contributions debit it and credit the contributor's FUND_CAPITAL;
compensations (finance.services.defaults) credit it.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Organization, OrganizationKind, Party, PartyKind
from directory.permissions import Capability
from directory.services import ensure_party
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions._money import parse_money
from transactions.models import AccountKind, MovementKind
from transactions.services import ledger
from transactions.services.allocation import split_by_weights

from ..models import RiskCompensationFund, RiskRole, RiskShare, RiskSharingScheme
from .common import require, required_text

FUND_MANAGER_KINDS = (OrganizationKind.GOVERNMENT, OrganizationKind.COOPERATIVE)
# Which kind of organization may hold each role's share (the government fund's party is the fund
# manager's, checked separately).
ROLE_PARTY_KINDS = {
    RiskRole.GUARANTOR: (OrganizationKind.GUARANTOR,),
    RiskRole.COOPERATIVE: (OrganizationKind.COOPERATIVE,),
    RiskRole.BANK: (OrganizationKind.BANK,),
}
SHARE_PLACES = Decimal("0.000001")  # RiskShare.share has 6 decimal places
IDEMPOTENCY_PREFIX = "finance:fund:"


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def business_date(value, field):
    """A business date: a real date, not in the future (services refuse future dates)."""
    if not isinstance(value, datetime.date):
        raise _invalid(field, _("请填写有效的日期。"))
    if value > timezone.localdate():
        raise _invalid(field, _("日期不能晚于今天。"))
    return value


def _require_division(division):
    if division is None:
        raise _invalid("division", _("请选择区划。"))
    return division


def party_of(who):
    """The ledger/rights party of an organization (created on first use) or the party itself."""
    if isinstance(who, Party):
        return who
    if isinstance(who, Organization):
        return ensure_party(who)
    raise _invalid("party", _("请选择主体。"))


def manager_party(fund):
    """The fund manager's party without creating one (a read must not write); None if never used."""
    return Party.objects.filter(kind=PartyKind.ORGANIZATION, organization_id=fund.manager_id).first()


# --- funds ------------------------------------------------------------------------------------


@transaction.atomic
def create_fund(*, actor, name, manager, division, source):
    """A risk compensation fund managed by a government department or a cooperative."""
    _require_division(division)
    require(actor, Capability.MANAGE_LOANS, division)
    name = required_text(name, "name", _("请填写基金名称。"), max_length=100)
    source = required_text(source, "source", _("请填写设立依据（文件名称及文号）。"), max_length=200)
    if not isinstance(manager, Organization) or manager.kind not in FUND_MANAGER_KINDS:
        raise _invalid("manager", _("基金管理机构须为政府部门或两山合作社。"))
    if RiskCompensationFund.objects.filter(manager=manager).exists():
        raise ConflictError(
            _("%(manager)s 已管理一个风险补偿基金，每个机构只能管理一个基金。") % {"manager": manager.name},
            code="duplicate",
            fields={"manager": [_("该机构已有风险补偿基金。")]},
        )
    ensure_party(manager)  # the fund's ledger account belongs to the manager's party
    with audit_context(user=actor, reason=f"create risk fund {name}"):
        return RiskCompensationFund.objects.create(
            name=name, manager=manager, division=division, source=source
        )


def fund_balance(fund):
    """Debit-positive balance of the fund's ledger account: contributions minus compensations."""
    party = manager_party(fund)
    if party is None:
        return Decimal("0.00")
    return ledger.balance(AccountKind.RISK_FUND, party)


def fund_idempotency_key(fund, key):
    """The ledger idempotency key of a contribution to `fund` under a caller's key (None = none)."""
    if key is None or str(key).strip() == "":
        return None
    full = f"{IDEMPOTENCY_PREFIX}{fund.pk}:{str(key).strip()}"
    if len(full) > 100:  # Movement.idempotency_key
        raise _invalid("idempotency_key", _("幂等键过长。"))
    return full


@transaction.atomic
def contribute(*, actor, fund, contributor, amount, occurred_on, reference, idempotency_key=None):
    """Money paid into the fund: debit the fund (RISK_FUND of the manager), credit the contributor's
    FUND_CAPITAL. The same idempotency key returns the first movement (a retried bank message)."""
    fund = RiskCompensationFund.objects.select_for_update().select_related("manager").get(pk=fund.pk)
    require(actor, Capability.MANAGE_LOANS, fund.division)
    amount = parse_money(amount, "amount")
    occurred_on = business_date(occurred_on, "occurred_on")
    reference = required_text(reference, "reference", _("请填写银行流水号或凭证号。"), max_length=60)
    contributor_party = party_of(contributor)
    key = fund_idempotency_key(fund, idempotency_key)
    manager = ensure_party(fund.manager)
    try:
        with audit_context(user=actor, reason=f"risk fund contribution {fund.pk}"):
            return ledger.post(
                actor=actor,
                kind=MovementKind.FUND_CONTRIBUTION,
                memo=_("%(fund)s 收到 %(who)s 出资 %(amount)s 元")
                % {"fund": fund.name, "who": contributor_party, "amount": amount},
                lines=[
                    ledger.debit(AccountKind.RISK_FUND, manager, amount),
                    ledger.credit(AccountKind.FUND_CAPITAL, contributor_party, amount),
                ],
                occurred_on=occurred_on,
                reference=reference,
                idempotency_key=key,
            )
    except ledger.AlreadyPosted as replay:
        earlier = replay.movement
        same = earlier.postings.filter(
            account__kind=AccountKind.FUND_CAPITAL, account__party=contributor_party, amount=-amount
        ).exists()
        if earlier.kind != MovementKind.FUND_CONTRIBUTION or not same:
            raise ConflictError(
                _("此幂等键已用于内容不同的出资记录。"), code="idempotency_key_reused"
            ) from None
        return earlier


# --- schemes ----------------------------------------------------------------------------------


def _parse_share(value, role_label):
    try:
        share = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        share = None
    if share is None or not share.is_finite():
        raise _invalid("shares", _("“%(role)s”的分担比例不是有效数字。") % {"role": role_label})
    if not Decimal(0) < share <= Decimal(1):
        raise _invalid("shares", _("“%(role)s”的分担比例须大于0且不超过1。") % {"role": role_label})
    if share != share.quantize(SHARE_PLACES):
        raise _invalid("shares", _("“%(role)s”的分担比例最多保留六位小数。") % {"role": role_label})
    return share


def _check_party(role, party, fund):
    """Each role's party must be the kind of body that role stands for."""
    if role == RiskRole.GOVERNMENT_FUND:
        if fund is None:
            raise _invalid("fund", _("方案含政府风险补偿基金的份额，须选择风险补偿基金。"))
        expected = ensure_party(fund.manager)
        if party is not None and party.pk != expected.pk:
            raise _invalid("shares", _("政府风险补偿基金的分担主体须为该基金的管理机构。"))
        return expected
    if party is None or party.kind != PartyKind.ORGANIZATION:
        raise _invalid("shares", _("“%(role)s”须选择一个机构。") % {"role": RiskRole(role).label})
    kinds = ROLE_PARTY_KINDS[role]
    if party.organization.kind not in kinds:
        raise _invalid(
            "shares",
            _("“%(role)s”的分担主体须为%(kind)s，“%(name)s”不是。")
            % {
                "role": RiskRole(role).label,
                "kind": "、".join(str(OrganizationKind(k).label) for k in kinds),
                "name": party.organization.name,
            },
        )
    return party


def clean_shares(shares, fund):
    """[(role, party, Decimal share)] checked: known roles, each once, a fitting party, each share in
    (0, 1] with at most 6 places, and the shares summing to exactly 1."""
    if not shares:
        raise _invalid("shares", _("请至少填写一个分担方。"))
    cleaned, seen = [], set()
    for role, party, share in shares:
        if role not in RiskRole.values:
            raise _invalid("shares", _("分担方“%(role)s”无效。") % {"role": role})
        role = RiskRole(role)
        if role in seen:
            raise _invalid("shares", _("分担方“%(role)s”重复。") % {"role": role.label})
        seen.add(role)
        share = _parse_share(share, role.label)
        party = _check_party(role, party_of(party) if party is not None else None, fund)
        cleaned.append((role, party, share))
    total = sum((share for _r, _p, share in cleaned), Decimal(0))
    if total != Decimal(1):
        raise _invalid(
            "shares", _("各方分担比例合计须恰好等于1，现为 %(total)s。") % {"total": total.normalize()}
        )
    return cleaned


@transaction.atomic
def create_scheme(*, actor, name, division, shares, fund=None, source):
    """A risk-sharing scheme. The BANK role's party is the scheme's reference bank: when a loss is
    split, the share goes to the defaulted loan's own bank (the scheme serves any bank's product)."""
    _require_division(division)
    require(actor, Capability.MANAGE_LOANS, division)
    name = required_text(name, "name", _("请填写方案名称。"), max_length=100)
    source = required_text(source, "source", _("请填写依据（政策文件或协议）。"), max_length=200)
    if fund is not None and not fund.division.contains(division):
        raise _invalid("fund", _("所选基金的覆盖区划不包含该方案的适用区划。"))
    cleaned = clean_shares(shares, fund)
    with audit_context(user=actor, reason=f"create risk scheme {name}"):
        scheme = RiskSharingScheme.objects.create(
            name=name, division=division, fund=fund, source=source, created_by=actor
        )
        RiskShare.objects.bulk_create(
            [RiskShare(scheme=scheme, role=role, party=party, share=share) for role, party, share in cleaned]
        )
    return scheme


# Demo shares after Anhui's policy-guarantee pilot, guarantor : re-guarantor : bank : government =
# 4 : 3 : 2 : 1 (eco-finance.md §6, R25), with the cooperative (Lishui's 收储 body) in the
# re-guarantor's seat; the bank keeps 20 %, the floor of 国办发〔2019〕6号 (R21). Lishui's own shares
# are [unverified]: a configurable starting point, not a rule.
DEFAULT_SHARES = (
    (RiskRole.GUARANTOR, Decimal("0.4")),
    (RiskRole.COOPERATIVE, Decimal("0.3")),
    (RiskRole.BANK, Decimal("0.2")),
    (RiskRole.GOVERNMENT_FUND, Decimal("0.1")),
)
DEFAULT_SOURCE = (
    "参照安徽政策性担保“4321”分担模式（担保机构:再担保:银行:政府=4:3:2:1，eco-finance.md §6 R25），"
    "合作社居再担保位置；银行分担20%符合国办发〔2019〕6号“银行原则上不低于20%”；丽水本地比例未经核实"
)


def default_scheme(*, actor, division, fund, guarantor_party, cooperative_party, bank_party):
    """A demo-ready 40/30/20/10 scheme (guarantor/cooperative/bank/government fund)."""
    parties = {
        RiskRole.GUARANTOR: guarantor_party,
        RiskRole.COOPERATIVE: cooperative_party,
        RiskRole.BANK: bank_party,
        RiskRole.GOVERNMENT_FUND: None,  # the fund manager's party
    }
    return create_scheme(
        actor=actor,
        name=_("风险分担方案（4:3:2:1）"),
        division=division,
        shares=[(role, parties[role], share) for role, share in DEFAULT_SHARES],
        fund=fund,
        source=DEFAULT_SOURCE,
    )


def split_loss(scheme, amount):
    """[(RiskShare, part)]: `amount` split by the scheme's shares, largest remainder to the cent;
    the parts add up to `amount` exactly and each is within a cent of its exact quota."""
    shares = list(scheme.shares.select_related("party__organization").order_by("pk"))
    if not shares:
        raise DomainError(_("该风险分担方案没有分担方。"), code="invalid")
    parts = split_by_weights(Decimal(amount), [share.share for share in shares])
    return list(zip(shares, parts, strict=True))
