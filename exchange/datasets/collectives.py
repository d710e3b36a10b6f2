"""农业农村: 农村集体经济组织 (村股份经济合作社) → directory.Organization of kind village collective,
keyed by USCC (check character validated), created and updated through directory.services.

Contact phone numbers are not exchanged: they are stored encrypted and shown masked, and a masked
number cannot be imported back. Collectives without a USCC are not exported (they have no key)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Organization, OrganizationKind
from directory.permissions import Capability, can
from directory.services import create_organization, update_organization
from tmcs.ids import IdentifierError, normalize_uscc

from ..models import Dataset, ExchangeFormat
from .base import CREATED, UNCHANGED, UPDATED, Column, ColumnType, DatasetSpec, in_division
from .common import check_division, divisions_by_code

COLUMNS = (
    Column(
        "uscc",
        gettext_lazy("统一社会信用代码"),
        required=True,
        max_length=18,
        help=gettext_lazy("业务主键，18 位，校验位须正确"),
    ),
    Column(
        "name",
        gettext_lazy("名称"),
        required=True,
        max_length=200,
        help=gettext_lazy("如 ××村股份经济合作社"),
    ),
    Column(
        "division",
        gettext_lazy("行政区划代码"),
        required=True,
        max_length=12,
        help=gettext_lazy("所在村的 12 位统计用区划代码"),
    ),
    Column("contact_name", gettext_lazy("联系人"), max_length=50),
    Column("address", gettext_lazy("地址"), max_length=200),
    Column(
        "is_active",
        gettext_lazy("启用"),
        ColumnType.BOOLEAN,
        help=gettext_lazy("true/false 或 是/否；空白为启用"),
    ),
)
FIELDS = ("name", "division", "contact_name", "address", "is_active")


def natural_key(data):
    return str(data.get("uscc") or "").upper()


def export_rows(user, division, filters):
    collectives = (
        Organization.objects.filter(
            in_division("division__code", division),
            kind=OrganizationKind.VILLAGE_COLLECTIVE,
            uscc__isnull=False,
        )
        .select_related("division")
        .defer("division__boundary")
        .order_by("uscc")
    )
    for organization in collectives:
        yield {
            "uscc": organization.uscc,
            "name": organization.name,
            "division": organization.division.code,
            "contact_name": organization.contact_name,
            "address": organization.address,
            "is_active": organization.is_active,
        }


def prepare(rows, context):
    data = [row.data for row in rows]
    context.cache["divisions"] = divisions_by_code(d.get("division") for d in data)
    usccs = [natural_key(d) for d in data]
    context.cache["organizations"] = {
        o.uscc: o
        for o in Organization.objects.filter(uscc__in=usccs)
        .select_related("division")
        .defer("division__boundary")
    }


def validate(row, context):
    data, errors = row.data, []
    try:
        uscc = normalize_uscc(data.get("uscc") or "")
    except IdentifierError as exc:
        errors.append(("uscc", str(exc)))
        uscc = None
    division, problems = check_division(context, data.get("division"), context.cache["divisions"], "division")
    errors += problems
    if division is not None and not can(context.actor, Capability.MANAGE_ORGANIZATIONS, division=division):
        errors.append(("division", _("您无权登记“%(name)s”的机构。") % {"name": division.name}))
    existing = context.cache["organizations"].get(uscc)
    if existing is not None:
        if existing.kind != OrganizationKind.VILLAGE_COLLECTIVE:
            errors.append(
                (
                    "uscc",
                    _("该统一社会信用代码属于%(kind)s“%(name)s”，不是村集体经济组织。")
                    % {"kind": existing.get_kind_display(), "name": existing.name},
                )
            )
        elif not context.covers(existing.division):
            errors.append(("uscc", _("该组织登记在本次交换的区划以外。")))
    row.resolved.update(uscc=uscc, division=division, organization=existing)
    return errors


def apply(row, context):
    resolved, data = row.resolved, row.data
    values = {
        "name": data["name"],
        "division": resolved["division"],
        "contact_name": data.get("contact_name") or "",
        "address": data.get("address") or "",
        "is_active": data.get("is_active") is not False,
    }
    organization = resolved["organization"]
    if organization is None:
        return CREATED, create_organization(
            actor=context.actor, kind=OrganizationKind.VILLAGE_COLLECTIVE, uscc=resolved["uscc"], **values
        )
    if all(getattr(organization, name) == value for name, value in values.items()):
        return UNCHANGED, organization
    return UPDATED, update_organization(actor=context.actor, organization=organization, **values)


SPEC = DatasetSpec(
    key=Dataset.COLLECTIVES,
    department=gettext_lazy("农业农村部门"),
    description=gettext_lazy(
        "农村集体经济组织（村股份经济合作社）：统一社会信用代码、名称、所在村、联系人和地址。"
    ),
    columns=COLUMNS,
    formats=(ExchangeFormat.CSV, ExchangeFormat.XLSX, ExchangeFormat.JSON),
    key_columns=("uscc",),
    natural_key=natural_key,
    export_rows=export_rows,
    validate=validate,
    apply=apply,
    prepare=prepare,
    import_capability=Capability.MANAGE_ORGANIZATIONS,
    notes=(
        gettext_lazy(
            "统一社会信用代码为业务主键（校验位须正确）；已有的组织按文件更新名称、区划、联系人、地址和启用状态。"
        ),
        gettext_lazy("联系电话不交换（平台加密保存、脱敏显示）；没有统一社会信用代码的组织不导出。"),
    ),
)
