"""租赁/交易合同即将到期: signed trade contracts (leases and transfers of the management right)
whose term ends within `days` (or has ended without being closed) → the trading desk over the
contract's division and the investor's own people, so that renewal or hand-back is prepared."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from transactions.models import ContractStatus, TradeContract

from ..models import MonitorJob
from . import CheckResult, Finding, IntParam, Job, stable_key, union


def ending_text(end_date, today):
    """The contract's end (end_date is exclusive: the term's last day is the day before)."""
    last_day = end_date - datetime.timedelta(days=1)
    left = (end_date - today).days
    if left <= 0:
        return _("合同期限已于 %(day)s 届满，尚未办理到期或续签") % {"day": last_day}
    return _("合同期限至 %(day)s，还剩 %(n)s 天") % {"day": last_day, "n": left}


def check(params, today, audience):
    horizon = today + datetime.timedelta(days=params["days"])
    signed = TradeContract.objects.filter(status=ContractStatus.SIGNED)
    result = CheckResult(checked=signed.count())
    ending = (
        signed.filter(end_date__lte=horizon).select_related("investor", "division").order_by("end_date", "pk")
    )
    for contract in ending:
        body = _(
            "交易合同 %(number)s（%(kind)s，受让方 %(investor)s，合同总价 %(price)s 元）：%(ending)s。"
        ) % {
            "number": contract.number,
            "kind": contract.get_kind_display(),
            "investor": contract.investor.name,
            "price": contract.price,
            "ending": ending_text(contract.end_date, today),
        }
        result.findings.append(
            Finding(
                key=stable_key("trade", contract.pk, contract.end_date.isoformat()),
                level="danger" if contract.end_date <= today else "warning",
                title=_("交易合同即将到期：%(number)s") % {"number": contract.number},
                body=body,
                link=contract.get_absolute_url(),
                division=contract.division,
                recipients=union(
                    audience.staff(Capability.MANAGE_TRADING, contract.division),
                    audience.members(Capability.TRADE, contract.investor),
                ),
            )
        )
    return result


JOB = Job(
    key=MonitorJob.LEASES_EXPIRING,
    check=check,
    params=(IntParam("days", gettext_lazy("提前天数"), default=60, minimum=0, maximum=730),),
)
