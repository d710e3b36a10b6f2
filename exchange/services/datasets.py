"""Export and import of the departments' datasets (exchange.datasets), every exchange logged.

Export: the rows within the division (which must be within the actor's EXCHANGE_DATA reach), in
CSV, XLSX, GeoJSON or JSON; the log is written in the same transaction. Holders' full ID numbers,
where the exporting user may see them, are recorded in the personal-data access log.

Import, all or nothing:
1. read the whole file (FileError → REJECTED with a file-level error: unreadable, wrong encoding,
   not XLSX, invalid JSON/GeoJSON, missing required columns, more than 20 MB or 50,000 rows);
2. type every cell and check required cells; duplicate natural keys in the file are errors;
3. inside one transaction, under an advisory lock per dataset (two imports of a dataset never
   interleave, and what is validated is what is written to), validate every row against the
   database (references, reach, the owning app's rules);
4. only when no row has an error, apply in the same transaction: a row whose normalised content
   digest equals the one ExchangeRecord keeps for its key is `unchanged` and nothing is written;
   otherwise the dataset's `apply` writes through the owning app's services. A service refusing a row (an
   overlap, a share above 1, a pledged right) rejects the whole file: everything is rolled back.
   The log of a successful import is written inside that transaction (its ExchangeRecords point
   at it), the log of a refused or dry-run file after the rollback — a refused file always
   leaves its log and its row errors.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from directory.models import AccessChannel, Organization, Person, PersonalDataAccess
from directory.permissions import Capability, can
from tmcs import crypto
from tmcs.errors import DomainError, PermissionDeniedError

from ..datasets import formats, get_spec
from ..datasets.base import CREATED, UPDATED, ImportContext, RowErrors, digest_of, parse_cell
from ..models import Channel, Direction, ExchangeFormat, ExchangeRecord, ExchangeStatus
from .logs import record_exchange, sha256_of

ID_NUMBER = re.compile(r"(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")
MAX_ROWS = formats.MAX_ROWS
MAX_BYTES = formats.MAX_BYTES
MAX_KEY_LENGTH = 120  # ExchangeRecord.natural_key
MAX_APPLY_ERRORS = 200  # a file refused while applying reports this many rows at most


# --- permissions and parameters -------------------------------------------------------------------


def require_exchange(actor, division, spec=None):
    """EXCHANGE_DATA in the division; to import, also the capability the dataset's owning services
    require (registry writes need MANAGE_REGISTRY, GEP inputs MANAGE_VALUATION_INPUTS…)."""
    if not can(actor, Capability.EXCHANGE_DATA, division=division):
        raise PermissionDeniedError(_("您没有在该区划交换数据的权限。"))
    if spec is not None and not can(actor, spec.import_capability, division=division):
        raise PermissionDeniedError(
            _("导入“%(dataset)s”会写入登记、核算或名录数据，须由有相应权限的合作社工作人员办理。")
            % {"dataset": spec.label}
        )


def _check_format(spec, fmt):
    if fmt not in spec.formats:
        message = _("“%(dataset)s”支持的格式：%(formats)s。") % {
            "dataset": spec.label,
            "formats": "、".join(str(label) for label in spec.format_labels),
        }
        raise DomainError(message, code="invalid", fields={"format": [message]})
    return ExchangeFormat(fmt)


def _check_channel(channel):
    if channel not in Channel.values:
        raise DomainError(_("未知的渠道。"), code="invalid", fields={"channel": [_("未知的渠道。")]})
    return Channel(channel)


def _check_organization(organization):
    if organization is not None and not isinstance(organization, Organization):
        raise DomainError(_("对方单位无效。"), code="invalid", fields={"organization": [_("对方单位无效。")]})
    return organization


def clean_filters(spec, filters):
    """The export filters the dataset supports, typed: `updated_since` (a date, not after today)
    and `year` (1990 to this year). Unknown or empty ones are refused or dropped."""
    cleaned, errors = {}, {}
    for name, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if name not in spec.filters:
            errors[name] = [_("该数据集不支持此筛选条件。")]
        elif name == "updated_since":
            day = value if isinstance(value, date) else parse_date(str(value))
            if day is None or day > timezone.localdate():
                errors[name] = [_("应为不晚于今天的日期（YYYY-MM-DD）。")]
            else:
                cleaned[name] = day
        elif name == "year":
            text = str(value).strip()
            this_year = timezone.localdate().year
            if not text.isdigit() or not 1990 <= int(text) <= this_year:
                errors[name] = [_("年份须在 1990 至 %(year)s 之间。") % {"year": this_year}]
            else:
                cleaned[name] = int(text)
    if errors:
        raise DomainError(_("筛选条件有误。"), code="invalid", fields=errors)
    return cleaned


def _jsonable(filters):
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items()}


# --- export ---------------------------------------------------------------------------------------


def _rows(spec, actor, division, filters):
    """The rows to export and the persons whose full ID numbers they carry."""
    rows, revealed = [], {}
    for row in spec.export_rows(actor, division, filters):
        persons = row.pop("_revealed", None)
        if persons is not None:
            revealed[id(persons)] = persons
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise DomainError(
                _("导出超过 %(max)s 行，请选择较小的区划或加筛选条件。") % {"max": MAX_ROWS},
                code="too_many_rows",
            )
    return rows, set().union(*revealed.values())


def _log_reveals(actor, persons, log, channel):
    """Full ID numbers sent to a department are views of personal data: one access record each."""
    if not persons:
        return
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(
            viewer=actor,
            person_id=pk,
            fields="national_id",
            purpose=(_("数据交换导出 %(number)s") % {"number": log.number})[:200],
            channel=AccessChannel.API if channel == Channel.API else AccessChannel.WEB,
        )
        for pk in sorted(persons)
    )


@transaction.atomic
def export_dataset(*, actor, dataset, fmt, division, channel, organization=None, filters=None):
    """(bytes, content type, file name, ExchangeLog) of the dataset's rows in `division`."""
    spec = get_spec(dataset)
    require_exchange(actor, division)
    fmt = _check_format(spec, fmt)
    channel = _check_channel(channel)
    organization = _check_organization(organization)
    filters = clean_filters(spec, filters)
    started = timezone.now()
    rows, revealed = _rows(spec, actor, division, filters)
    content, content_type, file_name = formats.render(spec, rows, fmt, division_code=division.code)
    log = record_exchange(
        actor=actor,
        direction=Direction.EXPORT,
        dataset=spec.key,
        fmt=fmt,
        channel=channel,
        division=division,
        started_at=started,
        organization=organization,
        file_name=file_name,
        content=content,
        rows_total=len(rows),
        parameters={"filters": _jsonable(filters)},
    )
    _log_reveals(actor, revealed, log, channel)
    return content, content_type, file_name, log


@transaction.atomic
def export_page(*, actor, dataset, division, channel, organization=None, filters=None, page=1, page_size=100):
    """One page of rows as JSON-ready dicts (the API's JSON export): (rows, total count, log).
    Each page is an exchange of its own and is logged with its page number."""
    spec = get_spec(dataset)
    require_exchange(actor, division)
    channel = _check_channel(channel)
    organization = _check_organization(organization)
    filters = clean_filters(spec, filters)
    started = timezone.now()
    rows, revealed_all = _rows(spec, actor, division, filters)
    start = (page - 1) * page_size
    shown = rows[start : start + page_size]
    payload = formats.json_rows(spec, shown)
    revealed = _revealed_on_page(spec, shown, revealed_all)
    log = record_exchange(
        actor=actor,
        direction=Direction.EXPORT,
        dataset=spec.key,
        fmt=ExchangeFormat.JSON,
        channel=channel,
        division=division,
        started_at=started,
        organization=organization,
        content=json.dumps(payload, ensure_ascii=False),
        rows_total=len(shown),
        parameters={"filters": _jsonable(filters), "page": page, "page_size": page_size, "count": len(rows)},
    )
    _log_reveals(actor, revealed, log, channel)
    return payload, len(rows), log


def _revealed_on_page(spec, rows, revealed):
    """The persons of `revealed` whose full ID numbers appear on this page."""
    if not revealed:
        return set()
    text = json.dumps(formats.json_rows(spec, rows), ensure_ascii=False)
    hashes = {crypto.lookup_hash("national_id", number) for number in ID_NUMBER.findall(text)}
    return set(
        Person.objects.filter(pk__in=revealed, national_id_hash__in=hashes).values_list("pk", flat=True)
    )


# --- import ---------------------------------------------------------------------------------------


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    records: list = field(default_factory=list)  # (row, object, stored ExchangeRecord or None)


class _Refused(Exception):
    """Raised inside the import's transaction to roll it back."""


def _type_rows(spec, rows, errors):
    for row in rows:
        for column in spec.import_columns:
            value, problem = parse_cell(column, row.values.get(column.key))
            row.data[column.key] = value
            if problem:
                errors.add(row.number, column.key, problem)
                row.ok = False
            elif column.required and value is None:
                errors.add(row.number, column.key, _("必填项为空。"))
                row.ok = False
        if row.ok:
            row.key = spec.natural_key(row.data)
            row.digest = digest_of(spec, row.data)
            if len(row.key) > MAX_KEY_LENGTH:
                errors.add(row.number, spec.key_columns[0], _("业务主键过长（最多 120 个字符）。"))
                row.ok = False


def _check_duplicates(spec, rows, errors):
    seen = {}
    for row in rows:
        if not row.ok or not row.key:
            continue
        if row.key in seen:
            errors.add(
                row.number,
                spec.key_columns[0],
                _("业务主键与第 %(row)s 行重复：同一文件中每个主键只能出现一次。") % {"row": seen[row.key]},
            )
            row.ok = False
        else:
            seen[row.key] = row.number


def _add_service_error(spec, errors, number, exc):
    """A service's refusal of a row, reported in the file's column its field maps to."""
    placed = False
    for name, messages in (exc.fields or {}).items():
        field_name = name.split(".")[0]
        key = spec.service_fields.get(field_name, field_name)
        if spec.column(key) is None:
            continue
        for message in messages if isinstance(messages, list) else [messages]:
            message = str(message)
            detail = str(exc.detail)
            errors.add(number, key, message if message == detail else f"{detail}（{message}）")
            placed = True
    if not placed:
        errors.add(number, "", exc.detail)


def _lock(spec):
    # One import of a dataset at a time, platform-wide: a county's and a village's imports of the
    # same dataset would otherwise interleave over the same keys.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tmcs-exchange-import:{spec.key}"])


def _validate(spec, rows, context, errors):
    if rows and spec.prepare is not None:
        spec.prepare(rows, context)
    for row in rows:
        for key, message in spec.validate(row, context):
            errors.add(row.number, key, message)


def _apply_rows(spec, rows, context, errors):
    counts = _Counts()
    stored = {
        r.natural_key: r
        for r in ExchangeRecord.objects.select_for_update().filter(
            dataset=spec.key, natural_key__in=[row.key for row in rows]
        )
    }
    for row in rows:
        record = stored.get(row.key)
        if record is not None and record.digest == row.digest:
            counts.unchanged += 1
            continue
        try:
            with transaction.atomic():
                outcome, obj = spec.apply(row, context)
        except DomainError as exc:
            _add_service_error(spec, errors, row.number, exc)
            if len(errors.rows) >= MAX_APPLY_ERRORS:
                break
            continue
        if outcome == CREATED:
            counts.created += 1
        elif outcome == UPDATED:
            counts.updated += 1
        else:
            counts.unchanged += 1
        counts.records.append((row, obj, record))
    return counts


def _keep_records(spec, counts, log):
    new, changed = [], []
    for row, obj, record in counts.records:
        object_id = getattr(obj, "pk", None) or 0
        if record is None:
            new.append(
                ExchangeRecord(
                    dataset=spec.key,
                    natural_key=row.key,
                    digest=row.digest,
                    object_id=object_id,
                    last_log=log,
                )
            )
        else:
            record.digest, record.object_id, record.last_log = row.digest, object_id, log
            changed.append(record)
    ExchangeRecord.objects.bulk_create(new, batch_size=1000)
    ExchangeRecord.objects.bulk_update(
        changed, ["digest", "object_id", "last_log", "updated_at"], batch_size=1000
    )


def import_dataset(
    *, actor, dataset, fmt, division, channel, content, file_name, organization=None, dry_run=False
):
    """Import a file into the dataset's records (see the module's docstring); returns its
    ExchangeLog: SUCCEEDED with the counts, or REJECTED with the row errors and nothing written.
    `dry_run` validates and applies inside a transaction that is rolled back, and logs the counts
    the import would have (parameters.dry_run = true)."""
    spec = get_spec(dataset)
    require_exchange(actor, division, spec)
    fmt = _check_format(spec, fmt)
    channel = _check_channel(channel)
    organization = _check_organization(organization)
    if isinstance(content, str):
        content = content.encode("utf-8")
    started = timezone.now()
    sha = sha256_of(content)
    errors = RowErrors(spec)
    context = ImportContext(
        actor=actor,
        division=division,
        spec=spec,
        channel=channel,
        dry_run=dry_run,
        reason=f"data exchange import {spec.key}: {(file_name or '')[:60]} ({sha[:12]})",
    )
    rows, ignored, counts = [], [], _Counts()
    log_arguments = {
        "actor": actor,
        "direction": Direction.IMPORT,
        "dataset": spec.key,
        "fmt": fmt,
        "channel": channel,
        "division": division,
        "started_at": started,
        "organization": organization,
        "file_name": file_name,
        "content": content,
    }
    try:
        rows, ignored = formats.read(spec, fmt, content)
        _type_rows(spec, rows, errors)
        _check_duplicates(spec, rows, errors)
        with transaction.atomic():
            # validation and writing see one state: the dataset's lock is taken before either
            _lock(spec)
            _validate(spec, [row for row in rows if row.ok], context, errors)
            if errors:
                raise _Refused
            counts = _apply_rows(spec, rows, context, errors)
            if errors:
                raise _Refused
            if dry_run:
                transaction.set_rollback(True)
            else:
                log = record_exchange(
                    **log_arguments,
                    rows_total=len(rows),
                    rows_created=counts.created,
                    rows_updated=counts.updated,
                    rows_unchanged=counts.unchanged,
                    parameters=_import_parameters(fmt, dry_run, ignored),
                )
                _keep_records(spec, counts, log)
                return log
    except formats.FileError as exc:
        errors.add(0, "", exc.detail)
    except _Refused:
        counts = _Counts()
    except Exception:
        record_exchange(
            **log_arguments,
            status=ExchangeStatus.FAILED,
            rows_total=len(rows),
            errors=[
                {"row": 0, "column": "", "key": "", "message": _("系统错误，文件未导入，请联系管理员。")}
            ],
            parameters=_import_parameters(fmt, dry_run, ignored),
        )
        raise
    return record_exchange(
        **log_arguments,
        status=ExchangeStatus.REJECTED if errors else ExchangeStatus.SUCCEEDED,
        rows_total=len(rows),
        rows_created=0 if errors else counts.created,
        rows_updated=0 if errors else counts.updated,
        rows_unchanged=0 if errors else counts.unchanged,
        rows_rejected=len(errors.rows),
        errors=errors.sorted(),
        parameters=_import_parameters(fmt, dry_run, ignored),
    )


def _import_parameters(fmt, dry_run, ignored):
    parameters = {"dry_run": bool(dry_run), "format": str(fmt)}
    if ignored:
        parameters["ignored_columns"] = ignored[:50]
    return parameters
