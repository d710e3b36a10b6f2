"""The monitoring jobs that Celery beat runs (one module per job). A job declares its parameters
and a `check(params, today, audience)` that only reads (or recomputes its own readings) and
returns what it found; `projects.services.monitoring.run_monitor` turns findings into alerts,
once per open condition, and notifies the recipients.

A finding's `key` names the condition, not the run: the same installment still overdue gives the
same key (a re-run is silent), a changed condition (a new end date, an escalation from warning to
breach, a new valuation) gives a new key (a new alert; the old one is resolved)."""

import hashlib
from dataclasses import dataclass, field
from importlib import import_module

from django.utils.translation import gettext as _

from directory.models import Membership, Role
from directory.selectors import users_with
from tmcs.errors import DomainError

from ..models import MonitorJob

# Module of each job under projects/monitors/ (imported on first use).
JOB_MODULES = {
    MonitorJob.NOTICE_ENDING: "notice_ending",
    MonitorJob.LEASES_EXPIRING: "leases_expiring",
    MonitorJob.COLLECTIONS_EXPIRING: "collections_expiring",
    MonitorJob.INSTALLMENTS_DUE: "installments_due",
    MonitorJob.INSTALLMENTS_OVERDUE: "installments_overdue",
    MonitorJob.PLEDGE_VALUE: "pledge_value",
    MonitorJob.RED_LINES: "red_lines",
    MonitorJob.GEP_BALANCE: "gep_balance",
    MonitorJob.STALE_DATA: "stale_data",
    # Jobs of apps to the right of projects name their module in full (projects never imports
    # them directly; the schedule row for the job is created by that app's migration).
    MonitorJob.POLICIES_EXPIRING: "greenfinance.monitors.policies_expiring",
}
KEY_MAX_LENGTH = 200  # MonitorAlert.key


@dataclass(frozen=True)
class Finding:
    key: str
    level: str  # a Notification level: info | warning | danger
    title: str
    body: str
    link: str
    division: object  # AdministrativeDivision the condition belongs to (scopes who sees the alert)
    recipients: tuple  # Users to notify


@dataclass
class CheckResult:
    checked: int = 0  # objects examined
    findings: list = field(default_factory=list)


@dataclass(frozen=True)
class IntParam:
    """A whole-number parameter (e.g. days ahead). Beat kwargs come from JSON typed in the admin,
    so "60" is accepted as well as 60; anything else is refused with the field named."""

    name: str
    label: str
    default: int
    minimum: int = 0
    maximum: int = 3650

    def clean(self, raw):
        value = raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            value = int(raw.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise _param_error(self.name, _("参数 %(name)s 须为整数。") % {"name": self.name})
        if not self.minimum <= value <= self.maximum:
            raise _param_error(
                self.name,
                _("参数 %(name)s 须在 %(min)s 到 %(max)s 之间，收到 %(value)s。")
                % {"name": self.name, "min": self.minimum, "max": self.maximum, "value": value},
            )
        return value


def _param_error(name, message):
    return DomainError(message, code="invalid_params", fields={name: [message]})


@dataclass(frozen=True)
class Job:
    key: str
    check: object  # callable(params, today, audience) -> CheckResult
    params: tuple = ()  # IntParam…

    @property
    def label(self):
        return MonitorJob(self.key).label

    def clean_params(self, raw):
        """Validated parameters with defaults filled in; unknown names are refused (a typo in the
        admin's kwargs must not silently run the job with its default)."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise _param_error("params", _("参数须为键值对象。"))
        known = {param.name: param for param in self.params}
        unknown = sorted(str(name) for name in raw if name not in known)
        if unknown:
            raise _param_error(
                unknown[0],
                _("监测任务“%(job)s”不接受参数：%(names)s。")
                % {"job": self.label, "names": "、".join(unknown)},
            )
        return {
            name: param.clean(raw[name]) if name in raw else param.default for name, param in known.items()
        }


def get_job(key):
    """The job named `key`, or a DomainError naming the known jobs."""
    if key not in JOB_MODULES:
        message = _("未知的监测任务“%(job)s”，可用任务：%(jobs)s。") % {
            "job": key,
            "jobs": "、".join(JOB_MODULES),
        }
        raise DomainError(message, code="unknown_job", fields={"job": [message]})
    module = JOB_MODULES[key]
    return import_module(module if "." in module else f"{__name__}.{module}").JOB


def all_jobs():
    return [get_job(key) for key in JOB_MODULES]


def stable_key(*parts):
    """Join the parts of a condition key; a key too long for the column keeps its head and a digest
    of the whole, so it stays unique and the same for the same condition."""
    key = ":".join(str(part) for part in parts)
    if len(key) <= KEY_MAX_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: KEY_MAX_LENGTH - 33]}#{digest}"


class Audience:
    """Who should hear about a finding, memoised for one run: `users_with` reads every active
    membership, and many findings share a division or an organization."""

    def __init__(self):
        self._cache = {}

    def _memo(self, key, compute):
        if key not in self._cache:
            self._cache[key] = tuple(compute())
        return self._cache[key]

    def staff(self, capability, division):
        """Division-scoped users whose role carries `capability` and whose reach covers `division`."""
        return self._memo(
            ("staff", capability, division.pk), lambda: users_with(capability, division=division)
        )

    def members(self, capability, organization):
        """Users acting for `organization` in a role that carries `capability`."""
        return self._memo(
            ("members", capability, organization.pk),
            lambda: users_with(capability, organization=organization),
        )

    def village_clerks(self, division):
        """Clerks of village collectives whose division contains `division`."""

        def compute():
            memberships = Membership.objects.filter(
                role=Role.VILLAGE_CLERK, is_active=True, user__is_active=True, organization__is_active=True
            ).select_related("user", "organization__division")
            found = {m.user_id: m.user for m in memberships if m.organization.division.contains(division)}
            return sorted(found.values(), key=lambda user: user.pk)

        return self._memo(("clerks", division.pk), compute)

    def city_admins(self):
        def compute():
            memberships = Membership.objects.filter(
                role=Role.CITY_ADMIN, is_active=True, user__is_active=True, organization__is_active=True
            ).select_related("user")
            found = {m.user_id: m.user for m in memberships}
            return sorted(found.values(), key=lambda user: user.pk)

        return self._memo(("city_admins",), compute)


def union(*groups):
    """Users of several groups, each once, in primary-key order."""
    found = {user.pk: user for group in groups for user in group}
    return tuple(found[pk] for pk in sorted(found))
