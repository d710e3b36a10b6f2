"""合作社风险红线: today's red-line readings of every active cooperative
(projects.services.red_lines.compute_all, which upserts the day's readings) → an alert per line in
warning or breach, to the people who oversee the cooperative's division and the city
administrators. The status is part of the key: an escalation from warning to breach raises a new
alert (and resolves the warning), a de-escalation likewise."""

from django.urls import reverse
from django.utils.translation import gettext as _

from directory.permissions import Capability

from ..models import MonitorJob, RedLineDirection, RedLineKey, RedLineStatus
from ..services import red_lines
from . import CheckResult, Finding, Job, stable_key, union

LEVELS = {RedLineStatus.WARNING: "warning", RedLineStatus.BREACH: "danger"}


def check(params, today, audience):
    readings = red_lines.compute_all()
    result = CheckResult(checked=len(readings))
    for reading in readings:
        if reading.status not in LEVELS:
            continue
        cooperative = reading.cooperative
        key = RedLineKey(reading.key)
        status = RedLineStatus(reading.status)
        comparison = _("不高于") if reading.direction == RedLineDirection.MAX else _("不低于")
        body = _(
            "%(coop)s %(line)s为 %(value)s（%(as_of)s），红线%(cmp)s %(limit)s，预警线 %(warning)s。"
        ) % {
            "coop": cooperative.name,
            "line": key.label,
            "value": red_lines.format_value(key, reading.value),
            "as_of": reading.as_of,
            "cmp": comparison,
            "limit": red_lines.format_value(key, reading.limit),
            "warning": red_lines.format_value(key, reading.warning),
        }
        explanation = (reading.details or {}).get("explanation")
        result.findings.append(
            Finding(
                key=stable_key("red_line", cooperative.pk, key.value, status.value),
                level=LEVELS[status],
                title=_("%(coop)s：%(line)s%(status)s")
                % {"coop": cooperative.name, "line": key.label, "status": status.label},
                body="\n".join(filter(None, [body, explanation])),
                link=reverse("projects:red-line-cooperative", args=[cooperative.pk]),
                division=cooperative.division,
                recipients=union(
                    audience.staff(Capability.VIEW_OVERSIGHT, cooperative.division), audience.city_admins()
                ),
            )
        )
    return result


JOB = Job(key=MonitorJob.RED_LINES, check=check)
