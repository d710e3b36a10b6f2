"""GEP 占补平衡余额: every balancing division (one with a rule,
projects.services.gep_balance.monitored_divisions) whose balance is under its warning line or
negative → the project desk over that division. The status is part of the key, so a balance that
goes from warning to negative raises a new alert."""

from django.urls import reverse
from django.utils.translation import gettext as _

from directory.permissions import Capability

from ..models import MonitorJob
from ..services import gep_balance
from . import CheckResult, Finding, Job, stable_key

LEVELS = {"warning": "warning", "negative": "danger"}


def check(params, today, audience):
    divisions = gep_balance.monitored_divisions()
    result = CheckResult(checked=len(divisions))
    for division in divisions:
        state = gep_balance.balance_status(division)
        if state["status"] not in LEVELS:
            continue
        if state["status"] == "negative":
            title = _("%(division)s GEP 占补平衡余额为负") % {"division": division.name}
            body = _(
                "%(division)s GEP 占补平衡余额 %(balance)s 元，已为负数，缺口 %(gap)s 元；在补充足额前不得再占用 GEP。"
            ) % {
                "division": division.name,
                "balance": state["balance"],
                "gap": -state["balance"],
            }
        else:
            title = _("%(division)s GEP 占补平衡余额低于预警线") % {"division": division.name}
            body = _(
                "%(division)s GEP 占补平衡余额 %(balance)s 元，低于预警线 %(warning)s 元，请安排生态修复或新增保护补充。"
            ) % {
                "division": division.name,
                "balance": state["balance"],
                "warning": state["warning"],
            }
        result.findings.append(
            Finding(
                key=stable_key("gep_balance", division.pk, state["status"]),
                level=LEVELS[state["status"]],
                title=title,
                body=body,
                link=reverse("projects:gep-balance-detail", args=[division.pk]),
                division=division,
                recipients=audience.staff(Capability.MANAGE_PROJECTS, division),
            )
        )
    return result


JOB = Job(key=MonitorJob.GEP_BALANCE, check=check)
