"""收储合同即将到期: signed collection contracts (流转收储) whose term ends within `days` (or has
ended without being closed) → the trading desk over the contract's division and the clerks of the
village collectives whose division contains it (the grantors' side)."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from transactions.models import CollectionContract, ContractStatus

from ..models import MonitorJob
from . import CheckResult, Finding, IntParam, Job, stable_key, union
from .leases_expiring import ending_text


def check(params, today, audience):
    horizon = today + datetime.timedelta(days=params["days"])
    signed = CollectionContract.objects.filter(status=ContractStatus.SIGNED)
    result = CheckResult(checked=signed.count())
    ending = (
        signed.filter(end_date__lte=horizon)
        .select_related("grantor__person", "grantor__organization", "division")
        .order_by("end_date", "pk")
    )
    for contract in ending:
        body = _("流转收储合同 %(number)s（出让方 %(grantor)s，%(model)s）：%(ending)s。") % {
            "number": contract.number,
            "grantor": contract.grantor,
            "model": contract.get_revenue_model_display(),
            "ending": ending_text(contract.end_date, today),
        }
        result.findings.append(
            Finding(
                key=stable_key("collection", contract.pk, contract.end_date.isoformat()),
                level="danger" if contract.end_date <= today else "warning",
                title=_("收储合同即将到期：%(number)s") % {"number": contract.number},
                body=body,
                link=contract.get_absolute_url(),
                division=contract.division,
                recipients=union(
                    audience.staff(Capability.MANAGE_TRADING, contract.division),
                    audience.village_clerks(contract.division),
                ),
            )
        )
    return result


JOB = Job(
    key=MonitorJob.COLLECTIONS_EXPIRING,
    check=check,
    params=(IntParam("days", gettext_lazy("提前天数"), default=60, minimum=0, maximum=730),),
)
