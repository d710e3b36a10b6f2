"""Every write to the directory goes through these functions (one transaction each)."""

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tmcs.audit import audit_context
from tmcs.errors import DomainError

from .models import LEVEL_ORDER, LEVEL_PREFIX_LENGTH, AdministrativeDivision, ApiToken, DivisionLevel

# --- administrative divisions -------------------------------------------------------------


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class DivisionImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class DivisionImportError(DomainError):
    code = "division_import_failed"

    def __init__(self, errors):
        self.errors = errors
        lines = "；".join(f"第{e.line}行：{e.message}" for e in errors[:20])
        super().__init__(_("导入失败，未写入任何数据。") + lines, fields={"rows": [vars(e) for e in errors]})


def normalize_division_code(raw, level):
    """6-, 9- or 12-digit code → the 12-digit statistical code, checked against the level."""
    code = (raw or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise ValueError(_("区划代码应为6、9或12位数字：%(code)s") % {"code": raw})
    code = code.ljust(12, "0")
    significant = LEVEL_PREFIX_LENGTH[level]
    index = LEVEL_ORDER.index(level)
    own_digits = code[LEVEL_PREFIX_LENGTH[LEVEL_ORDER[index - 1]] if index else 0 : significant]
    # Digits below the level must be zero (331100 is a city, not a county); the digits that
    # name this level must not all be zero (331100 cannot be a county).
    if set(code[significant:]) - {"0"} or set(own_digits) == {"0"}:
        raise ValueError(_("代码 %(code)s 与级别“%(level)s”不符。") % {"code": raw, "level": level.label})
    return code


def _parse_level(raw):
    try:
        return DivisionLevel((raw or "").strip().lower())
    except ValueError:
        raise ValueError(_("未知级别：%(level)s") % {"level": raw}) from None


@transaction.atomic
def import_divisions_csv(*, text, user=None):
    """Import divisions from CSV with columns code,name,level,parent_code.

    All-or-nothing: every row is checked first (codes, levels, parents in the file or database,
    code prefixes matching the parent), and nothing is written if any row is wrong.
    Existing codes are updated in place (name, level, parent), so re-importing is idempotent.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    required = {"code", "name", "level", "parent_code"}
    if not reader.fieldnames or not required <= {f.strip() for f in reader.fieldnames}:
        raise DivisionImportError([RowError(1, _("表头应包含 code,name,level,parent_code"))])

    rows, errors, seen = [], [], {}
    for line, row in enumerate(reader, start=2):
        try:
            level = _parse_level(row.get("level"))
            code = normalize_division_code(row.get("code"), level)
            name = (row.get("name") or "").strip()
            if not name:
                raise ValueError(_("名称不能为空。"))
            parent_raw = (row.get("parent_code") or "").strip()
            parent_code = parent_raw.ljust(12, "0") if parent_raw else None
            if code in seen:
                raise ValueError(_("代码 %(code)s 与第%(line)s行重复。") % {"code": code, "line": seen[code]})
            seen[code] = line
            rows.append((line, code, name, level, parent_code))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))

    known = {
        d.code: d
        for d in AdministrativeDivision.objects.select_for_update().filter(
            code__in=[r[1] for r in rows] + [r[4] for r in rows if r[4]]
        )
    }
    file_levels = {code: level for _line, code, _name, level, _parent in rows}
    for line, code, _name, level, parent_code in rows:
        if level == DivisionLevel.PROVINCE:
            if parent_code:
                errors.append(RowError(line, _("省级区划不应有上级。")))
            continue
        if not parent_code:
            errors.append(RowError(line, _("缺少上级区划代码。")))
            continue
        parent_level = file_levels.get(parent_code) or (
            known[parent_code].level if parent_code in known else None
        )
        if parent_level is None:
            errors.append(RowError(line, _("上级区划 %(code)s 不存在。") % {"code": parent_code}))
            continue
        if LEVEL_ORDER.index(parent_level) >= LEVEL_ORDER.index(level):
            errors.append(RowError(line, _("上级区划的级别必须高于本级。")))
            continue
        if not code.startswith(parent_code[: LEVEL_PREFIX_LENGTH[DivisionLevel(parent_level)]]):
            errors.append(
                RowError(
                    line,
                    _("代码 %(code)s 不属于上级区划 %(parent)s。") % {"code": code, "parent": parent_code},
                )
            )
    if errors:
        transaction.set_rollback(True)
        raise DivisionImportError(sorted(errors, key=lambda e: e.line))

    result = DivisionImportResult()
    with audit_context(user=user, reason="import divisions"):
        # Parents first: sort by level so every parent exists before its children.
        for _line, code, name, level, parent_code in sorted(rows, key=lambda r: LEVEL_ORDER.index(r[3])):
            parent = known.get(parent_code) if parent_code else None
            division = known.get(code)
            if division is None:
                known[code] = AdministrativeDivision.objects.create(
                    code=code, name=name, level=level, parent=parent
                )
                result.created += 1
            elif (division.name, division.level, division.parent_id) != (name, level, parent and parent.pk):
                division.name, division.level, division.parent = name, level, parent
                division.save(update_fields=["name", "level", "parent"])
                result.updated += 1
            else:
                result.unchanged += 1
    return result


# --- API tokens ---------------------------------------------------------------------------

TOKEN_BYTES = 32


def hash_token(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def issue_api_token(*, user, name, expires_at=None, issued_by=None):
    """Create a token and return (token, raw_secret). The secret is never stored or shown again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            _("过期时间必须晚于当前时间。"), fields={"expires_at": [_("过期时间必须晚于当前时间。")]}
        )
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    with audit_context(user=issued_by or user, reason="issue API token"):
        token = ApiToken.objects.create(
            user=user, name=name.strip(), prefix=raw[:8], digest=hash_token(raw), expires_at=expires_at
        )
    return token, raw


@transaction.atomic
def revoke_api_token(*, token, revoked_by):
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        with audit_context(user=revoked_by, reason="revoke API token"):
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token
