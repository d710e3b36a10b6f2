"""Listing pages: the staff list, create/edit, the detail page with publish/withdraw, applications
(review, deposits) and Q&A; investors' apply/ask/withdraw and "my applications"; and the public
trading board (no login) with each listing's public page and package photos."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from directory.selectors import within_reach
from resources.selectors import assets_for
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from .. import selectors_listings as selectors
from ..forms.listings import (
    AnswerForm,
    ApplicationFilter,
    ApplyForm,
    DepositForm,
    ListingFilter,
    ListingForm,
    PublicListingFilter,
    PublishForm,
    QuestionForm,
    ReviewForm,
    WithdrawForm,
)
from ..models import COMPETITIVE_MODES, ListingApplication, ListingQuestion, ListingStatus, ResourcePackage
from ..services import listings as services

# --- staff and investor pages -------------------------------------------------------------------


class ListingListView(ObjectListView):
    template_name = "transactions/listings/list.html"
    title = gettext_lazy("挂牌项目")
    filterset_class = ListingFilter
    export_name = "listings"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("挂牌编号"), "code", sort="code", link=True),
        Column(gettext_lazy("标题"), "title", sort="title"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("交易方式"), "get_trade_kind_display", sort="trade_kind"),
        Column(gettext_lazy("交易模式"), "get_mode_display", sort="mode"),
        Column(gettext_lazy("底价（元）"), "reserve_price", sort="reserve_price"),
        Column(gettext_lazy("保证金（元）"), "deposit"),
        Column(gettext_lazy("报名截止"), "notice_end", sort="notice_end"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return selectors.listings_for(self.request.user)

    def get_create_url(self):
        return (
            reverse("transactions:listing-create")
            if can(self.request.user, Capability.MANAGE_TRADING)
            else None
        )


class MyApplicationsView(ObjectListView):
    template_name = "transactions/listings/my_applications.html"
    title = gettext_lazy("我的竞买报名")
    filterset_class = ApplicationFilter
    export_name = "applications"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("挂牌编号"), "listing.code", sort="listing__code"),
        Column(gettext_lazy("标题"), "listing.title"),
        Column(gettext_lazy("项目状态"), "listing.get_status_display"),
        Column(gettext_lazy("资格审核"), "get_status_display", sort="status"),
        Column(gettext_lazy("审核意见"), "review_note"),
        Column(gettext_lazy("保证金"), "get_deposit_status_display", sort="deposit_status"),
        Column(gettext_lazy("竞买号"), "bidder_number"),
        Column(gettext_lazy("报名时间"), "created_at", sort="created_at"),
    ]

    def get_queryset(self):
        own = selectors.investor_ids(self.request.user)
        if not own:
            raise PermissionDenied(_("只有审核通过的投资主体可以查看竞买报名。"))
        return ListingApplication.objects.filter(investor__in=own).select_related("listing")


def _packages_for(user):
    return ResourcePackage.objects.filter(within_reach(user, "division__code", Capability.MANAGE_TRADING))


def _service_form_error(form, exc):
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(str(exc.detail)) from None
    form.add_service_errors(exc)


def listing_create(request):
    if not can(request.user, Capability.MANAGE_TRADING):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    form = ListingForm(
        request.POST or None,
        assets=assets_for(request.user).defer("geometry"),
        packages=_packages_for(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            listing = services.create_listing(actor=request.user, **form.service_kwargs())
        except DomainError as exc:
            _service_form_error(form, exc)
        else:
            messages.success(request, _("挂牌项目已创建：%(code)s") % {"code": listing.code})
            return redirect(listing)
    return render(
        request,
        "transactions/listings/form.html",
        {"form": form, "title": _("新建挂牌项目")},
        status=400 if request.method == "POST" else 200,
    )


def listing_edit(request, pk):
    listing = get_object_or_404(selectors.listings_for(request.user), pk=pk)
    if not can(request.user, Capability.MANAGE_TRADING, division=listing.division):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    initial = {name: getattr(listing, name) for name in services.EDITABLE_FIELDS}
    form = ListingForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_listing(actor=request.user, listing=listing, **form.service_kwargs())
        except DomainError as exc:
            _service_form_error(form, exc)
        else:
            messages.success(request, _("挂牌项目已保存。"))
            return redirect(listing)
    return render(
        request,
        "transactions/listings/form.html",
        {"form": form, "title": _("修改挂牌项目"), "listing": listing},
        status=400 if request.method == "POST" else 200,
    )


def _detail(request, listing, status=200, **bound):
    """The detail page; `bound` carries a submitted form with errors to show in place
    (publish_form, withdraw_form, apply_form, question_form, or review/deposit/answer keyed by pk)."""
    user = request.user
    may_manage = can(user, Capability.MANAGE_TRADING, division=listing.division)
    own = selectors.investor_ids(user)
    applications = list(listing.applications.all()) if may_manage else []
    mine = next((a for a in listing.applications.all() if a.investor_id in own), None) if own else None
    questions = list(listing.questions.all())
    if not may_manage:
        questions = [q for q in questions if q.answered_at or q.asked_by_id == user.pk]
    for application in applications:
        application.review_form = bound.get(f"review_{application.pk}") or ReviewForm(
            prefix=f"r{application.pk}"
        )
        application.deposit_form = bound.get(f"deposit_{application.pk}") or DepositForm(
            prefix=f"d{application.pk}", initial={"amount": listing.deposit}
        )
    for question in questions:
        question.answer_form = bound.get(f"answer_{question.pk}") or AnswerForm(prefix=f"a{question.pk}")
    in_notice = listing.status == ListingStatus.IN_NOTICE
    context = {
        "listing": listing,
        "assets": selectors.offered_assets(listing),
        "may_manage": may_manage,
        "is_investor": bool(own),
        "applications": applications,
        "mine": mine,
        "mine_withdrawn": mine is not None and mine.review_note == services.WITHDRAWN_NOTE,
        "questions": questions,
        "competitive": listing.mode in COMPETITIVE_MODES,
        "publish_form": bound.get("publish_form")
        or PublishForm(initial={"notice_days": services.notice_days_minimum(), "bidding_minutes": 60}),
        "withdraw_form": bound.get("withdraw_form") or WithdrawForm(),
        "apply_form": bound.get("apply_form") or ApplyForm(),
        "question_form": bound.get("question_form") or QuestionForm(),
        "may_apply": bool(own) and in_notice and mine is None,
        "may_ask": bool(own) and listing.status in (ListingStatus.IN_NOTICE, ListingStatus.BIDDING),
        "auction_url": f"/transactions/listings/{listing.pk}/auction/",
    }
    return render(request, "transactions/listings/detail.html", context, status=status)


def _visible(request, pk):
    return get_object_or_404(
        selectors.listings_for(request.user).prefetch_related(
            "applications__investor", "applications__applicant", "questions__asked_by"
        ),
        pk=pk,
    )


def listing_detail(request, pk):
    return _detail(request, _visible(request, pk))


def _act(request, listing, form, call, success, key):
    """Run a service from a submitted form: field errors re-render the page with the form in
    place (400); other refusals become a message; success redirects to the listing."""
    if not form.is_valid():
        return _detail(request, listing, status=400, **{key: form})
    try:
        call(form.cleaned_data)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        if any(name in form.fields for name in exc.fields):
            form.add_service_errors(exc)
            return _detail(request, listing, status=400, **{key: form})
        messages.error(request, str(exc.detail))
        return redirect(listing)
    messages.success(request, success)
    return redirect(listing)


@require_POST
def listing_publish(request, pk):
    listing = _visible(request, pk)
    return _act(
        request,
        listing,
        PublishForm(request.POST),
        lambda d: services.publish_listing(
            actor=request.user,
            listing=listing,
            notice_days=d["notice_days"],
            bidding_minutes=d["bidding_minutes"],
        ),
        _("挂牌项目已发布公示。"),
        "publish_form",
    )


@require_POST
def listing_withdraw(request, pk):
    listing = _visible(request, pk)
    return _act(
        request,
        listing,
        WithdrawForm(request.POST),
        lambda d: services.withdraw_listing(actor=request.user, listing=listing, reason=d["reason"]),
        _("挂牌项目已撤牌。"),
        "withdraw_form",
    )


@require_POST
def listing_apply(request, pk):
    listing = _visible(request, pk)
    return _act(
        request,
        listing,
        ApplyForm(request.POST),
        lambda d: services.apply_for_listing(actor=request.user, listing=listing, statement=d["statement"]),
        _("报名已提交，请等待资格审核并按要求缴纳保证金。"),
        "apply_form",
    )


@require_POST
def listing_ask(request, pk):
    listing = _visible(request, pk)
    return _act(
        request,
        listing,
        QuestionForm(request.POST),
        lambda d: services.ask_question(actor=request.user, listing=listing, question=d["question"]),
        _("问题已提交，合作社答复后将公开。"),
        "question_form",
    )


def _application(request, pk):
    application = get_object_or_404(selectors.applications_for(request.user), pk=pk)
    return application, _visible(request, application.listing_id)


@require_POST
def application_review(request, pk):
    application, listing = _application(request, pk)
    return _act(
        request,
        listing,
        ReviewForm(request.POST, prefix=f"r{pk}"),
        lambda d: services.review_application(
            actor=request.user, application=application, approve=d["decision"] == "approve", note=d["note"]
        ),
        _("资格审核结果已保存。"),
        f"review_{pk}",
    )


@require_POST
def application_deposit(request, pk):
    application, listing = _application(request, pk)
    return _act(
        request,
        listing,
        DepositForm(request.POST, prefix=f"d{pk}"),
        lambda d: services.record_deposit(actor=request.user, application=application, **d),
        _("保证金到账已登记。"),
        f"deposit_{pk}",
    )


@require_POST
def application_withdraw(request, pk):
    application, listing = _application(request, pk)
    try:
        services.withdraw_application(actor=request.user, application=application)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("报名已撤回。"))
    return redirect(listing)


@require_POST
def question_answer(request, pk):
    question = get_object_or_404(ListingQuestion.objects.select_related("listing"), pk=pk)
    listing = _visible(request, question.listing_id)
    return _act(
        request,
        listing,
        AnswerForm(request.POST, prefix=f"a{pk}"),
        lambda d: services.answer_question(actor=request.user, question=question, answer=d["answer"]),
        _("答复已发布。"),
        f"answer_{pk}",
    )


# --- public pages -------------------------------------------------------------------------------


class PublicListingListView(ObjectListView):
    template_name = "transactions/public/listing_list.html"
    title = gettext_lazy("交易公告")
    filterset_class = PublicListingFilter
    export_name = "trading"
    paginate_by = 12
    default_sort = ("-notice_start", "-pk")
    columns = [
        Column(gettext_lazy("挂牌编号"), "code", sort="code"),
        Column(gettext_lazy("标题"), "title"),
        Column(gettext_lazy("所在区划"), "division.name"),
        Column(gettext_lazy("交易模式"), "get_mode_display"),
        Column(gettext_lazy("底价（元）"), "reserve_price", sort="reserve_price"),
        Column(gettext_lazy("报名截止"), "notice_end", sort="notice_end"),
        Column(gettext_lazy("状态"), "get_status_display"),
        Column(gettext_lazy("成交价（元）"), "final_price"),
        Column(gettext_lazy("受让方"), "winning_bid.application.investor.name"),
    ]

    def get_queryset(self):
        return selectors.public_listings()


def public_listing_detail(request, code):
    listing = selectors.public_listing(code)
    if listing is None:
        raise Http404(_("没有该挂牌项目。"))
    assets = selectors.offered_assets(listing)
    features = [
        {"type": "Feature", "geometry": json.loads(a.geometry.geojson), "properties": {"code": a.code}}
        for a in assets
        if a.geometry
    ]
    winner = listing.winning_bid.application.investor.name if listing.winning_bid_id else ""
    return render(
        request,
        "transactions/public/listing_detail.html",
        {
            "listing": listing,
            "assets": assets,
            "geojson": {"type": "FeatureCollection", "features": features},
            "photos": selectors.package_photos(listing),
            "questions": selectors.answered_questions(listing),
            "winner": winner,
            "closed": listing.status in selectors.RESULT_STATUSES,
            "tile_url": settings.TMCS_MAP_TILE_URL,
            "apply_url": reverse("transactions:listing-detail", args=[listing.pk]),
        },
    )


def public_photo(request, pk):
    photo = selectors.public_photo(pk)
    if photo is None:
        raise Http404(_("没有该照片。"))
    return FileResponse(photo.image.open("rb"))


urlpatterns = [
    path("listings/", ListingListView.as_view(), name="listing-list"),
    path("listings/new/", listing_create, name="listing-create"),
    path("listings/<int:pk>/", listing_detail, name="listing-detail"),
    path("listings/<int:pk>/edit/", listing_edit, name="listing-edit"),
    path("listings/<int:pk>/publish/", listing_publish, name="listing-publish"),
    path("listings/<int:pk>/withdraw/", listing_withdraw, name="listing-withdraw"),
    path("listings/<int:pk>/apply/", listing_apply, name="listing-apply"),
    path("listings/<int:pk>/ask/", listing_ask, name="listing-ask"),
    path("listing-applications/mine/", MyApplicationsView.as_view(), name="my-applications"),
    path("listing-applications/<int:pk>/review/", application_review, name="application-review"),
    path("listing-applications/<int:pk>/deposit/", application_deposit, name="application-deposit"),
    path("listing-applications/<int:pk>/withdraw/", application_withdraw, name="application-withdraw"),
    path("listing-questions/<int:pk>/answer/", question_answer, name="question-answer"),
]

# Under /trading/; the code pattern is strict so that other areas' /trading/… pages still resolve.
public_urlpatterns = [
    path("", login_not_required(PublicListingListView.as_view()), name="public-listings"),
    re_path(r"^(?P<code>GP\d{10})/$", login_not_required(public_listing_detail), name="public-listing"),
    path("listing-photos/<int:pk>/", login_not_required(public_photo), name="public-listing-photo"),
]
