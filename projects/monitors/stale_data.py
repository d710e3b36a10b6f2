"""监测数据过期: the monitoring data behind the registry and the GEP accounts has gone stale.

1. Registered assets (registered, collected, listed, leased or pledged) with no observation
   (AssetObservation) in the last `days` days: one alert per division the assets lie in (a
   village, usually) with the count and a link to that division's asset list — one per asset would
   bury the inbox — to the registry staff over it. Key: the division (the count may change while
   the condition stays open).
2. Divisions whose latest accepted GEP accounting run is for a year before last year (today
   2026 → the latest run is for 2024 or earlier) → valuation staff over the division. Key: the
   division and that year, so a newer but still old run raises a fresh alert.
"""

import datetime

from django.db.models import Count, Exists, Max, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import AdministrativeDivision
from directory.permissions import Capability
from resources.models import Asset, AssetObservation, AssetStatus
from valuation.models import AccountingRun

from ..models import MonitorJob
from . import CheckResult, Finding, IntParam, Job, stable_key

REGISTERED_STATUSES = (
    AssetStatus.REGISTERED,
    AssetStatus.COLLECTED,
    AssetStatus.LISTED,
    AssetStatus.LEASED,
    AssetStatus.PLEDGED,
)


def _stale_observations(params, today, audience, result):
    since = today - datetime.timedelta(days=params["days"])
    registered = Asset.objects.filter(status__in=REGISTERED_STATUSES)
    result.checked += registered.count()
    recent = AssetObservation.objects.filter(asset=OuterRef("pk"), observed_on__gte=since)
    counts = dict(
        registered.filter(~Exists(recent))
        .values("division")
        .annotate(n=Count("pk"))
        .values_list("division", "n")
    )
    divisions = AdministrativeDivision.objects.filter(pk__in=counts).defer("boundary").order_by("code")
    for division in divisions:
        n = counts[division.pk]
        result.findings.append(
            Finding(
                key=stable_key("observations", division.pk),
                level="warning",
                title=_("%(division)s 有 %(n)s 项资源超过 %(days)s 天无监测记录")
                % {"division": division.name, "n": n, "days": params["days"]},
                body=_(
                    "%(division)s 已登记的资源中有 %(n)s 项自 %(since)s 以来没有动态监测记录，"
                    "请安排实地核查或导入遥感、调查数据。"
                )
                % {"division": division.name, "n": n, "since": since},
                link=f"{reverse('resources:index')}?division={division.pk}",
                division=division,
                recipients=audience.staff(Capability.MANAGE_REGISTRY, division),
            )
        )


def _stale_runs(today, audience, result):
    latest = dict(
        AccountingRun.objects.filter(accepted_at__isnull=False)
        .values("division")
        .annotate(year=Max("year"))
        .values_list("division", "year")
    )
    result.checked += len(latest)
    oldest_fresh = today.year - 1
    stale = {division_id: year for division_id, year in latest.items() if year < oldest_fresh}
    divisions = AdministrativeDivision.objects.filter(pk__in=stale).defer("boundary").order_by("code")
    for division in divisions:
        year = stale[division.pk]
        result.findings.append(
            Finding(
                key=stable_key("gep_run", division.pk, year),
                level="warning",
                title=_("%(division)s 的 GEP 核算已过期（最近采纳 %(year)s 年）")
                % {"division": division.name, "year": year},
                body=_(
                    "%(division)s 最近一次经采纳的 GEP 核算为 %(year)s 年，早于 %(fresh)s 年，请组织新一轮核算。"
                )
                % {"division": division.name, "year": year, "fresh": oldest_fresh},
                link=reverse("valuation:run-list"),
                division=division,
                recipients=audience.staff(Capability.RUN_VALUATION, division),
            )
        )


def check(params, today, audience):
    result = CheckResult()
    _stale_observations(params, today, audience, result)
    _stale_runs(today, audience, result)
    return result


JOB = Job(
    key=MonitorJob.STALE_DATA,
    check=check,
    params=(IntParam("days", gettext_lazy("无监测记录天数"), default=400, minimum=1, maximum=3650),),
)
