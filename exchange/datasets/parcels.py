"""自然资源: resource parcels with their geometry and active rights, keyed by asset code.

What imported parcels become (decision): an asset the file introduces is created through
resources.services with the file's asset code, its rights are granted, and it is taken through the
registry's transitions (draft → under review → in public notice → registered) in the same
transaction, ending REGISTERED. The natural-resources department keeps the legal tenure register
(不动产登记簿, which decides who holds what); its registrations have had their own public notice, so
a second 公示 here would invite objections in the wrong forum and leave the cooperative's copy
disagreeing with the register for a week. The registry's own checks still run: the overlap check
when the asset leaves the draft state, share sums and exclusive periods when rights are granted —
any of them refusing rejects the whole file.

An asset already in the registry keeps its type, division and geometry (changing them is a change
of registration, not a data exchange: a row that differs is refused); its name, quantity, grade and
attributes are updated, and its active rights are brought in line with the file: rights the file
no longer lists are ended (refused while pledged), new ones granted.
"""

import re
from datetime import date
from fractions import Fraction

from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Organization
from directory.permissions import Capability, can
from resources import services as registry
from resources.import_readers import names_of
from resources.models import (
    SPATIALLY_ACTIVE_STATUSES,
    Asset,
    AssetStatus,
    ResourceType,
    Right,
    RightKind,
    RightStatus,
)
from tmcs.audit import audit_context
from tmcs.errors import DomainError

from ..models import Dataset, ExchangeFormat
from .base import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Column,
    ColumnType,
    DatasetSpec,
    in_division,
)
from .common import (
    HolderIndex,
    assets_by_code,
    check_division,
    divisions_by_code,
    holder_identifier,
    holder_name,
)

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
PLATFORM_CODE = re.compile(r"^ZY\d{6,12}(\d{8})$")
RIGHT_KEYS = (
    "kind",
    "holder_id",
    "holder_name",
    "share",
    "start",
    "end",
    "source_document",
    "certificate_number",
    "pledge_once",
)

COLUMNS = (
    Column(
        "code",
        gettext_lazy("资源编号"),
        required=True,
        max_length=30,
        help=gettext_lazy("业务主键：平台资源编号（如 ZY331102…）；文件中的新编号按原样建档"),
    ),
    Column("name", gettext_lazy("资源名称"), required=True, max_length=200),
    Column(
        "type",
        gettext_lazy("资源类型编码"),
        required=True,
        max_length=40,
        help=gettext_lazy("生态产品目录中的类型编码，如 forest、farmland"),
    ),
    Column(
        "division",
        gettext_lazy("行政区划代码"),
        required=True,
        max_length=12,
        help=gettext_lazy("12 位统计用区划代码"),
    ),
    Column(
        "quantity",
        gettext_lazy("数量"),
        ColumnType.DECIMAL,
        places=4,
        help=gettext_lazy("按资源类型的计量单位"),
    ),
    Column("grade", gettext_lazy("质量等级"), max_length=20),
    Column(
        "attrs",
        gettext_lazy("属性JSON"),
        ColumnType.JSON,
        help=gettext_lazy('资源类型属性结构中的属性，如 {"dominant_species": "杉木", "age_class": "中龄林"}'),
    ),
    Column(
        "rights",
        gettext_lazy("权利JSON"),
        ColumnType.JSON,
        help=gettext_lazy(
            "有效权利的数组，每项含 kind（权利类型，如 contract 或 承包权）、holder_id（统一社会信用代码或身份证号）、"
            "holder_name（权利人名称）、share（份额，如 1、1/2）、start、end（YYYY-MM-DD，end 可为 null）、"
            "source_document（权源文件）、certificate_number（证书编号，可为 null）、pledge_once（仅可质押一次，true/false）"
        ),
    ),
    Column(
        "area_m2",
        gettext_lazy("面积（m²）"),
        ColumnType.DECIMAL,
        export_only=True,
        help=gettext_lazy("平台按 EPSG:4549（CGCS2000 高斯-克吕格 120°E）计算"),
    ),
    Column(
        "status",
        gettext_lazy("登记状态"),
        export_only=True,
        help=gettext_lazy(
            "registered 已登记、collected 已收储、listed 挂牌中、leased 已出租、pledged 已质押等"
        ),
    ),
    Column(
        "wkt",
        gettext_lazy("几何WKT"),
        ColumnType.GEOMETRY,
        help=gettext_lazy("CGCS2000 经纬度（EPSG:4490）的面；须有空间范围的资源类型必填"),
    ),
)


def natural_key(data):
    return str(data.get("code") or "")


# --- export -------------------------------------------------------------------------------------


def export_rows(user, division, filters):
    """Assets on the registry (not drafts, not retired) in the division, with their active rights
    (three queries whatever the number of rows)."""
    rights = (
        Right.objects.filter(status=RightStatus.ACTIVE)
        .select_related("holder__person__division", "holder__organization")
        .defer("holder__person__division__boundary")
        .order_by("kind", "period", "pk")
    )
    assets = (
        Asset.objects.filter(in_division("division__code", division), status__in=SPATIALLY_ACTIVE_STATUSES)
        .select_related("resource_type", "division")
        .defer("division__boundary")
        .prefetch_related(Prefetch("rights", rights, to_attr="active_rights"))
        .order_by("code")
    )
    since = filters.get("updated_since")
    if since:
        changed_rights = Right.objects.filter(Q(created_at__date__gte=since) | Q(ended_at__date__gte=since))
        assets = assets.filter(Q(updated_at__date__gte=since) | Q(pk__in=changed_rights.values("asset_id")))
    revealed = set()
    for asset in assets:
        yield {
            "code": asset.code,
            "name": asset.name,
            "type": asset.resource_type.code,
            "division": asset.division.code,
            "quantity": asset.quantity,
            "grade": asset.quality_grade,
            "attrs": asset.attributes or {},
            "rights": [_right_entry(right, user, revealed) for right in asset.active_rights],
            "area_m2": asset.area_m2,
            "status": asset.status,
            "wkt": asset.geometry,
            "_revealed": revealed,
        }


def _right_entry(right, user, revealed):
    return {
        "kind": right.kind,
        "holder_id": holder_identifier(right.holder, user, revealed),
        "holder_name": holder_name(right.holder),
        "share": right.share_display,
        "start": right.period.lower.isoformat(),
        "end": right.period.upper.isoformat() if right.period.upper else None,
        "source_document": right.source_document,
        "certificate_number": right.certificate_number,
        "pledge_once": right.pledge_once,
    }


# --- validation ---------------------------------------------------------------------------------


def prepare(rows, context):
    data = [row.data for row in rows]
    identifiers = {r.get("holder_id") for d in data for r in _entries(d.get("rights"))}
    certificates = {r.get("certificate_number") for d in data for r in _entries(d.get("rights"))} - {None, ""}
    context.cache.update(
        types={t.code: t for t in ResourceType.objects.all()},
        divisions=divisions_by_code(d.get("division") for d in data),
        assets=assets_by_code((d.get("code") for d in data), geometry=True),
        holders=HolderIndex(context.actor, identifiers),
        certificates=dict(
            Right.objects.filter(certificate_number__in=[str(c) for c in certificates]).values_list(
                "certificate_number", "asset__code"
            )
        ),
        seen_certificates={},
    )


def _entries(rights):
    return [r for r in rights if isinstance(r, dict)] if isinstance(rights, list) else []


def validate(row, context):
    data, cache, errors = row.data, context.cache, []
    code = data.get("code") or ""
    if code and not CODE.match(code):
        errors.append(("code", _("资源编号只能包含字母、数字、连字符和下划线。")))
    resource_type = cache["types"].get(data.get("type") or "")
    if data.get("type") and resource_type is None:
        errors.append(("type", _("资源类型“%(code)s”不在目录中。") % {"code": data["type"]}))
    elif resource_type is not None and not resource_type.is_active:
        errors.append(("type", _("该资源类型已停用。")))
    division, problems = check_division(context, data.get("division"), cache["divisions"], "division")
    errors += problems
    if division is not None and not (
        can(context.actor, Capability.MANAGE_REGISTRY, division=division)
        and can(context.actor, Capability.DRAFT_ASSETS, division=division)
    ):
        errors.append(("division", _("您无权在“%(name)s”登记资源。") % {"name": division.name}))
    shape = _shape(data, resource_type, errors)
    if data.get("quantity") is not None and data["quantity"] < 0:
        errors.append(("quantity", _("数量不能为负。")))
    attributes = data.get("attrs") if data.get("attrs") is not None else {}
    if not isinstance(attributes, dict):
        errors.append(("attrs", _('属性JSON须为对象，如 {"key": 值}。')))
    elif resource_type is not None:
        try:
            registry.validate_attributes(resource_type, attributes)
        except DomainError as exc:
            errors += [("attrs", m) for messages in exc.fields.values() for m in messages]
    rights = _check_rights(row, context, division, errors)
    existing = cache["assets"].get(code)
    if existing is not None:
        _check_existing(existing, context, resource_type, division, shape, errors)
    row.resolved.update(
        type=resource_type,
        division=division,
        shape=shape,
        attributes=attributes,
        rights=rights,
        asset=existing,
    )
    return errors


def _shape(data, resource_type, errors):
    """The row's geometry as the registry accepts it (the division's boundary, where one is
    recorded, is checked by create_asset when the row is applied)."""
    shape = data.get("wkt")
    if shape is None:
        if resource_type is not None and resource_type.geometry_required:
            errors.append(("wkt", _("该类型的资源须有空间范围。")))
        return None
    try:
        shape = registry.parse_geometry(shape)
    except DomainError as exc:
        errors.append(("wkt", exc.detail))
        return None
    return shape


def _check_existing(asset, context, resource_type, division, shape, errors):
    if not context.covers(asset.division):
        errors.append(("code", _("资源编号已被其他区划的资源使用。")))
        return
    if asset.status == AssetStatus.RETIRED:
        errors.append(("code", _("该资源已注销，不能再交换其登记信息。")))
    if resource_type is not None and asset.resource_type_id != resource_type.pk:
        errors.append(("type", _("资源类型与已登记的不同：类型变更须办理变更登记。")))
    if division is not None and asset.division_id != division.pk:
        errors.append(("division", _("所在区划与已登记的不同：区划变更须办理变更登记。")))
    same_shape = (
        shape is None
        if asset.geometry is None
        else shape is not None and asset.geometry.equals_exact(shape, tolerance=1e-9)
    )
    if not same_shape:
        errors.append(
            ("wkt", _("空间范围与已登记的不同：空间范围的变更须办理变更登记，不能通过数据交换修改。"))
        )


def _right_kind(text):
    for kind in RightKind:
        if text == kind.value or text in names_of(kind.label):
            return kind
    return None


def _entry_date(value):
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return False


def _check_rights(row, context, division, errors):
    """The file's rights as plans; every problem reported as “第 n 项权利：…” in the rights column."""
    raw = row.data.get("rights")
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append(("rights", _("权利JSON须为数组。")))
        return []
    plans, cache = [], context.cache
    for number, entry in enumerate(raw, start=1):
        problems = []
        if not isinstance(entry, dict):
            errors.append(("rights", _("第 %(n)s 项权利：须为对象。") % {"n": number}))
            continue
        unknown = sorted(set(entry) - set(RIGHT_KEYS))
        if unknown:
            problems.append(_("未知的键 %(keys)s。") % {"keys": "、".join(unknown)})
        kind = _right_kind(str(entry.get("kind") or ""))
        if kind is None:
            problems.append(_("权利类型“%(kind)s”无法识别。") % {"kind": entry.get("kind") or ""})
        found, new_person, error = cache["holders"].find(entry.get("holder_id"))
        name = str(entry.get("holder_name") or "").strip()
        if error:
            problems.append(error)
        elif found is None and not name:
            problems.append(_("新登记的自然人须填写 holder_name（姓名）。"))
        elif (
            found is None
            and division is not None
            and not can(context.actor, Capability.MANAGE_PERSONS, division=division)
        ):
            problems.append(_("权利人未在主体名录中登记，且您无权登记自然人。"))
        share = None
        try:
            share = registry.parse_share(entry.get("share") or "1")
        except DomainError as exc:
            problems.append(exc.detail)
        start, end = _entry_date(entry.get("start")), _entry_date(entry.get("end"))
        if not start:
            problems.append(_("start 须为 YYYY-MM-DD。"))
        if end is False:
            problems.append(_("end 须为 YYYY-MM-DD 或 null。"))
        elif start and end and end <= start:
            problems.append(_("end 须晚于 start。"))
        source_document = str(entry.get("source_document") or "").strip()
        if not source_document or len(source_document) > 200:
            problems.append(_("source_document（权源文件）必填，最多 200 个字符。"))
        certificate = str(entry.get("certificate_number") or "").strip() or None
        if certificate:
            owner = cache["certificates"].get(certificate)
            if owner is not None and owner != row.data.get("code"):
                problems.append(
                    _("证书编号 %(n)s 已被资源 %(code)s 使用。") % {"n": certificate, "code": owner}
                )
            elif certificate in cache["seen_certificates"]:
                problems.append(
                    _("证书编号 %(n)s 与第 %(row)s 行重复。")
                    % {"n": certificate, "row": cache["seen_certificates"][certificate]}
                )
            cache["seen_certificates"].setdefault(certificate, row.number)
        pledge_once = entry.get("pledge_once", False)
        if not isinstance(pledge_once, bool):
            problems.append(_("pledge_once 须为 true 或 false。"))
        for problem in problems:
            errors.append(("rights", _("第 %(n)s 项权利：%(problem)s") % {"n": number, "problem": problem}))
        if not problems:
            plans.append(
                {
                    "kind": kind,
                    "holder_id": str(entry.get("holder_id")).strip(),
                    "holder_name": name,
                    "new_person": new_person,
                    "share": share,
                    "start": start,
                    "end": end or None,
                    "source_document": source_document,
                    "certificate_number": certificate,
                    "pledge_once": pledge_once,
                }
            )
    return plans


# --- apply --------------------------------------------------------------------------------------


def apply(row, context):
    resolved = row.resolved
    reason = context.reason
    if resolved["asset"] is None:
        return CREATED, _create(row, context, reason)
    asset = resolved["asset"]
    before = (asset.name, asset.quantity, asset.quality_grade, asset.attributes)
    asset = registry.update_asset_details(
        actor=context.actor,
        asset=asset,
        reason=reason,
        name=row.data["name"],
        quantity=row.data.get("quantity"),
        quality_grade=row.data.get("grade") or "",
        attributes=resolved["attributes"],
    )
    rights_changed = _align_rights(asset, resolved["rights"], context, reason)
    details_changed = before != (asset.name, asset.quantity, asset.quality_grade, asset.attributes)
    return (UPDATED if rights_changed or details_changed else UNCHANGED), asset


def _create(row, context, reason):
    resolved, actor = row.resolved, context.actor
    asset = registry.create_asset(
        actor=actor,
        resource_type=resolved["type"],
        division=resolved["division"],
        name=row.data["name"],
        geometry=resolved["shape"],
        attributes=resolved["attributes"],
        quantity=row.data.get("quantity"),
        quality_grade=row.data.get("grade") or "",
    )
    _adopt_code(asset, row.data["code"], actor, reason)
    for plan in resolved["rights"]:
        _grant(asset, plan, context)
    for status in (AssetStatus.UNDER_REVIEW, AssetStatus.IN_PUBLIC_NOTICE, AssetStatus.REGISTERED):
        asset = registry.transition_asset(actor=actor, asset=asset, to_status=status, reason=reason)
    return asset


def _adopt_code(asset, code, actor, reason):
    """The file's asset code replaces the generated one (the code is the exchange's key); the
    code sequence is moved past a platform-style code so that new assets never collide with it."""
    try:
        with transaction.atomic(), audit_context(user=actor, reason=reason):
            Asset.objects.filter(pk=asset.pk).update(code=code)
    except IntegrityError:
        raise DomainError(
            _("资源编号 %(code)s 已被使用。") % {"code": code},
            code="duplicate",
            fields={"code": [_("资源编号已被使用。")]},
        ) from None
    asset.code = code
    match = PLATFORM_CODE.match(code)
    if match:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval('resources_asset_code_seq', GREATEST(%s, (SELECT last_value FROM resources_asset_code_seq)))",
                [int(match.group(1))],
            )


def _grant(asset, plan, context):
    party = context.cache["holders"].party(
        plan["holder_id"], name=plan["holder_name"], division=asset.division
    )
    return registry.grant_right(
        actor=context.actor,
        asset=asset,
        holder=party,
        kind=plan["kind"],
        share=plan["share"],
        start=plan["start"],
        end=plan["end"],
        source_document=plan["source_document"],
        certificate_number=plan["certificate_number"],
        pledge_once=plan["pledge_once"],
    )


def _signature_of_right(right):
    return (
        right.kind,
        _holder_signature(right.holder),
        Fraction(right.share_numerator, right.share_denominator),
        right.period.lower,
        right.period.upper,
        right.source_document,
        right.certificate_number,
        right.pledge_once,
    )


def _holder_signature(party):
    return ("org", party.organization_id) if party.organization_id else ("person", party.person_id)


def _signature_of_plan(plan, index):
    found, _new, _error = index.find(plan["holder_id"])
    if found is None:
        holder = ("new", plan["new_person"])
    else:
        holder = ("org", found.pk) if isinstance(found, Organization) else ("person", found.pk)
    return (
        plan["kind"],
        holder,
        plan["share"],
        plan["start"],
        plan["end"],
        plan["source_document"],
        plan["certificate_number"],
        plan["pledge_once"],
    )


def _align_rights(asset, plans, context, reason):
    """End the active rights the file no longer lists, then grant the new ones (ending first, so
    that a transfer of a share fits). True when anything changed."""
    index = context.cache["holders"]
    active = list(
        Right.objects.filter(asset=asset, status=RightStatus.ACTIVE).select_related("holder").order_by("pk")
    )
    wanted = {_signature_of_plan(plan, index): plan for plan in plans}
    current = {_signature_of_right(right): right for right in active}
    to_end = [right for signature, right in current.items() if signature not in wanted]
    to_grant = [plan for signature, plan in wanted.items() if signature not in current]
    for right in to_end:
        registry.end_right(actor=context.actor, right=right, reason=reason)
    for plan in to_grant:
        _grant(asset, plan, context)
    return bool(to_end or to_grant)


SPEC = DatasetSpec(
    key=Dataset.PARCELS,
    department=gettext_lazy("自然资源和规划部门"),
    description=gettext_lazy("资源地块的空间范围、类型、属性及其有效权利（权利人、份额、期限、权源文件）。"),
    columns=COLUMNS,
    formats=(ExchangeFormat.GEOJSON, ExchangeFormat.CSV, ExchangeFormat.XLSX, ExchangeFormat.JSON),
    key_columns=("code",),
    natural_key=natural_key,
    export_rows=export_rows,
    validate=validate,
    apply=apply,
    prepare=prepare,
    import_capability=Capability.MANAGE_REGISTRY,
    filters=("updated_since",),
    service_fields={
        "geometry": "wkt",
        "attributes": "attrs",
        "quality_grade": "grade",
        "resource_type": "type",
        **dict.fromkeys(
            (
                "share",
                "period",
                "holder",
                "holder_id",
                "national_id",
                "certificate_number",
                "source_document",
                "kind",
            ),
            "rights",
        ),
    },
    notes=(
        gettext_lazy(
            "文件中新出现的资源按文件中的资源编号建档，登记权利后直接记为“已登记”（自然资源部门的不动产登记簿是权属依据，其登记已经公示），仍做空间重叠、份额和期限检查。"
        ),
        gettext_lazy(
            "已登记资源的类型、区划和空间范围不能通过数据交换修改（须办理变更登记）；名称、数量、质量等级和属性按文件更新。"
        ),
        gettext_lazy(
            "有效权利与文件对齐：文件中不再列出的权利予以终止（设有质押的不能终止，整个文件退回），新列出的权利予以登记。"
        ),
        gettext_lazy(
            "导出时，权利人为自然人的证件号仅在导出人有权查看完整证件号时完整输出（并记入个人信息查看记录），否则脱敏；脱敏的证件号不能再导入。"
        ),
        gettext_lazy("导出范围：区划内已离开草稿状态且未注销的资源。"),
    ),
)
