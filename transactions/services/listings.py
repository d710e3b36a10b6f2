"""挂牌: listings of a READY package or a single COLLECTED asset, their public notice (公示),
investors' applications (竞买报名) with qualification review and deposits, and Q&A (答疑).
Bidding and closing live in services.auctions.

Locks are taken in the fixed order asset → package → listing → application; deposits move only
through ledger.post (DEPOSIT_RECEIVED / DEPOSIT_REFUNDED)."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Membership, Role
from directory.permissions import Capability
from directory.services import ensure_party, notify
from resources import services as registry
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from valuation.selectors import latest_asset_valuation

from .._money import parse_money
from ..models import (
    COMPETITIVE_MODES,
    LISTING_TRANSITIONS,
    OPEN_LISTING_STATUSES,
    PACKAGE_TRANSITIONS,
    AccountKind,
    CollectionItem,
    DepositStatus,
    Listing,
    ListingApplication,
    ListingMode,
    ListingQuestion,
    ListingStatus,
    Movement,
    MovementKind,
    PackageItem,
    PackageStatus,
    ResourcePackage,
    ReviewStatus,
    TradeKind,
)
from . import ledger
from .common import (
    check_transition,
    cooperative_party,
    investor_of,
    next_number,
    require,
    required_text,
)

MIN_BIDDING_MINUTES, MAX_BIDDING_MINUTES = 10, 1440
MAX_NOTICE_DAYS = 90
MAX_EXTENSION_SECONDS = 3600
QUESTION_MAX_LENGTH = 1000
WITHDRAWN_NOTE = "竞买人已撤回报名"


def notice_days_minimum():
    # 拍卖法 Art. 45: auction notice ≥ 7 days; a 10-working-day Zhejiang period is unverified.
    return getattr(settings, "TMCS_LISTING_NOTICE_DAYS", 10)


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def _listing_transition(listing, target):
    check_transition(
        LISTING_TRANSITIONS, ListingStatus(listing.status), target, lambda s: ListingStatus(s).label
    )
    listing.status = target


def _assets_of(*, package=None, asset=None):
    """Assets offered, locked in pk order (the first lock of every write here)."""
    if package is not None:
        ids = PackageItem.objects.filter(package=package, is_open=True).values_list("asset_id", flat=True)
    else:
        ids = [asset.pk]
    return list(
        Asset.objects.select_for_update(of=("self",))
        .select_related("division")
        .filter(pk__in=ids)
        .order_by("pk")
    )


def _offered_assets(listing):
    return _assets_of(package=listing.package) if listing.package_id else _assets_of(asset=listing.asset)


def _lock_listing(listing):
    return (
        Listing.objects.select_for_update(of=("self",))
        .select_related("division", "package", "asset")
        .get(pk=listing.pk)
    )


def _staff_listing(actor, listing):
    """Lock the offered assets, then the listing; the actor must trade in its division."""
    listing = Listing.objects.select_related("package", "asset").get(pk=listing.pk)
    assets = _offered_assets(listing)
    listing = _lock_listing(listing)
    require(actor, Capability.MANAGE_TRADING, listing.division)
    return listing, assets


def _parse_date(value, field):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise _invalid(field, _("请输入有效的日期（YYYY-MM-DD）。")) from None


def _parse_int(value, field, low, high):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise _invalid(field, _("请输入整数。")) from None
    if not low <= number <= high:
        raise _invalid(field, _("须在 %(low)s 至 %(high)s 之间。") % {"low": low, "high": high})
    return number


def _clean_terms(data, assets):
    """Validate the listing's terms against the offered assets; returns the cleaned fields."""
    cleaned = {"title": required_text(data.get("title"), "title", _("请填写标题。"), max_length=200)}
    if data.get("trade_kind") not in TradeKind.values:
        raise _invalid("trade_kind", _("请选择交易方式。"))
    if data.get("mode") not in ListingMode.values:
        raise _invalid("mode", _("请选择交易模式。"))
    cleaned["trade_kind"], cleaned["mode"] = data["trade_kind"], data["mode"]
    start = cleaned["term_start"] = _parse_date(data.get("term_start"), "term_start")
    end = cleaned["term_end"] = _parse_date(data.get("term_end"), "term_end")
    if end <= start:
        raise _invalid("term_end", _("期限止须晚于期限起。"))
    if start < timezone.localdate():
        raise _invalid("term_start", _("出让期限不能早于今天开始。"))
    _check_collection_terms(assets, start, end)
    reserve = cleaned["reserve_price"] = parse_money(data.get("reserve_price"), "reserve_price")
    deposit = cleaned["deposit"] = parse_money(data.get("deposit"), "deposit", allow_zero=True)
    if deposit > reserve:
        raise _invalid("deposit", _("保证金不能高于底价。"))
    increment = data.get("increment")
    increment = cleaned["increment"] = parse_money(
        "0" if increment in (None, "") else increment, "increment", allow_zero=True
    )
    if cleaned["mode"] in COMPETITIVE_MODES and increment <= 0:
        raise _invalid("increment", _("竞价和拍卖须设定大于0的加价幅度。"))
    for name in ("description", "qualification_requirements", "payment_terms", "obligations"):
        text = (data.get(name) or "").strip()
        if len(text) > 5000:
            raise _invalid(name, _("不能超过 %(n)s 个字。") % {"n": 5000})
        cleaned[name] = text
    for name in ("extension_window_seconds", "extension_seconds"):
        cleaned[name] = _parse_int(data.get(name, 300), name, 30, MAX_EXTENSION_SECONDS)
    return cleaned


def _check_collection_terms(assets, start, end):
    items = {
        item.asset_id: item
        for item in CollectionItem.objects.filter(asset__in=assets, is_open=True).select_related("contract")
    }
    for asset in assets:
        item = items.get(asset.pk)
        if item is None:
            raise _invalid("term_end", _("资源 %(code)s 没有有效的收储合同。") % {"code": asset.code})
        contract = item.contract
        if start < contract.start_date or end > contract.end_date:
            raise _invalid(
                "term_end",
                _("出让期限须在资源 %(code)s 的收储期限（%(start)s 至 %(end)s）之内。")
                % {"code": asset.code, "start": contract.start_date, "end": contract.end_date},
            )


def _reference_gep(assets):
    total, runs, missing = Decimal("0.00"), [], 0
    for asset in assets:
        valuation = latest_asset_valuation(asset)
        if valuation is None:
            missing += 1
            continue
        total += valuation.total
        if valuation.run.pk not in [r.pk for r in runs]:
            runs.append(valuation.run)
    if not runs:
        return None, _("暂无已采纳的 GEP 核算结果。")
    note = _("依据核算批次 %(runs)s 的已采纳结果") % {"runs": "、".join(f"#{r.pk}（{r.year}）" for r in runs)}
    if missing:
        note += _("；%(n)s 项资源暂无核算结果，未计入") % {"n": missing}
    return total.quantize(Decimal("0.01")), note[:300]


def _refuse_open_listing(*, package=None, assets=(), exclude=None):
    open_listings = Listing.objects.filter(status__in=OPEN_LISTING_STATUSES)
    if exclude is not None:
        open_listings = open_listings.exclude(pk=exclude.pk)
    clash = (
        open_listings.filter(package=package) if package else open_listings.none()
    ) | open_listings.filter(asset__in=assets)
    first = clash.first()
    if first is not None:
        raise ConflictError(
            _("该标的已有未结束的挂牌项目 %(code)s。") % {"code": first.code}, code="duplicate_listing"
        )


@transaction.atomic
def create_listing(
    *,
    actor,
    title,
    package=None,
    asset=None,
    trade_kind,
    mode,
    term_start,
    term_end,
    reserve_price,
    deposit,
    increment,
    description="",
    qualification_requirements="",
    payment_terms="",
    obligations="",
    extension_window_seconds=300,
    extension_seconds=300,
):
    if (package is None) == (asset is None):
        raise _invalid("package", _("请选择一个资源包或一项资源（二者选一）。"))
    if package is not None:
        assets = _assets_of(package=package)
        package = ResourcePackage.objects.select_for_update(of=("self",)).get(pk=package.pk)
        division = package.division
        require(actor, Capability.MANAGE_TRADING, division)
        if package.status != PackageStatus.READY:
            raise ConflictError(
                _("资源包须为“可挂牌”状态，当前为“%(s)s”。") % {"s": package.get_status_display()},
                code="package_not_ready",
            )
        if not assets:
            raise _invalid("package", _("资源包中没有资源。"))
    else:
        assets = _assets_of(asset=asset)
        asset = assets[0]
        division = asset.division
        require(actor, Capability.MANAGE_TRADING, division)
        if asset.status != AssetStatus.COLLECTED:
            raise ConflictError(
                _("资源须为“已收储”状态，当前为“%(s)s”。") % {"s": asset.get_status_display()},
                code="asset_not_collected",
            )
        if PackageItem.objects.filter(asset=asset, is_open=True).exists():
            raise ConflictError(_("该资源已编入资源包，请挂牌整个资源包。"), code="asset_in_package")
    _refuse_open_listing(package=package, assets=assets)
    cleaned = _clean_terms(
        {
            "title": title,
            "trade_kind": trade_kind,
            "mode": mode,
            "term_start": term_start,
            "term_end": term_end,
            "reserve_price": reserve_price,
            "deposit": deposit,
            "increment": increment,
            "description": description,
            "qualification_requirements": qualification_requirements,
            "payment_terms": payment_terms,
            "obligations": obligations,
            "extension_window_seconds": extension_window_seconds,
            "extension_seconds": extension_seconds,
        },
        assets,
    )
    reference_gep, note = _reference_gep(assets)
    with audit_context(user=actor, reason="create listing"):
        return Listing.objects.create(
            code=next_number("GP"),
            package=package,
            asset=asset if package is None else None,
            division=division,
            reference_gep=reference_gep,
            reference_gep_note=note,
            created_by=actor,
            **cleaned,
        )


EDITABLE_FIELDS = (
    "title",
    "trade_kind",
    "mode",
    "term_start",
    "term_end",
    "reserve_price",
    "deposit",
    "increment",
    "description",
    "qualification_requirements",
    "payment_terms",
    "obligations",
    "extension_window_seconds",
    "extension_seconds",
)


@transaction.atomic
def update_listing(*, actor, listing, **changes):
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(f)s") % {"f": ", ".join(sorted(unknown))}, code="invalid")
    listing, assets = _staff_listing(actor, listing)
    if listing.status != ListingStatus.DRAFT:
        raise ConflictError(_("只有草稿状态的挂牌项目可以修改。"), code="not_draft")
    data = {name: getattr(listing, name) for name in EDITABLE_FIELDS} | changes
    cleaned = _clean_terms(data, assets)
    for name, value in cleaned.items():
        setattr(listing, name, value)
    listing.reference_gep, listing.reference_gep_note = _reference_gep(assets)
    with audit_context(user=actor, reason="update listing"):
        listing.save()
    return listing


def _move_package(actor, package, target, reason):
    package = ResourcePackage.objects.select_for_update(of=("self",)).get(pk=package.pk)
    check_transition(
        PACKAGE_TRANSITIONS, PackageStatus(package.status), target, lambda s: PackageStatus(s).label
    )
    package.status = target
    with audit_context(user=actor, reason=reason):
        package.save(update_fields=["status"])


@transaction.atomic
def publish_listing(*, actor, listing, notice_days, bidding_minutes=None):
    listing, assets = _staff_listing(actor, listing)
    _listing_transition(listing, ListingStatus.IN_NOTICE)
    minimum = notice_days_minimum()
    days = _parse_int(notice_days, "notice_days", minimum, MAX_NOTICE_DAYS)
    if listing.term_start < timezone.localdate():
        raise _invalid("term_start", _("出让期限已开始，请先修改期限。"))
    for asset in assets:
        if asset.status != AssetStatus.COLLECTED:
            raise ConflictError(
                _("资源 %(code)s 当前为“%(s)s”，不能挂牌。")
                % {"code": asset.code, "s": asset.get_status_display()},
                code="asset_not_collected",
            )
    now = timezone.now()
    listing.notice_start = now
    listing.notice_end = now + datetime.timedelta(days=days)
    if listing.mode in COMPETITIVE_MODES:
        minutes = _parse_int(bidding_minutes, "bidding_minutes", MIN_BIDDING_MINUTES, MAX_BIDDING_MINUTES)
        listing.bidding_start = listing.notice_end
        listing.bidding_end = listing.scheduled_bidding_end = listing.bidding_start + datetime.timedelta(
            minutes=minutes
        )
    reason = f"publish listing {listing.code}"
    if listing.package_id:
        _move_package(actor, listing.package, PackageStatus.LISTED, reason)
    for asset in assets:
        registry.transition_asset(actor=actor, asset=asset, to_status=AssetStatus.LISTED, reason=reason)
    with audit_context(user=actor, reason=reason):
        listing.save()
    return listing


def _refund(actor, listing, application, memo):
    """Return a paid deposit: debit the investor's held deposit, credit the cooperative's cash."""
    coop = cooperative_party(listing.division)
    investor = ensure_party(application.investor)
    ledger.post(
        actor=actor,
        kind=MovementKind.DEPOSIT_REFUNDED,
        memo=memo,
        lines=[
            ledger.debit(AccountKind.DEPOSIT_HELD, investor, listing.deposit),
            ledger.credit(AccountKind.CASH, coop, listing.deposit),
        ],
        listing=listing,
        application=application,
    )
    application.deposit_status = DepositStatus.REFUNDED


@transaction.atomic
def withdraw_listing(*, actor, listing, reason):
    listing, assets = _staff_listing(actor, listing)
    reason = required_text(reason, "reason", _("请写明撤牌原因。"))
    was_listed = listing.status == ListingStatus.IN_NOTICE
    if listing.status not in (ListingStatus.DRAFT, ListingStatus.IN_NOTICE):
        raise ConflictError(_("只有草稿或公示中的挂牌项目可以撤牌。"), code="invalid_transition")
    _listing_transition(listing, ListingStatus.WITHDRAWN)
    listing.close_note, listing.closed_at = reason, timezone.now()
    audit = f"withdraw listing {listing.code}: {reason}"
    if was_listed:
        for asset in assets:
            registry.transition_asset(actor=actor, asset=asset, to_status=AssetStatus.COLLECTED, reason=audit)
        if listing.package_id:
            _move_package(actor, listing.package, PackageStatus.READY, audit)
    applications = list(
        ListingApplication.objects.select_for_update(of=("self",))
        .select_related("investor", "applicant")
        .filter(listing=listing)
        .order_by("pk")
    )
    with audit_context(user=actor, reason=audit):
        listing.save()
        for application in applications:
            if application.deposit_status == DepositStatus.PAID and listing.deposit > 0:
                _refund(actor, listing, application, _("撤牌退还保证金 %(code)s") % {"code": listing.code})
                application.save(update_fields=["deposit_status"])
    recipients = {a.applicant_id: a.applicant for a in applications}
    if recipients:
        notify(
            recipients=list(recipients.values()),
            title=_("挂牌项目已撤牌：%(code)s") % {"code": listing.code},
            body=reason,
            link=listing.get_absolute_url(),
            level="warning",
        )
    return listing


# --- applications -----------------------------------------------------------------------------


def _require_open_for_applications(listing):
    if listing.status != ListingStatus.IN_NOTICE or timezone.now() >= listing.notice_end:
        raise ConflictError(_("该项目不在报名期内。"), code="not_in_notice")


def _staff_of(listing):
    return [
        m.user
        for m in Membership.objects.filter(
            is_active=True, role__in=[Role.COOP_STAFF, Role.CITY_ADMIN]
        ).select_related("user", "organization__division")
        if m.organization.kind == "cooperative" and m.organization.division.contains(listing.division)
    ]


@transaction.atomic
def apply_for_listing(*, actor, listing, statement=""):
    organization = investor_of(actor)
    listing = _lock_listing(listing)
    _require_open_for_applications(listing)
    statement = (statement or "").strip()
    if len(statement) > 2000:
        raise _invalid("statement", _("不能超过 %(n)s 个字。") % {"n": 2000})
    if ListingApplication.objects.filter(listing=listing, investor=organization).exists():
        raise ConflictError(_("贵单位已报名该项目，不能重复报名。"), code="duplicate_application")
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"apply for {listing.code}"):
            application = ListingApplication.objects.create(
                listing=listing, investor=organization, applicant=actor, statement=statement
            )
    except IntegrityError:
        raise ConflictError(_("贵单位已报名该项目，不能重复报名。"), code="duplicate_application") from None
    staff = _staff_of(listing)
    if staff:
        notify(
            recipients=staff,
            title=_("新的竞买报名：%(code)s") % {"code": listing.code},
            body=organization.name,
            link=listing.get_absolute_url(),
        )
    return application


def _staff_application(actor, application):
    application = ListingApplication.objects.select_related("listing").get(pk=application.pk)
    listing = _lock_listing(application.listing)
    require(actor, Capability.MANAGE_TRADING, listing.division)
    application = (
        ListingApplication.objects.select_for_update(of=("self",))
        .select_related("investor", "applicant")
        .get(pk=application.pk)
    )
    return listing, application


def _next_bidder_number(listing):
    last = (
        ListingApplication.objects.filter(listing=listing)
        .exclude(bidder_number="")
        .aggregate(m=Max("bidder_number"))["m"]
    )
    return f"{int(last or 0) + 1:03d}"


@transaction.atomic
def review_application(*, actor, application, approve, note=""):
    listing, application = _staff_application(actor, application)
    if listing.status != ListingStatus.IN_NOTICE:
        raise ConflictError(_("只有公示期内可以审核报名。"), code="not_in_notice")
    if application.status != ReviewStatus.PENDING:
        raise ConflictError(_("该报名已审核。"), code="already_reviewed")
    note = (note or "").strip()
    if not approve and not note:
        raise _invalid("note", _("不予通过须写明理由。"))
    if len(note) > 500:
        raise _invalid("note", _("不能超过 %(n)s 个字。") % {"n": 500})
    application.status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    application.review_note, application.reviewed_by, application.reviewed_at = note, actor, timezone.now()
    with audit_context(user=actor, reason=f"review application {application.pk}: {approve}"):
        if approve and listing.deposit == 0 and not application.bidder_number:
            # Nothing to hold: qualification alone admits the bidder.
            application.deposit_status = DepositStatus.PAID
            application.bidder_number = _next_bidder_number(listing)
        if not approve and application.deposit_status == DepositStatus.PAID and listing.deposit > 0:
            _refund(
                actor, listing, application, _("资格审核未通过退还保证金 %(code)s") % {"code": listing.code}
            )
        application.save()
    notify(
        recipients=[application.applicant],
        title=(_("竞买资格审核通过：%(code)s") if approve else _("竞买资格审核未通过：%(code)s"))
        % {"code": listing.code},
        body=note,
        link=listing.get_absolute_url(),
        level="success" if approve else "warning",
    )
    return application


@transaction.atomic
def record_deposit(*, actor, application, amount, reference, occurred_on, idempotency_key=None):
    listing, application = _staff_application(actor, application)
    if idempotency_key:
        earlier = Movement.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replayed(earlier, application)
    _require_open_for_applications(listing)
    if application.status not in (ReviewStatus.PENDING, ReviewStatus.APPROVED):
        raise ConflictError(_("资格审核未通过的报名不能缴纳保证金。"), code="application_rejected")
    if application.deposit_status != DepositStatus.UNPAID:
        raise ConflictError(_("该报名的保证金已登记。"), code="deposit_already_paid")
    if listing.deposit == 0:
        raise ConflictError(_("本项目无需缴纳保证金。"), code="no_deposit")
    amount = parse_money(amount, "amount")
    if amount != listing.deposit:
        raise _invalid("amount", _("到账金额须与保证金 %(d)s 元一致。") % {"d": listing.deposit})
    reference = required_text(reference, "reference", _("请填写银行流水号。"), max_length=60)
    occurred_on = _parse_date(occurred_on, "occurred_on")
    if occurred_on > timezone.localdate():
        raise _invalid("occurred_on", _("到账日期不能晚于今天。"))
    coop = cooperative_party(listing.division)
    try:
        ledger.post(
            actor=actor,
            kind=MovementKind.DEPOSIT_RECEIVED,
            memo=_("收到保证金 %(code)s %(org)s") % {"code": listing.code, "org": application.investor.name},
            lines=[
                ledger.debit(AccountKind.CASH, coop, amount),
                ledger.credit(AccountKind.DEPOSIT_HELD, ensure_party(application.investor), amount),
            ],
            occurred_on=occurred_on,
            reference=reference,
            idempotency_key=idempotency_key,
            listing=listing,
            application=application,
        )
    except ledger.AlreadyPosted as exc:
        return _replayed(exc.movement, application)
    application.deposit_status = DepositStatus.PAID
    application.bidder_number = application.bidder_number or _next_bidder_number(listing)
    with audit_context(user=actor, reason=f"deposit received {reference}"):
        application.save(update_fields=["deposit_status", "bidder_number"])
    notify(
        recipients=[application.applicant],
        title=_("保证金已到账：%(code)s") % {"code": listing.code},
        body=_("竞买号：%(n)s") % {"n": application.bidder_number},
        link=listing.get_absolute_url(),
        level="success",
    )
    return application


def _replayed(movement, application):
    if movement.application_id != application.pk or movement.kind != MovementKind.DEPOSIT_RECEIVED:
        raise ConflictError(_("该幂等键已用于其他业务。"), code="idempotency_key_reused")
    return application


@transaction.atomic
def withdraw_application(*, actor, application):
    organization = investor_of(actor)
    application = ListingApplication.objects.select_related("listing").get(pk=application.pk)
    listing = _lock_listing(application.listing)
    application = (
        ListingApplication.objects.select_for_update(of=("self",))
        .select_related("investor")
        .get(pk=application.pk)
    )
    if application.investor_id != organization.pk:
        raise PermissionDeniedError(_("只能撤回本单位的报名。"))
    _require_open_for_applications(listing)
    if application.review_note == WITHDRAWN_NOTE and application.status == ReviewStatus.REJECTED:
        raise ConflictError(_("该报名已撤回。"), code="already_withdrawn")
    with audit_context(user=actor, reason=f"withdraw application {application.pk}"):
        if application.deposit_status == DepositStatus.PAID and listing.deposit > 0:
            _refund(actor, listing, application, _("撤回报名退还保证金 %(code)s") % {"code": listing.code})
        # Applications are kept for the record: a withdrawal is a rejection noted as such.
        application.status, application.review_note = ReviewStatus.REJECTED, WITHDRAWN_NOTE
        application.reviewed_by, application.reviewed_at = actor, timezone.now()
        application.save()
    return application


# --- Q&A --------------------------------------------------------------------------------------


@transaction.atomic
def ask_question(*, actor, listing, question):
    investor_of(actor)
    listing = _lock_listing(listing)
    if listing.status not in (ListingStatus.IN_NOTICE, ListingStatus.BIDDING):
        raise ConflictError(_("只有公示或竞价期间可以提问。"), code="not_open")
    question = required_text(question, "question", _("请填写问题。"), max_length=QUESTION_MAX_LENGTH)
    with audit_context(user=actor, reason=f"question on {listing.code}"):
        asked = ListingQuestion.objects.create(listing=listing, asked_by=actor, question=question)
    staff = _staff_of(listing)
    if staff:
        notify(
            recipients=staff,
            title=_("挂牌项目有新的提问：%(code)s") % {"code": listing.code},
            body=question[:200],
            link=listing.get_absolute_url(),
        )
    return asked


@transaction.atomic
def answer_question(*, actor, question, answer):
    question = ListingQuestion.objects.select_related("listing__division").get(pk=question.pk)
    require(actor, Capability.MANAGE_TRADING, question.listing.division)
    question = (
        ListingQuestion.objects.select_for_update(of=("self",))
        .select_related("asked_by", "listing")
        .get(pk=question.pk)
    )
    if question.answered_at is not None:
        raise ConflictError(_("该问题已答复。"), code="already_answered")
    answer = required_text(answer, "answer", _("请填写答复。"), max_length=2000)
    question.answer, question.answered_by, question.answered_at = answer, actor, timezone.now()
    with audit_context(user=actor, reason="answer question"):
        question.save(update_fields=["answer", "answered_by", "answered_at"])
    notify(
        recipients=[question.asked_by],
        title=_("您的提问已答复：%(code)s") % {"code": question.listing.code},
        body=answer[:200],
        link=question.listing.get_absolute_url(),
    )
    return question
