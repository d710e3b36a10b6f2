"""Bulk import of assets with their first right: validate every row, then write all or nothing.

The flow is: `start_import` stores the upload as an ImportBatch and queues `run_import` (Celery);
the task reads the file (import_readers), checks every row — required fields, codes, permission
in the row's division, geometry validity and CRS, attributes against the type's schema, holders,
shares and dates, duplicate references and certificate numbers, overlaps inside the file and with
the registry — and only when no row has an error creates the assets and rights through the same
services as the forms, in one transaction. The batch keeps the row-by-row report (in Chinese).
"""

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability, can
from directory.selectors import persons_for
from directory.services import ensure_party, ensure_party_for_person
from tmcs import crypto
from tmcs.audit import audit_context
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.ids import IdentifierError, normalize_national_id, normalize_uscc

from . import services
from .import_readers import FIELD_LABELS, FIELDS, ImportFileError, names_of, read_rows
from .models import (
    SPATIALLY_ACTIVE_STATUSES,
    Asset,
    ImportBatch,
    ImportStatus,
    ResourceType,
    Right,
    RightKind,
)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SUPPORTED_SRIDS = {4490, 4326, *range(4491, 4555)}  # CGCS2000 geographic, WGS 84, CGCS2000 GK zones
# A worker that died mid-import leaves its batch "running"; after this long another run may claim it.
STALE_RUN = timedelta(hours=1)


@dataclass
class RowPlan:
    number: int
    ref: str
    resource_type: ResourceType | None = None
    division: AdministrativeDivision | None = None
    name: str = ""
    geometry: object = None
    attributes: dict = field(default_factory=dict)
    quantity: Decimal | None = None
    grade: str = ""
    right: dict | None = None


_SERVICE_FIELD_COLUMNS = {
    "geometry": "wkt",
    "certificate_number": "cert_no",
    "share": "share",
    "period": "start",
    "source_document": "source_doc",
    "name": "name",
    "resource_type": "type",
    "quantity": "quantity",
    "attributes": "attrs",
    "holder": "holder_id",
}


class Report:
    """Row errors as the user sees them: row number, column label, message."""

    def __init__(self):
        self.errors = []

    def add(self, row, column, message):
        label = FIELD_LABELS.get(column, column)
        self.errors.append({"row": row, "column": str(label), "message": str(message)})

    def add_domain_error(self, row, exc):
        """A service's DomainError, its form field names mapped to the file's columns."""
        fields = exc.fields or {"ref": [exc.detail]}
        for name, messages in fields.items():
            column = _SERVICE_FIELD_COLUMNS.get(name.split(".")[0], "ref")
            for message in messages:
                self.add(row, column, exc.detail if name == "period" else message)

    def __bool__(self):
        return bool(self.errors)

    def sorted(self):
        return sorted(self.errors, key=lambda e: (e["row"], e["column"]))


# --- starting and running a batch -----------------------------------------------------------------


@transaction.atomic
def start_import(*, actor, upload, srid=4490):
    """Store the upload and queue its import. Only file-level problems are refused here."""
    if not can(actor, Capability.DRAFT_ASSETS):
        raise PermissionDeniedError(_("您没有导入资源的权限。"))
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(_("文件超过 50 MB。"), code="invalid", fields={"file": [_("文件超过 50 MB。")]})
    if int(srid) not in SUPPORTED_SRIDS:
        raise DomainError(_("坐标系不受支持。"), code="invalid", fields={"srid": [_("坐标系不受支持。")]})
    content = upload.read()
    membership = next(iter(actor.active_memberships), None)
    with audit_context(user=actor, reason="start import"):
        batch = ImportBatch.objects.create(
            original_name=upload.name[:200],
            file=upload,
            sha256=hashlib.sha256(content).hexdigest(),
            srid=int(srid),
            organization=membership.organization if membership else None,
            created_by=actor,
        )
    from .tasks import run_import_batch

    transaction.on_commit(lambda: run_import_batch.delay(batch.pk))
    return batch


def _claim(batch_id):
    """Move a pending (or abandoned running) batch to running; False if someone else has it."""
    stale = timezone.now() - STALE_RUN
    return bool(
        ImportBatch.objects.filter(pk=batch_id)
        .filter(Q(status=ImportStatus.PENDING) | Q(status=ImportStatus.RUNNING, started_at__lt=stale))
        .update(status=ImportStatus.RUNNING, started_at=timezone.now())
    )


def run_import(batch_id):
    """Validate and apply one batch (idempotent: a finished batch is left alone)."""
    if not _claim(batch_id):
        return ImportBatch.objects.get(pk=batch_id).status
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    try:
        return _run(batch)
    except Exception:
        # Leave no batch "running" forever; the traceback goes to the worker's log.
        message = _("导入时发生系统错误，未写入任何数据。请联系管理员。")
        _finish(batch, ImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": message}])
        raise


def _run(batch):
    with batch.file.open("rb") as handle:
        content = handle.read()
    report = Report()
    try:
        fmt, rows = read_rows(content, batch.original_name, batch.srid)
    except ImportFileError as exc:
        return _finish(
            batch, ImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": str(exc.detail)}]
        )
    batch.format, batch.row_count = fmt, len(rows)
    plans = validate_rows(batch.created_by, rows, report)
    check_overlaps(plans, report)  # also when other rows are bad: the report should be complete
    if report:
        return _finish(batch, ImportStatus.FAILED, errors=report.sorted())
    try:
        with transaction.atomic():
            count = apply_plans(batch, plans)
            return _finish(batch, ImportStatus.SUCCEEDED, asset_count=count)
    except _RowFailed as failure:  # a race since validation (e.g. a certificate number taken meanwhile)
        return _finish(batch, ImportStatus.FAILED, errors=failure.report.sorted())
    except IntegrityError:  # the same reference imported by a concurrent batch
        message = _("导入期间数据已被他人修改（如同一图斑被同时导入），请重新导入。")
        return _finish(batch, ImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": message}])


def _finish(batch, status, *, errors=(), asset_count=0):
    batch.status, batch.errors, batch.asset_count = status, list(errors), asset_count
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "errors", "asset_count", "format", "row_count", "finished_at"])
    cache.delete(progress_key(batch.pk))
    return status


def progress_key(batch_id):
    return f"tmcs:import-progress:{batch_id}"


# --- validation -----------------------------------------------------------------------------------


def validate_rows(actor, rows, report):
    """One RowPlan per row; every problem goes to the report (the plans are then not applied)."""
    types = {t.code: t for t in ResourceType.objects.all()}
    codes = {row.values.get("division", "") for row in rows}
    divisions = {d.code: d for d in AdministrativeDivision.objects.filter(code__in=codes)}
    holders = _holders(actor, rows)
    taken_refs = _taken_refs(rows)
    taken_certificates = set(
        Right.objects.filter(
            certificate_number__in=[r.values["cert_no"] for r in rows if r.values.get("cert_no")]
        ).values_list("certificate_number", flat=True)
    )
    seen_refs, seen_certificates = {}, {}
    plans = []
    for row in rows:
        values = row.values
        plan = RowPlan(number=row.number, ref=values.get("ref", ""))
        for spec in FIELDS:
            if spec.required and not values.get(spec.key):
                report.add(row.number, spec.key, _("必填项为空。"))
        _check_ref(plan, values.get("division", ""), taken_refs, seen_refs, report)
        plan.resource_type = _check_type(row, types, report)
        plan.division = _check_division(actor, row, divisions, report)
        plan.name = values.get("name", "")
        plan.grade = values.get("grade", "")
        plan.quantity = _decimal(row, "quantity", report)
        plan.attributes = _attributes(row, plan.resource_type, report)
        plan.geometry = _check_geometry(row, plan.resource_type, plan.division, report)
        plan.right = _check_right(actor, row, plan.division, holders, report)
        certificate = values.get("cert_no", "")
        if certificate:
            if certificate in taken_certificates:
                report.add(row.number, "cert_no", _("证书编号已被使用。"))
            elif certificate in seen_certificates:
                report.add(
                    row.number,
                    "cert_no",
                    _("证书编号与第 %(row)s 行重复。") % {"row": seen_certificates[certificate]},
                )
            seen_certificates.setdefault(certificate, row.number)
        plans.append(plan)
    return plans


def _taken_refs(rows):
    refs = {(r.values.get("division", ""), r.values.get("ref", "")) for r in rows if r.values.get("ref")}
    if not refs:
        return set()
    query = Q()
    for division_code, ref in refs:
        query |= Q(division__code=division_code, source_ref=ref)
    return set(Asset.objects.filter(query).values_list("division__code", "source_ref"))


def _check_ref(plan, division_code, taken, seen, report):
    if not plan.ref:
        return
    if len(plan.ref) > 60:
        report.add(plan.number, "ref", _("图斑编号过长（最多60个字符）。"))
    if (division_code, plan.ref) in taken:
        report.add(plan.number, "ref", _("该区划已有此图斑编号的资源（可能已导入过）。"))
    elif plan.ref in seen:
        report.add(plan.number, "ref", _("图斑编号与第 %(row)s 行重复。") % {"row": seen[plan.ref]})
    seen.setdefault(plan.ref, plan.number)


def _check_type(row, types, report):
    code = row.values.get("type", "")
    if not code:
        return None
    resource_type = types.get(code)
    if resource_type is None:
        report.add(row.number, "type", _("资源类型“%(code)s”不在目录中。") % {"code": code})
    elif not resource_type.is_active:
        report.add(row.number, "type", _("该资源类型已停用。"))
        return None
    return resource_type


def _check_division(actor, row, divisions, report):
    code = row.values.get("division", "")
    if not code:
        return None
    division = divisions.get(code)
    if division is None:
        report.add(row.number, "division", _("行政区划代码“%(code)s”不存在。") % {"code": code})
        return None
    if not can(actor, Capability.DRAFT_ASSETS, division=division):
        report.add(row.number, "division", _("您无权在“%(name)s”录入资源。") % {"name": division.name})
        return None
    return division


def _decimal(row, key, report):
    text = row.values.get(key, "")
    if text in ("", None):
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        report.add(row.number, key, _("应为数字。"))
        return None
    if value < 0 or not value.is_finite():
        report.add(row.number, key, _("不能为负。"))
        return None
    return value


def _attributes(row, resource_type, report):
    import json

    attributes = {}
    text = row.values.get("attrs", "")
    if text:
        try:
            attributes = json.loads(text)
        except (TypeError, ValueError):
            report.add(row.number, "attrs", _("属性JSON无法解析。"))
            return {}
        if not isinstance(attributes, dict):
            report.add(row.number, "attrs", _('属性JSON须为对象，如 {"key": 值}。'))
            return {}
    schema = (resource_type.attribute_schema if resource_type else {}) or {}
    for key, value in row.values.items():
        if key.startswith("attr_") and value not in ("", None):
            name = key[len("attr_") :]
            kind = (schema.get("properties", {}).get(name) or {}).get("type")
            attributes[name] = _typed(value, kind)
    if resource_type is not None:
        try:
            services.validate_attributes(resource_type, attributes)
        except DomainError as exc:
            for messages in exc.fields.values():
                for message in messages:
                    report.add(row.number, "attrs", message)
    return attributes


_BOOLEANS = {
    "true": True,
    "1": True,
    "是": True,
    "yes": True,
    "false": False,
    "0": False,
    "否": False,
    "no": False,
}


def _typed(value, kind):
    """attr_ columns arrive as text; give JSON Schema the number it expects when it is one."""
    if kind == "boolean":
        return _BOOLEANS.get(str(value).strip().lower(), value)
    try:
        if kind == "integer":
            return int(Decimal(str(value)))
        if kind == "number":
            return float(Decimal(str(value)))  # JSON numbers; the schema validates the range
    except (InvalidOperation, ValueError):
        return value
    return value


def _check_geometry(row, resource_type, division, report):
    if row.geometry_error:
        report.add(row.number, "wkt", row.geometry_error)
        return None
    shape = row.geometry
    if shape is None:
        if resource_type is not None and resource_type.geometry_required:
            report.add(row.number, "wkt", _("该类型的资源须有空间范围。"))
        return None
    if shape.srid not in SUPPORTED_SRIDS:
        report.add(
            row.number,
            "wkt",
            _("坐标系 EPSG:%(srid)s 不受支持，请使用 CGCS2000（4490 或 4491–4554）。") % {"srid": shape.srid},
        )
        return None
    if shape.srid not in (4326, 4490):
        shape = shape.transform(4490, clone=True)
    try:
        shape = services.parse_geometry(shape)
    except DomainError as exc:
        report.add(row.number, "wkt", exc.detail)
        return None
    if (
        division is not None
        and division.boundary is not None
        and not division.boundary.buffer(0.0001).contains(shape)
    ):
        report.add(row.number, "wkt", _("空间范围超出所在区划的边界。"))
    return shape


def _identifiers(raw):
    """Every reading of a holder identifier: an 18-digit number can be a valid USCC and a valid
    resident ID at once, so both are looked up."""
    readings = []
    for kind, normalise in (("uscc", normalize_uscc), ("national_id", normalize_national_id)):
        with contextlib.suppress(IdentifierError):
            readings.append((kind, normalise(raw)))
    return readings


def _holders(actor, rows):
    """Organizations and persons by normalised identifier, looked up in two queries."""
    usccs, id_hashes = set(), {}
    for row in rows:
        for kind, key in _identifiers(row.values.get("holder_id", "")):
            if kind == "uscc":
                usccs.add(key)
            else:
                id_hashes[crypto.lookup_hash("national_id", key)] = key
    found = {org.uscc: org for org in Organization.objects.filter(uscc__in=usccs)}
    for person in persons_for(actor).filter(national_id_hash__in=id_hashes):
        found[id_hashes[person.national_id_hash]] = person
    return found


def _check_right(actor, row, division, holders, report):
    values = row.values
    right_keys = ("holder_id", "right", "share", "start", "end", "source_doc", "cert_no")
    if not any(values.get(key) for key in right_keys):
        return None
    errors_before = len(report.errors)
    for key in ("holder_id", "right", "start", "source_doc"):
        if not values.get(key):
            report.add(row.number, key, _("登记权利时必填。"))
    holder = _holder(row, holders, report)
    kind = _right_kind(values.get("right", ""))
    if values.get("right") and kind is None:
        report.add(row.number, "right", _("权利类型“%(kind)s”无法识别。") % {"kind": values["right"]})
    start, end = _date(row, "start", report), _date(row, "end", report)
    share = None
    try:
        share = services.parse_share(values.get("share") or "1")
    except DomainError as exc:
        report.add(row.number, "share", exc.detail)
    if start and end:
        try:
            services.parse_period(start, end)
        except DomainError as exc:
            report.add(row.number, "end", exc.detail)
    if division is not None and not can(actor, Capability.MANAGE_REGISTRY, division=division):
        report.add(row.number, "right", _("您无权在该区划登记权利。"))
    if len(report.errors) > errors_before:
        return None
    return {
        "holder": holder,
        "kind": kind,
        "share": share,
        "start": start,
        "end": end,
        "source_document": values["source_doc"],
        "certificate_number": values.get("cert_no") or None,
    }


def _holder(row, holders, report):
    raw = row.values.get("holder_id", "")
    if not raw:
        return None
    readings = _identifiers(raw)
    if not readings:
        report.add(row.number, "holder_id", _("证件号既不是有效的统一社会信用代码，也不是有效的身份证号。"))
        return None
    for _kind, key in readings:
        if key in holders:
            return holders[key]
    report.add(
        row.number, "holder_id", _("权利人未在主体名录中登记（%(id)s）。") % {"id": _mask(readings[0][1])}
    )
    return None


def _mask(identifier):
    return identifier[:4] + "*" * (len(identifier) - 8) + identifier[-4:]


def _right_kind(text):
    for kind in RightKind:
        if text == kind.value or text in names_of(kind.label):
            return kind
    return None


def _date(row, key, report):
    value = row.values.get(key, "")
    if not value:
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(str(value).replace("/", "-"))
    except ValueError:
        parsed = None
    if parsed is None:
        report.add(row.number, key, _("日期格式应为 YYYY-MM-DD。"))
    return parsed


# --- overlaps -------------------------------------------------------------------------------------


def check_overlaps(plans, report):
    """Overlaps beyond the tolerance between rows of one overlap group, and with assets already in
    the registry (not drafts), computed by PostGIS in EPSG:4549 over a temporary indexed table."""
    shaped = [
        p for p in plans if p.geometry is not None and p.resource_type and p.resource_type.overlap_group
    ]
    if not shaped:
        return
    tolerance = Decimal(str(settings.TMCS_OVERLAP_TOLERANCE_M2))
    with transaction.atomic(), connection.cursor() as cursor:
        # ON COMMIT DROP covers the normal case; inside an outer transaction (tests, callers that
        # batch work) the table would outlive this call, so drop any leftover first.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_rows")
        cursor.execute(
            "CREATE TEMP TABLE import_rows (row_no int, grp text, geom geometry(MultiPolygon, 4490))"
            " ON COMMIT DROP"
        )
        with cursor.copy("COPY import_rows (row_no, grp, geom) FROM STDIN") as copy:
            for plan in shaped:
                copy.write_row(
                    (plan.number, plan.resource_type.overlap_group, plan.geometry.hexewkb.decode())
                )
        cursor.execute("CREATE INDEX ON import_rows USING gist (geom); ANALYZE import_rows")
        cursor.execute(
            """SELECT a.row_no, b.row_no, round(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4549))::numeric, 2)
               FROM import_rows a JOIN import_rows b
                 ON a.grp = b.grp AND a.row_no < b.row_no AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
               ORDER BY 1, 2"""
        )
        for first, second, area in cursor.fetchall():
            if area > tolerance:
                report.add(
                    second,
                    "wkt",
                    _("与第 %(row)s 行重叠 %(area)s m²。") % {"row": first, "area": area},
                )
        cursor.execute(
            """SELECT r.row_no, a.code, round(ST_Area(ST_Transform(ST_Intersection(r.geom, a.geometry), 4549))::numeric, 2)
               FROM import_rows r
               JOIN resources_asset a ON a.geometry && r.geom AND ST_Intersects(a.geometry, r.geom)
               JOIN resources_resourcetype t ON t.id = a.resource_type_id AND t.overlap_group = r.grp
               WHERE a.status = ANY(%s)
               ORDER BY 1, 2""",
            [[str(s) for s in SPATIALLY_ACTIVE_STATUSES]],
        )
        for row_no, code, area in cursor.fetchall():
            if area > tolerance:
                report.add(
                    row_no,
                    "wkt",
                    _("与已登记资源 %(code)s 重叠 %(area)s m²。") % {"code": code, "area": area},
                )


# --- writing --------------------------------------------------------------------------------------


class _RowFailed(Exception):
    def __init__(self, report):
        self.report = report


def apply_plans(batch, plans):
    """Create every asset (draft) and its right through the services; any failure undoes all."""
    actor = batch.created_by
    for done, plan in enumerate(plans, start=1):
        try:
            asset = services.create_asset(
                actor=actor,
                resource_type=plan.resource_type,
                division=plan.division,
                name=plan.name,
                geometry=plan.geometry,
                attributes=plan.attributes,
                quantity=plan.quantity,
                quality_grade=plan.grade,
            )
            with audit_context(user=actor, reason=f"import batch {batch.pk}"):
                Asset.objects.filter(pk=asset.pk).update(source_ref=plan.ref, import_batch=batch)
            if plan.right:
                right = dict(plan.right)
                holder = right.pop("holder")
                party = (
                    ensure_party(holder)
                    if isinstance(holder, Organization)
                    else ensure_party_for_person(holder)
                )
                services.grant_right(actor=actor, asset=asset, holder=party, **right)
        except DomainError as exc:
            report = Report()
            report.add_domain_error(plan.number, exc)
            raise _RowFailed(report) from None
        if done % 200 == 0:
            cache.set(progress_key(batch.pk), done, 3600)
    return len(plans)
