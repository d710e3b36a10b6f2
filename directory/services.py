"""Every write to the directory goes through these functions (one transaction each)."""

import csv
import datetime
import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from tmcs import crypto
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from tmcs.ids import (
    IdentifierError,
    mask_national_id,
    mask_phone,
    normalize_national_id,
    normalize_phone,
    normalize_uscc,
)

from .models import (
    LEVEL_ORDER,
    LEVEL_PREFIX_LENGTH,
    AccessChannel,
    AdministrativeDivision,
    ApiToken,
    DivisionLevel,
    Gender,
    Membership,
    Notification,
    Organization,
    OrganizationKind,
    Party,
    PartyKind,
    Person,
    PersonAccessGrant,
    PersonalDataAccess,
    Role,
    User,
)
from .permissions import ROLE_CAPABILITIES, Capability, can, can_manage_organization_kind


def _require(user, capability, **target):
    if not can(user, capability, **target):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


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


# Whose systems may call the API, and with which officer role their service account acts: banks
# (collateral and loans), guarantors (credit reports), departments (data exchange).
API_CLIENT_ROLES = {
    OrganizationKind.BANK: Role.BANK_OFFICER,
    OrganizationKind.GUARANTOR: Role.GUARANTOR_OFFICER,
    OrganizationKind.GOVERNMENT: Role.DEPARTMENT_OFFICER,
}


@transaction.atomic
def issue_api_client(*, organization, name, expires_at=None, issued_by):
    """An API client of an organization (a bank's system): a service account acting for the
    organization with its officer role, and a token for it. Returns (token, raw_secret)."""
    _require(issued_by, Capability.MANAGE_API_CLIENTS, organization=organization)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写接口客户端名称。"), fields={"name": [_("请填写接口客户端名称。")]})
    role = API_CLIENT_ROLES.get(organization.kind)
    if role is None:
        raise DomainError(_("只有银行、担保机构和政府部门可以开通接口客户端。"))
    with audit_context(user=issued_by, reason="issue API client"):
        service_user = User.objects.create(
            username=f"api-{organization.pk}-{secrets.token_hex(4)}",
            display_name=f"{organization.name} · {name}",
            is_service_account=True,
        )
        service_user.set_unusable_password()
        service_user.save(update_fields=["password"])
        _add_membership(user=service_user, organization=organization, role=role)
        token, raw = issue_api_token(user=service_user, name=name, expires_at=expires_at, issued_by=issued_by)
        token.organization = organization
        token.created_by = issued_by
        token.save(update_fields=["organization", "created_by"])
    return token, raw


@transaction.atomic
def revoke_api_client(*, token, revoked_by):
    if token.organization is None or not can(
        revoked_by, Capability.MANAGE_API_CLIENTS, organization=token.organization
    ):
        raise PermissionDeniedError(_("您没有权限撤销此接口客户端。"))
    token = revoke_api_token(token=token, revoked_by=revoked_by)
    if token.user.is_service_account and token.user.is_active:
        with audit_context(user=revoked_by, reason="revoke API client"):
            User.objects.filter(pk=token.user_id).update(is_active=False)
    return token


# --- organizations --------------------------------------------------------------------------

ORGANIZATION_FIELDS = (
    "name",
    "kind",
    "division",
    "uscc",
    "contact_name",
    "contact_phone",
    "address",
    "is_active",
)


def _clean_organization(data):
    errors = {}
    cleaned = dict(data)
    cleaned["name"] = (data.get("name") or "").strip()
    if not cleaned["name"]:
        errors["name"] = [_("请填写机构名称。")]
    if data.get("kind") not in OrganizationKind.values:
        errors["kind"] = [_("请选择机构类型。")]
    if not isinstance(data.get("division"), AdministrativeDivision):
        errors["division"] = [_("请选择所在区划。")]
    uscc = (data.get("uscc") or "").strip()
    cleaned["uscc"] = None
    if uscc:
        try:
            cleaned["uscc"] = normalize_uscc(uscc)
        except IdentifierError as exc:
            errors["uscc"] = [str(exc)]
    phone = (data.get("contact_phone") or "").strip()
    cleaned["contact_phone"] = None
    if phone:
        try:
            cleaned["contact_phone"] = normalize_phone(phone)
        except IdentifierError as exc:
            errors["contact_phone"] = [str(exc)]
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    return cleaned


def _apply_organization(organization, cleaned, *, keep_phone_if_blank):
    organization.name, organization.kind = cleaned["name"], cleaned["kind"]
    organization.division, organization.uscc = cleaned["division"], cleaned["uscc"]
    organization.contact_name = (cleaned.get("contact_name") or "").strip()
    organization.address = (cleaned.get("address") or "").strip()
    if "is_active" in cleaned:
        organization.is_active = bool(cleaned["is_active"])
    phone = cleaned.get("contact_phone")
    if phone:
        organization.contact_phone_ciphertext = crypto.encrypt(phone)
        organization.contact_phone_masked = mask_phone(phone)
    elif not keep_phone_if_blank:
        organization.contact_phone_ciphertext = organization.contact_phone_masked = ""


def _save_organization(organization):
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError as exc:
        message = str(exc)
        if "uscc" in message:
            raise ConflictError(
                _("统一社会信用代码已被其他机构使用。"),
                code="duplicate",
                fields={"uscc": [_("统一社会信用代码已被其他机构使用。")]},
            ) from None
        if "organization_name_unique_in_division" in message:
            raise ConflictError(
                _("同一区划内已有同名机构。"),
                code="duplicate",
                fields={"name": [_("同一区划内已有同名机构。")]},
            ) from None
        raise


@transaction.atomic
def create_organization(*, actor, **data):
    cleaned = _clean_organization(data)
    _require(actor, Capability.MANAGE_ORGANIZATIONS, division=cleaned["division"])
    if not can_manage_organization_kind(actor, cleaned["kind"]):
        raise PermissionDeniedError(_("只有市级合作社管理员可以登记该类型的机构。"))
    organization = Organization()
    _apply_organization(organization, cleaned, keep_phone_if_blank=False)
    with audit_context(user=actor, reason="create organization"):
        _save_organization(organization)
        Party.objects.create(kind=PartyKind.ORGANIZATION, organization=organization)
    return organization


@transaction.atomic
def update_organization(*, actor, organization, **data):
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    _require(actor, Capability.MANAGE_ORGANIZATIONS, division=organization.division)
    cleaned = _clean_organization({**_organization_values(organization), **data})
    _require(actor, Capability.MANAGE_ORGANIZATIONS, division=cleaned["division"])
    if not (
        can_manage_organization_kind(actor, organization.kind)
        and can_manage_organization_kind(actor, cleaned["kind"])
    ):
        raise PermissionDeniedError(_("只有市级合作社管理员可以修改该类型的机构。"))
    _apply_organization(organization, cleaned, keep_phone_if_blank="contact_phone" not in data)
    with audit_context(user=actor, reason="update organization"):
        _save_organization(organization)
    return organization


def _organization_values(organization):
    return {
        "name": organization.name,
        "kind": organization.kind,
        "division": organization.division,
        "uscc": organization.uscc or "",
        "contact_name": organization.contact_name,
        "address": organization.address,
        "is_active": organization.is_active,
    }


def ensure_party(organization):
    return Party.objects.get_or_create(kind=PartyKind.ORGANIZATION, organization=organization)[0]


def ensure_party_for_person(person):
    return Party.objects.get_or_create(kind=PartyKind.PERSON, person=person)[0]


# --- persons --------------------------------------------------------------------------------


def _clean_person(data, *, require_id):
    errors, cleaned = {}, {}
    cleaned["name"] = (data.get("name") or "").strip()
    if not cleaned["name"]:
        errors["name"] = [_("请填写姓名。")]
    if not isinstance(data.get("division"), AdministrativeDivision):
        errors["division"] = [_("请选择所在区划。")]
    cleaned["division"] = data.get("division")
    cleaned["address"] = (data.get("address") or "").strip()
    national_id = (data.get("national_id") or "").strip()
    cleaned["national_id"] = None
    if national_id:
        try:
            cleaned["national_id"] = normalize_national_id(national_id)
        except IdentifierError as exc:
            errors["national_id"] = [str(exc)]
    elif require_id:
        errors["national_id"] = [_("请填写身份证号码。")]
    phone = (data.get("phone") or "").strip()
    cleaned["phone"] = None
    if phone:
        try:
            cleaned["phone"] = normalize_phone(phone)
        except IdentifierError as exc:
            errors["phone"] = [str(exc)]
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    return cleaned


def _apply_person(person, cleaned):
    person.name, person.division, person.address = cleaned["name"], cleaned["division"], cleaned["address"]
    number = cleaned.get("national_id")
    if number:
        person.national_id_ciphertext = crypto.encrypt(number)
        person.national_id_hash = crypto.lookup_hash("national_id", number)
        person.national_id_masked = mask_national_id(number)
        person.birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        person.gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    phone = cleaned.get("phone")
    if phone:
        person.phone_ciphertext = crypto.encrypt(phone)
        person.phone_hash = crypto.lookup_hash("phone", phone)
        person.phone_masked = mask_phone(phone)


def _save_person(person):
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        if "national_id_hash" in str(exc):
            message = _("该身份证号码已登记。")
            raise ConflictError(message, code="duplicate", fields={"national_id": [message]}) from None
        raise


@transaction.atomic
def create_person(*, actor, **data):
    cleaned = _clean_person(data, require_id=True)
    _require(actor, Capability.MANAGE_PERSONS, division=cleaned["division"])
    person = Person()
    _apply_person(person, cleaned)
    with audit_context(user=actor, reason="create person"):
        _save_person(person)
        Party.objects.create(kind=PartyKind.PERSON, person=person)
    return person


@transaction.atomic
def update_person(*, actor, person, **data):
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require(actor, Capability.MANAGE_PERSONS, division=person.division)
    values = {"name": person.name, "division": person.division, "address": person.address, **data}
    cleaned = _clean_person(values, require_id=False)
    _require(actor, Capability.MANAGE_PERSONS, division=cleaned["division"])
    _apply_person(person, cleaned)
    with audit_context(user=actor, reason="update person"):
        _save_person(person)
    return person


def find_person_by_national_id(*, actor, national_id):
    """Exact lookup through the keyed hash, limited to persons the actor may see."""
    from .selectors import persons_for

    number = normalize_national_id(national_id)
    return persons_for(actor).filter(national_id_hash=crypto.lookup_hash("national_id", number)).first()


def can_view_full_identifiers(user, person):
    if can(user, Capability.VIEW_FULL_IDENTIFIERS, division=person.division):
        return True
    return Capability.VIEW_FULL_IDENTIFIERS in _capabilities(user) and user.has_perm(
        "directory.view_person", person
    )


def _capabilities(user):
    return (
        set().union(*(ROLE_CAPABILITIES[m.role] for m in user.active_memberships))
        if user.is_authenticated
        else set()
    )


@transaction.atomic
def reveal_person_identifiers(*, actor, person, purpose, channel=AccessChannel.WEB, ip=None):
    """Return the full ID and phone numbers, logging the view. Refused unless the actor's role needs them."""
    if not can_view_full_identifiers(actor, person):
        raise PermissionDeniedError(_("您的角色无权查看完整身份证号码和电话。"))
    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError(_("请说明查看用途。"), code="invalid", fields={"purpose": [_("请说明查看用途。")]})
    PersonalDataAccess.objects.create(
        viewer=actor, person=person, fields="national_id,phone", purpose=purpose[:200], channel=channel, ip=ip
    )
    return {
        "national_id": crypto.decrypt(person.national_id_ciphertext),
        "phone": crypto.decrypt(person.phone_ciphertext) if person.phone_ciphertext else "",
    }


def log_person_reads(*, actor, persons, channel, ip=None):
    """Record reads of person records by banks and guarantors (masked or not): PIPL requires that
    every bank read of personal data can be shown later. Cooperative staff reads are not logged here."""
    from .permissions import is_division_scoped

    if not actor.is_authenticated or actor.is_superuser:
        return 0
    if any(is_division_scoped(m) for m in actor.active_memberships):
        return 0
    rows = [
        PersonalDataAccess(
            viewer=actor, person=person, fields="masked", purpose="read", channel=channel, ip=ip
        )
        for person in persons
    ]
    PersonalDataAccess.objects.bulk_create(rows)
    return len(rows)


def organization_group(organization):
    """The django-guardian group through which an organization's members receive object grants."""
    return Group.objects.get_or_create(name=f"organization:{organization.pk}")[0]


@transaction.atomic
def grant_person_access(*, actor, person, organization, reason):
    _require(actor, Capability.GRANT_PERSON_ACCESS, division=person.division)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("请填写授权依据（如借款人签署的授权书编号）。"),
            code="invalid",
            fields={"reason": [_("请填写授权依据。")]},
        )
    if PersonAccessGrant.objects.filter(
        person=person, organization=organization, revoked_at__isnull=True
    ).exists():
        raise ConflictError(_("该机构已获授权。"), code="duplicate")
    with audit_context(user=actor, reason="grant person access"):
        grant = PersonAccessGrant.objects.create(
            person=person, organization=organization, reason=reason, granted_by=actor
        )
        assign_perm("directory.view_person", organization_group(organization), person)
    return grant


@transaction.atomic
def revoke_person_access(*, actor, grant):
    grant = PersonAccessGrant.objects.select_for_update().get(pk=grant.pk)
    _require(actor, Capability.GRANT_PERSON_ACCESS, division=grant.person.division)
    if grant.revoked_at is None:
        with audit_context(user=actor, reason="revoke person access"):
            grant.revoked_at = timezone.now()
            grant.save(update_fields=["revoked_at"])
            remove_perm("directory.view_person", organization_group(grant.organization), grant.person)
    return grant


# --- users and memberships ------------------------------------------------------------------


def _add_membership(*, user, organization, role):
    membership, created = Membership.objects.get_or_create(user=user, organization=organization, role=role)
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    user.groups.add(organization_group(organization))
    return membership


@transaction.atomic
def create_user(*, actor, username, display_name, email="", password, organization, role):
    _require(actor, Capability.MANAGE_USERS, organization=organization)
    if role not in Role.values:
        raise DomainError(_("请选择角色。"), code="invalid", fields={"role": [_("请选择角色。")]})
    if role == Role.CITY_ADMIN and not (actor.is_superuser or Role.CITY_ADMIN in actor.active_roles):
        raise PermissionDeniedError(_("只有市级合作社管理员可以任命管理员。"))
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ConflictError(_("用户名已存在。"), code="duplicate", fields={"username": [_("用户名已存在。")]})
    user = User(username=username, display_name=(display_name or "").strip(), email=(email or "").strip())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(
            _("密码不符合要求。"), code="invalid", fields={"password": list(exc.messages)}
        ) from None
    user.set_password(password)
    with audit_context(user=actor, reason="create user"):
        user.save()
        _add_membership(user=user, organization=organization, role=role)
    return user


@transaction.atomic
def grant_membership(*, actor, user, organization, role):
    _require(actor, Capability.MANAGE_USERS, organization=organization)
    if role == Role.CITY_ADMIN and not (actor.is_superuser or Role.CITY_ADMIN in actor.active_roles):
        raise PermissionDeniedError(_("只有市级合作社管理员可以任命管理员。"))
    with audit_context(user=actor, reason="grant membership"):
        return _add_membership(user=user, organization=organization, role=role)


@transaction.atomic
def end_membership(*, actor, membership):
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=membership.pk)
    )
    _require(actor, Capability.MANAGE_USERS, organization=membership.organization)
    if membership.user_id == actor.pk and membership.role == Role.CITY_ADMIN:
        raise ConflictError(_("不能撤销自己的管理员角色。"))
    with audit_context(user=actor, reason="end membership"):
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        if not Membership.objects.filter(
            user=membership.user, organization=membership.organization, is_active=True
        ).exists():
            membership.user.groups.remove(organization_group(membership.organization))
    return membership


# --- notifications --------------------------------------------------------------------------


def notify(*, recipients, title, body="", link="", level="info", email=False):
    """Post an in-app message to each recipient (and an e-mail after commit when asked)."""
    notes = Notification.objects.bulk_create(
        [Notification(recipient=user, title=title, body=body, link=link, level=level) for user in recipients]
    )
    if email:
        addresses = [user.email for user in recipients if user.email]
        if addresses:
            transaction.on_commit(lambda: send_mail(title, f"{body}\n\n{link}".strip(), None, addresses))
    return notes


def mark_notifications_read(*, user, ids=None):
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# --- division boundaries --------------------------------------------------------------------

ACCEPTED_CRS = {
    "EPSG:4490",
    "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4490",
    "urn:ogc:def:crs:EPSG::4326",
    "urn:ogc:def:crs:OGC:1.3:CRS84",
}


def _boundary_from_feature(feature):
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError(_("几何类型必须是 Polygon 或 MultiPolygon。"))
    try:
        shape = GEOSGeometry(json.dumps(geometry))  # GeoJSON parses as 4326 ...
    except (GEOSException, ValueError, TypeError):
        raise ValueError(_("几何坐标无法解析。")) from None
    shape.srid = 4490  # ... and CGCS2000 coordinates are taken as they are (same axes, sub-metre apart)
    if isinstance(shape, Polygon):
        shape = MultiPolygon(shape, srid=4490)
    xmin, ymin, xmax, ymax = shape.extent
    if not (73 <= xmin <= xmax <= 136 and 3 <= ymin <= ymax <= 54):
        raise ValueError(_("坐标超出中国范围（经度73–136，纬度3–54），请确认为 CGCS2000 经纬度。"))
    if not shape.valid:
        raise ValueError(_("几何无效：%(reason)s") % {"reason": shape.valid_reason})
    return shape


@transaction.atomic
def import_division_boundaries(*, text, user=None):
    """Attach boundaries from a GeoJSON FeatureCollection (properties.code = division code).

    Coordinates are CGCS2000 longitude/latitude (EPSG:4490; WGS 84 is accepted as equivalent at
    cadastral precision here). All-or-nothing with a per-feature error report. Returns the count.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DivisionImportError(
            [RowError(exc.lineno, _("不是有效的 JSON：%(error)s") % {"error": exc.msg})]
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise DivisionImportError([RowError(1, _("应为 GeoJSON FeatureCollection。"))])
    crs = ((data.get("crs") or {}).get("properties") or {}).get("name")
    if crs and crs not in ACCEPTED_CRS:
        raise DivisionImportError(
            [RowError(1, _("不支持的坐标系 %(crs)s，请使用 CGCS2000（EPSG:4490）经纬度。") % {"crs": crs})]
        )

    errors, boundaries, numbers = [], {}, {}
    for number, feature in enumerate(data["features"], start=1):
        try:
            code = str(((feature or {}).get("properties") or {}).get("code") or "").strip()
            if not code.isdigit() or len(code) not in (6, 9, 12):
                raise ValueError(_("properties.code 应为6、9或12位区划代码。"))
            code = code.ljust(12, "0")
            if code in boundaries:
                raise ValueError(_("区划 %(code)s 重复出现。") % {"code": code})
            numbers[code] = number
            boundaries[code] = _boundary_from_feature(feature)
        except ValueError as exc:
            errors.append(RowError(number, str(exc)))
    known = set(AdministrativeDivision.objects.filter(code__in=boundaries).values_list("code", flat=True))
    errors += [
        RowError(numbers[c], _("区划 %(code)s 不存在。") % {"code": c}) for c in boundaries if c not in known
    ]
    if errors:
        raise DivisionImportError(sorted(errors, key=lambda e: e.line))
    with audit_context(user=user, reason="import division boundaries"):
        for division in (
            AdministrativeDivision.objects.select_for_update().filter(code__in=boundaries).order_by("code")
        ):
            division.boundary = boundaries[division.code]
            division.save(update_fields=["boundary"])
    return len(boundaries)
