"""Writes to the eco-product catalog (生态产品目录). One transaction each; the type's row is locked
FOR UPDATE, which also holds back assets being created with it (resources.services.create_asset
reads the type FOR SHARE), so that a type in use is never changed into one its assets break:

- its attribute schema must be a valid JSON Schema (draft 2020-12, the draft
  `services.validate_attributes` uses) for an object, and every existing asset's attributes must
  still validate against it;
- it may not start requiring a geometry while some of its assets have none;
- moved into an overlap group, its active assets may not overlap that group's (invariant 3).
"""

import re

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from directory.permissions import Capability, can
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .catalog import GEP_INDICATORS
from .models import SPATIALLY_ACTIVE_STATUSES, Asset, ResourceFamily, ResourceType

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
GROUP_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,29}$")
EMPTY_SCHEMA = {"type": "object", "properties": {}, "additionalProperties": True}
LISTED_CODES = 20  # offending assets named in an error message
EDITABLE_FIELDS = (
    "name",
    "family",
    "unit",
    "geometry_required",
    "overlap_group",
    "attribute_schema",
    "gep_indicators",
    "is_active",
)


def _require_catalog_manager(actor):
    if not can(actor, Capability.MANAGE_CATALOG):
        raise PermissionDeniedError(_("您没有权限维护生态产品目录。"))


def _listed(codes):
    shown = "、".join(codes[:LISTED_CODES])
    if len(codes) > LISTED_CODES:
        shown += _("等 %(n)s 个") % {"n": len(codes)}
    return shown


def _walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


def _resolves(schema, ref):
    if not isinstance(ref, str) or not ref.startswith("#"):
        return False  # never fetched from elsewhere
    fragment = ref[1:]
    if not fragment.startswith("/") and fragment:  # a plain-name anchor
        return any(
            isinstance(n, dict) and fragment in (n.get("$anchor"), n.get("$dynamicAnchor"))
            for n in _walk(schema)
        )
    node = schema
    for token in fragment.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _refs_resolve_locally(schema):
    """Every $ref/$dynamicRef points at something inside the schema itself."""
    return all(
        _resolves(schema, node[key])
        for node in _walk(schema)
        if isinstance(node, dict)
        for key in ("$ref", "$dynamicRef")
        if key in node
    )


def check_attribute_schema(schema):
    """The schema as stored, or DomainError: a valid draft 2020-12 JSON Schema of an object."""
    if schema is None or schema == {}:
        return dict(EMPTY_SCHEMA)
    invalid = _("属性结构不是有效的 JSON Schema。")
    if not isinstance(schema, dict):
        raise DomainError(
            invalid, code="invalid", fields={"attribute_schema": [_("属性结构须为 JSON 对象（{…}）。")]}
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DomainError(
            invalid,
            code="invalid",
            fields={"attribute_schema": [_("不是有效的 JSON Schema：%(error)s") % {"error": exc.message}]},
        ) from None
    if schema.get("type") != "object":
        raise DomainError(
            _("属性结构须描述一个对象（type 为 object）。"),
            code="invalid",
            fields={"attribute_schema": [_("属性结构须描述一个对象（type 为 object）。")]},
        )
    if not _refs_resolve_locally(schema):
        raise DomainError(
            invalid,
            code="invalid",
            fields={"attribute_schema": [_("属性结构中的 $ref 只能指向自身内部已有的定义。")]},
        )
    return schema


def _clean(data, *, creating):
    errors, cleaned = {}, {}
    if creating:
        code = (data.get("code") or "").strip()
        if not CODE_PATTERN.match(code):
            errors["code"] = [_("编码须为 2–40 位小写字母、数字、下划线或连字符，并以字母开头。")]
        cleaned["code"] = code
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("请填写名称。")]
    elif len(name) > 50:
        errors["name"] = [_("名称不能超过 50 个字。")]
    cleaned["name"] = name
    if data.get("family") not in ResourceFamily.values:
        errors["family"] = [_("请选择类别。")]
    cleaned["family"] = data.get("family")
    unit = (data.get("unit") or "").strip()
    if not unit or len(unit) > 20:
        errors["unit"] = [_("请填写计量单位（不超过 20 个字）。")]
    cleaned["unit"] = unit
    group = (data.get("overlap_group") or "").strip()
    if group and not GROUP_PATTERN.match(group):
        errors["overlap_group"] = [
            _("空间互斥组须为小写字母、数字、下划线或连字符（不超过 30 位），或留空。")
        ]
    cleaned["overlap_group"] = group
    indicators = list(dict.fromkeys(data.get("gep_indicators") or []))
    unknown = [key for key in indicators if key not in GEP_INDICATORS]
    if unknown:
        errors["gep_indicators"] = [
            _("未知的 GEP 指标：%(keys)s。") % {"keys": "、".join(str(k) for k in unknown)}
        ]
    cleaned["gep_indicators"] = indicators
    cleaned["geometry_required"] = bool(data.get("geometry_required"))
    cleaned["is_active"] = bool(data.get("is_active", True))
    try:
        cleaned["attribute_schema"] = check_attribute_schema(data.get("attribute_schema"))
    except DomainError as exc:
        errors.update(exc.fields)
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    return cleaned


def _duplicate(exc):
    message = str(exc)
    if "_code_" in message or "(code)" in message:
        return ConflictError(_("编码已被使用。"), code="duplicate", fields={"code": [_("编码已被使用。")]})
    if "_name_" in message or "(name)" in message:
        return ConflictError(_("名称已被使用。"), code="duplicate", fields={"name": [_("名称已被使用。")]})
    return exc


@transaction.atomic
def create_resource_type(*, actor, **data):
    _require_catalog_manager(actor)
    cleaned = _clean(data, creating=True)
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"add resource type {cleaned['code']}"):
            return ResourceType.objects.create(**cleaned)
    except IntegrityError as exc:
        raise _duplicate(exc) from None


@transaction.atomic
def update_resource_type(*, actor, resource_type, **data):
    """Change a type (its code stays). Refused, naming the assets, if its assets would not fit."""
    _require_catalog_manager(actor)
    resource_type = ResourceType.objects.select_for_update().get(pk=resource_type.pk)
    current = {name: getattr(resource_type, name) for name in EDITABLE_FIELDS}
    cleaned = _clean({**current, **data}, creating=False)  # what is not given stays as it is
    assets = Asset.objects.filter(resource_type=resource_type).order_by("code")
    _check_existing_attributes(assets, cleaned["attribute_schema"])
    if cleaned["geometry_required"] and not resource_type.geometry_required:
        missing = list(assets.filter(geometry=None).values_list("code", flat=True))
        if missing:
            raise ConflictError(
                _("%(n)s 个该类型的资源没有空间范围，不能改为须有空间范围：%(codes)s")
                % {"n": len(missing), "codes": _listed(missing)},
                code="type_in_use",
                fields={"geometry_required": missing[:LISTED_CODES]},
            )
    group = cleaned["overlap_group"]
    if group and group != resource_type.overlap_group:
        _check_no_overlaps_in_group(resource_type, group)
    for name, value in cleaned.items():
        setattr(resource_type, name, value)
    try:
        with (
            transaction.atomic(),
            audit_context(user=actor, reason=f"edit resource type {resource_type.code}"),
        ):
            resource_type.save()
    except IntegrityError as exc:
        raise _duplicate(exc) from None
    return resource_type


def _check_existing_attributes(assets, schema):
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    broken = [
        code
        for code, attributes in assets.values_list("code", "attributes")
        if not validator.is_valid(attributes or {})
    ]
    if broken:
        raise ConflictError(
            _("新的属性结构与 %(n)s 个已有资源的属性不符，不能保存：%(codes)s")
            % {"n": len(broken), "codes": _listed(broken)},
            code="type_in_use",
            fields={"attribute_schema": broken[:LISTED_CODES]},
        )


def _check_no_overlaps_in_group(resource_type, group):
    """Active assets of this type against active assets already in `group` (and each other)."""
    from .services import _lock_overlap_group

    _lock_overlap_group(group)
    statuses = [str(s) for s in SPATIALLY_ACTIVE_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, b.code
              FROM resources_asset a
              JOIN resources_asset b
                ON b.id <> a.id AND ST_Intersects(a.geometry, b.geometry)
              JOIN resources_resourcetype bt ON bt.id = b.resource_type_id
             WHERE a.resource_type_id = %s
               AND a.status = ANY(%s) AND b.status = ANY(%s)
               AND (bt.overlap_group = %s OR (b.resource_type_id = a.resource_type_id AND a.id < b.id))
               AND ST_Area(ST_Transform(ST_Intersection(a.geometry, b.geometry), 4549))
                   > %s
             ORDER BY a.code, b.code
             LIMIT %s
            """,
            [resource_type.pk, statuses, statuses, group, settings.TMCS_OVERLAP_TOLERANCE_M2, LISTED_CODES],
        )
        pairs = [f"{a} × {b}" for a, b in cursor.fetchall()]
    if pairs:
        raise ConflictError(
            _("该类型的资源与空间互斥组“%(group)s”中的资源重叠，不能移入该组：%(pairs)s")
            % {"group": group, "pairs": "、".join(pairs)},
            code="overlap",
            fields={"overlap_group": pairs},
        )
