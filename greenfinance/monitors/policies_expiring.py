"""绿色保险保单即将到期: first the policies whose term has ended are marked expired
(greenfinance.services.insurance.expire_policies), then every policy still in force whose cover
ends within `days` is reported → the green-finance desk over the policy's division and, when the
policy secures a loan application or loan, that bank's officers, so that renewal is arranged
before a loan product's insurance requirement stops being met.

The key names the policy and its end date: a changed end date is a new condition. A policy
counts as renewed (and its alert is resolved) when a successor in force continues its cover:
same insured and kind, starting no later than the old one ends and ending after it, covering all
of its assets and tied to the same application, loan and project."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from projects.models import MonitorJob
from projects.monitors import CheckResult, Finding, IntParam, Job, stable_key, union

from ..models import InsurancePolicy, PolicyStatus
from ..services.insurance import bank_of_policy, expire_policies

URGENT_DAYS = 7
LINKS = ("application_id", "loan_id", "project_id")


def _asset_ids(policy_ids):
    through = InsurancePolicy.assets.through.objects.filter(insurancepolicy_id__in=policy_ids)
    found = {pk: set() for pk in policy_ids}
    for policy_id, asset_id in through.values_list("insurancepolicy_id", "asset_id"):
        found[policy_id].add(asset_id)
    return found


def _renewed(policy, successors, assets):
    for other in successors.get((policy.insured_id, policy.kind), ()):
        if other.pk == policy.pk or not other.start_date <= policy.end_date < other.end_date:
            continue
        if not assets[policy.pk] <= assets[other.pk]:
            continue
        if all(
            getattr(policy, link) is None or getattr(policy, link) == getattr(other, link) for link in LINKS
        ):
            return True
    return False


def ending_text(end_date, today):
    """The cover's end (end_date is exclusive: the last day covered is the day before)."""
    return _("保险期间至 %(day)s，还剩 %(n)s 天") % {
        "day": end_date - datetime.timedelta(days=1),
        "n": (end_date - today).days,
    }


def check(params, today, audience):
    expire_policies(today)
    active = InsurancePolicy.objects.filter(status=PolicyStatus.ACTIVE)
    result = CheckResult(checked=active.count())
    horizon = today + datetime.timedelta(days=params["days"])
    ending = list(
        active.filter(end_date__lte=horizon)
        .select_related(
            "insurer",
            "insured__person",
            "insured__organization",
            "division",
            "loan__bank",
            "application__product__bank",
        )
        .defer("division__boundary")
        .order_by("end_date", "pk")
    )
    if not ending:
        return result
    successors = {}
    for other in active.filter(
        insured_id__in={p.insured_id for p in ending}, kind__in={p.kind for p in ending}
    ).order_by("pk"):
        successors.setdefault((other.insured_id, other.kind), []).append(other)
    assets = _asset_ids([p.pk for group in successors.values() for p in group])
    for policy in ending:
        if _renewed(policy, successors, assets):
            continue
        bank = bank_of_policy(policy)
        body = _(
            "保单 %(number)s（%(kind)s，被保险人 %(insured)s，保险机构 %(insurer)s，保险金额 %(sum)s 元）：%(ending)s。"
        ) % {
            "number": policy.number,
            "kind": policy.get_kind_display(),
            "insured": policy.insured,
            "insurer": policy.insurer.name,
            "sum": policy.sum_insured,
            "ending": ending_text(policy.end_date, today),
        }
        secured = (
            policy.loan.number
            if policy.loan_id
            else (policy.application.number if policy.application_id else None)
        )
        if secured:
            body += _("该保单为贷款 %(number)s 提供保险保障，请及时续保。") % {"number": secured}
        left = (policy.end_date - today).days
        result.findings.append(
            Finding(
                key=stable_key("policy", policy.number, policy.end_date.isoformat()),
                level="danger" if left <= URGENT_DAYS else "warning",
                title=_("绿色保险保单即将到期：%(number)s") % {"number": policy.number},
                body=body,
                link=policy.get_absolute_url(),
                division=policy.division,
                recipients=union(
                    audience.staff(Capability.MANAGE_GREEN_FINANCE, policy.division),
                    audience.members(Capability.LEND, bank) if bank is not None else (),
                ),
            )
        )
    return result


JOB = Job(
    key=MonitorJob.POLICIES_EXPIRING,
    check=check,
    params=(IntParam("days", gettext_lazy("提前天数"), default=30, minimum=0, maximum=730),),
)
