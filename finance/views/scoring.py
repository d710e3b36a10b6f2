"""Eco-credit pages: current scores, a party's credit page (score, grade, suggested line, factor
table with explanations, trend of its scores, its eco-behaviour records), eco-behaviour records
(list, record, revoke) and the scorecards. Banks see only the parties of applications sent to
them (finance.selectors_scoring)."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models.query import ModelIterable
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..forms.scoring import CreditScoreFilter, EcoBehaviourFilter, EcoBehaviourForm, RevokeForm
from ..models import ScoreSubject
from ..selectors_scoring import (
    credit_parties_for,
    eco_records_for,
    recordable_divisions,
    recordable_parties,
    score_history,
    scorecards,
    scores_for,
)
from ..services import scoring as services
from ..services.common import acting_bank


class _LinkedToParty(ModelIterable):
    """Scores and eco-behaviour records have no page of their own: their rows link to the party's
    credit page (what `Column(link=True)` reads as get_absolute_url)."""

    def __iter__(self):
        for row in super().__iter__():
            row.get_absolute_url = partial(reverse, "finance:party-credit", args=[row.party_id])
            yield row


def _linked_to_party(queryset):
    queryset._iterable_class = _LinkedToParty
    return queryset


def _may_act_on(user, party):
    """Cooperative staff and village clerks whose reach covers where the party lives."""
    division = services.party_division(party)
    return can(user, Capability.MANAGE_LOANS, division=division) or can(
        user, Capability.RECORD_ECO_BEHAVIOUR, division=division
    )


class CreditScoreListView(ObjectListView):
    title = gettext_lazy("生态信用评分")
    filterset_class = CreditScoreFilter
    export_name = "credit-scores"
    default_sort = ("-score", "pk")
    columns = [
        Column(gettext_lazy("主体"), "party", link=True),
        Column(gettext_lazy("类型"), "party.get_kind_display"),
        Column(gettext_lazy("评价对象"), "scorecard.get_subject_display", sort="scorecard__subject"),
        Column(gettext_lazy("得分"), "score", sort="score"),
        Column(gettext_lazy("等级"), "grade", sort="grade"),
        Column(gettext_lazy("建议授信额度（元）"), "suggested_line", sort="suggested_line"),
        Column(gettext_lazy("计算时间"), "computed_at", sort="computed_at"),
        Column(gettext_lazy("当前有效"), "is_current"),
    ]

    def get_queryset(self):
        scores = scores_for(self.request.user)
        if "is_current" not in self.request.GET:  # history lives on the party's page
            scores = scores.filter(is_current=True)
        return _linked_to_party(scores)


def party_credit(request, party_pk):
    party = get_object_or_404(credit_parties_for(request.user), pk=party_pk)
    history = list(score_history(party))
    current = next((score for score in history if score.is_current), None)
    staff = _may_act_on(request.user, party)
    records = (
        list(eco_records_for(request.user).filter(party=party).order_by("-occurred_on", "-pk")[:200])
        if staff
        else []
    )
    return render(
        request,
        "finance/scoring/party.html",
        {
            "party": party,
            "division": services.party_division(party),
            "subject": ScoreSubject(services.subject_for(party)).label,
            "score": current,
            "history": list(reversed(history)),
            "series": [[s.computed_at.isoformat(), str(s.score)] for s in history],
            "records": records,
            "may_recompute": staff,
            "may_record": can(
                request.user, Capability.RECORD_ECO_BEHAVIOUR, division=services.party_division(party)
            ),
            "is_bank": acting_bank(request.user) is not None,
        },
    )


@require_POST
def party_recompute(request, party_pk):
    party = get_object_or_404(credit_parties_for(request.user), pk=party_pk)
    if not _may_act_on(request.user, party):
        raise PermissionDenied
    score = services.recompute_credit_score(party.pk)
    if score is None:
        messages.warning(request, _("该类主体尚无启用的评分卡，未能评分。"))
    else:
        messages.success(
            request,
            _("已重新评分：%(score)s 分（%(grade)s）。") % {"score": score.score, "grade": score.grade},
        )
    return redirect("finance:party-credit", party.pk)


class EcoBehaviourListView(ObjectListView):
    title = gettext_lazy("生态行为记录")
    filterset_class = EcoBehaviourFilter
    export_name = "eco-behaviour"
    default_sort = ("-occurred_on", "-pk")
    columns = [
        Column(gettext_lazy("主体"), "party", link=True),
        Column(gettext_lazy("类别"), "get_category_display", sort="category"),
        Column(gettext_lazy("加减分"), "points", sort="points"),
        Column(gettext_lazy("发生日期"), "occurred_on", sort="occurred_on"),
        Column(gettext_lazy("发生地"), "division.name", sort="division__code"),
        Column(gettext_lazy("情况说明"), "description"),
        Column(gettext_lazy("依据"), "source_document"),
        Column(gettext_lazy("记录人"), "recorded_by"),
        Column(gettext_lazy("撤销时间"), "revoked_at", sort="revoked_at"),
    ]

    def get_queryset(self):
        return _linked_to_party(eco_records_for(self.request.user).defer("division__boundary"))

    def get_create_url(self):
        return (
            reverse("finance:eco-behaviour-create")
            if can(self.request.user, Capability.RECORD_ECO_BEHAVIOUR)
            else None
        )


def _form_page(request, form, title, action, back, template="finance/scoring/form.html", **extra):
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


def eco_behaviour_create(request):
    if not can(request.user, Capability.RECORD_ECO_BEHAVIOUR):
        raise PermissionDenied
    parties = recordable_parties(request.user)
    divisions = recordable_divisions(request.user)
    initial = {}
    chosen = (
        parties.filter(pk=request.GET.get("party") or 0).first()
        if request.GET.get("party", "").isdigit()
        else None
    )
    if chosen is not None:
        initial["party"] = chosen
        home = services.party_division(chosen)
        if divisions.filter(pk=home.pk).exists():
            initial["division"] = home
    form = EcoBehaviourForm(request.POST or None, initial=initial, parties=parties, divisions=divisions)

    def save(data):
        record = services.record_eco_behaviour(actor=request.user, **data)
        messages.success(request, _("生态行为已记录，信用分将自动重新计算。"))
        return redirect("finance:party-credit", record.party_id)

    return _form_page(request, form, _("记录生态行为"), save, reverse("finance:eco-behaviour-list"))


def eco_behaviour_revoke(request, pk):
    record = get_object_or_404(eco_records_for(request.user), pk=pk)
    if not can(request.user, Capability.RECORD_ECO_BEHAVIOUR, division=record.division):
        raise PermissionDenied

    def revoke(data):
        services.revoke_eco_behaviour(actor=request.user, record=record, **data)
        messages.success(request, _("记录已撤销，信用分将自动重新计算。"))
        return redirect("finance:party-credit", record.party_id)

    back = reverse("finance:party-credit", args=[record.party_id])
    return _form_page(
        request, RevokeForm(request.POST or None), _("撤销生态行为记录"), revoke, back, record=record
    )


def _may_read_scorecards(user):
    return any(
        can(user, capability)
        for capability in (
            Capability.MANAGE_SCORECARDS,
            Capability.MANAGE_LOANS,
            Capability.RECORD_ECO_BEHAVIOUR,
            Capability.LEND,
        )
    )


def scorecard_list(request):
    if not _may_read_scorecards(request.user):
        raise PermissionDenied
    cards = list(scorecards())
    active = {card.subject for card in cards if card.is_active}
    return render(
        request,
        "finance/scoring/scorecards.html",
        {
            "scorecards": cards,
            "grade_bands": services.grade_bands(),
            "may_create_defaults": can(request.user, Capability.MANAGE_SCORECARDS)
            and len(active) < len(ScoreSubject.values),
        },
    )


@require_POST
def scorecard_defaults(request):
    try:
        created = services.default_scorecards(request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    else:
        if created:
            messages.success(request, _("已创建默认评分卡 %(n)s 张。") % {"n": len(created)})
        else:
            messages.info(request, _("各类主体均已有启用的评分卡。"))
    return redirect("finance:scorecard-list")


def credit_score_list(request):
    return CreditScoreListView.as_view()(request)


def eco_behaviour_list(request):
    return EcoBehaviourListView.as_view()(request)


urlpatterns = [
    path("credit/", credit_score_list, name="credit-score-list"),
    path("credit/<int:party_pk>/", party_credit, name="party-credit"),
    path("credit/<int:party_pk>/recompute/", party_recompute, name="party-credit-recompute"),
    path("eco-behaviour/", eco_behaviour_list, name="eco-behaviour-list"),
    path("eco-behaviour/new/", eco_behaviour_create, name="eco-behaviour-create"),
    path("eco-behaviour/<int:pk>/revoke/", eco_behaviour_revoke, name="eco-behaviour-revoke"),
    path("scorecards/", scorecard_list, name="scorecard-list"),
    path("scorecards/defaults/", scorecard_defaults, name="scorecard-defaults"),
]
public_urlpatterns = []
