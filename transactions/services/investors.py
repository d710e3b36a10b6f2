"""竞买人注册: an enterprise signs itself up on the public page; the cooperative of its county reviews
it. Until approval the user's investor membership stays inactive, so they cannot trade."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import (
    AdministrativeDivision,
    DivisionLevel,
    Membership,
    Organization,
    OrganizationKind,
    Role,
    User,
)
from directory.permissions import ROLE_CAPABILITIES, Capability, covers_division
from directory.services import ensure_party, notify, organization_group
from tmcs import crypto
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from tmcs.ids import IdentifierError, mask_phone, normalize_phone, normalize_uscc

from ..models import InvestorRegistration, ReviewStatus
from .common import require

MAX_LICENCE_BYTES = 10 * 1024 * 1024
MANAGING_ROLES = [
    role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.MANAGE_TRADING in capabilities
]


def _text(data, field, label, errors, max_length, required=True):
    value = (data.get(field) or "").strip()
    if required and not value:
        errors[field] = [_("请填写%(label)s。") % {"label": label}]
    elif len(value) > max_length:
        errors[field] = [_("不能超过 %(n)s 个字。") % {"n": max_length}]
    return value


def _clean(data):
    errors, cleaned = {}, {}
    cleaned["name"] = _text(data, "name", _("企业名称"), errors, 200)
    cleaned["contact_name"] = _text(data, "contact_name", _("联系人"), errors, 50)
    cleaned["business_scope"] = _text(data, "business_scope", _("经营范围/投资意向"), errors, 500)
    cleaned["username"] = _text(data, "username", _("用户名"), errors, 150)
    cleaned["email"] = _text(data, "email", _("电子邮箱"), errors, 254, required=False)
    for field, normalize in (("uscc", normalize_uscc), ("contact_phone", normalize_phone)):
        try:
            cleaned[field] = normalize(data.get(field) or "")
        except IdentifierError as exc:
            errors[field] = [str(exc)]
    if "contact_phone" in cleaned and not cleaned["contact_phone"].startswith("1"):
        errors["contact_phone"] = [_("请填写手机号码。")]
    county = data.get("county")
    if not isinstance(county, AdministrativeDivision) or county.level != DivisionLevel.COUNTY:
        errors["county"] = [_("请选择所在县（市、区）。")]
    cleaned["county"] = county
    password, confirmation = data.get("password") or "", data.get("password_confirmation") or ""
    if not password:
        errors["password"] = [_("请设置密码。")]
    elif password != confirmation:
        errors["password_confirmation"] = [_("两次输入的密码不一致。")]
    else:
        try:
            validate_password(password, User(username=cleaned["username"], email=cleaned["email"]))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    cleaned["password"] = password
    return cleaned, errors


def _check_licence(licence, errors):
    from resources.services import inspect_document

    if licence is None:
        errors["licence"] = [_("请上传营业执照（PDF 或图片）。")]
        return
    if licence.size > MAX_LICENCE_BYTES:
        errors["licence"] = [_("文件超过 10 MB。")]
        return
    try:
        inspect_document(licence)
    except DomainError as exc:
        errors["licence"] = [str(exc.detail)]


def _refuse(errors):
    raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)


@transaction.atomic
def register_investor(*, licence=None, **data):
    """Organization(enterprise) + Party + User + inactive investor Membership + pending registration,
    all or nothing; the cooperative staff whose reach covers the county are told."""
    cleaned, errors = _clean(data)
    _check_licence(licence, errors)
    if errors:
        _refuse(errors)
    duplicates = {}
    if Organization.objects.filter(uscc=cleaned["uscc"]).exists():
        duplicates["uscc"] = [_("该统一社会信用代码已注册。")]
    if User.objects.filter(username__iexact=cleaned["username"]).exists():
        duplicates["username"] = [_("用户名已被使用。")]
    if duplicates:
        raise ConflictError(_("提交的数据有误，请检查各字段。"), code="duplicate", fields=duplicates)
    phone = cleaned["contact_phone"]
    registration = None
    try:
        with transaction.atomic(), audit_context(reason="investor self-registration"):
            organization = Organization.objects.create(
                name=cleaned["name"],
                kind=OrganizationKind.ENTERPRISE,
                division=cleaned["county"],
                uscc=cleaned["uscc"],
                contact_name=cleaned["contact_name"],
                contact_phone_ciphertext=crypto.encrypt(phone),
                contact_phone_masked=mask_phone(phone),
            )
            ensure_party(organization)
            user = User(
                username=cleaned["username"], display_name=cleaned["contact_name"], email=cleaned["email"]
            )
            user.set_password(cleaned["password"])
            user.save()
            Membership.objects.create(
                user=user, organization=organization, role=Role.INVESTOR, is_active=False
            )
            registration = InvestorRegistration(
                organization=organization, user=user, business_scope=cleaned["business_scope"]
            )
            registration.licence.save(licence.name, licence, save=False)
            registration.save()
    except IntegrityError as exc:
        _delete_licence(registration)
        raise _duplicate_from(exc) from None
    except BaseException:
        _delete_licence(registration)
        raise
    _notify_staff(registration)
    return registration


def _delete_licence(registration):
    if registration is not None and registration.licence.name:
        registration.licence.storage.delete(registration.licence.name)


def _duplicate_from(exc):
    """A concurrent sign-up took the USCC, the username or the name first."""
    message = str(exc)
    if "uscc" in message:
        fields = {"uscc": [_("该统一社会信用代码已注册。")]}
    elif "username" in message:
        fields = {"username": [_("用户名已被使用。")]}
    elif "organization_name_unique_in_division" in message:
        fields = {"name": [_("该县（市、区）已有同名企业。")]}
    else:
        raise exc
    return ConflictError(_("提交的数据有误，请检查各字段。"), code="duplicate", fields=fields)


def staff_covering(division):
    """Active cooperative staff who manage trading in a division subtree containing `division`."""
    memberships = Membership.objects.filter(
        is_active=True,
        role__in=MANAGING_ROLES,
        organization__is_active=True,
        organization__kind=OrganizationKind.COOPERATIVE,
        user__is_active=True,
    ).select_related("user", "organization__division")
    return list({m.user for m in memberships if covers_division(m, division)})


def _notify_staff(registration):
    staff = staff_covering(registration.organization.division)
    if staff:
        notify(
            recipients=staff,
            title=_("新的投资主体注册待审核"),
            body=f"{registration.organization.name}（{registration.organization.division.name}）",
            link=reverse("transactions:investor-registration-detail", args=[registration.pk]),
        )


@transaction.atomic
def review_investor_registration(*, actor, registration, approve, note=""):
    registration = (
        InvestorRegistration.objects.select_for_update(of=("self",))
        .select_related("organization__division", "user")
        .get(pk=registration.pk)
    )
    require(actor, Capability.MANAGE_TRADING, division=registration.organization.division)
    note = (note or "").strip()
    if len(note) > 500:
        message = _("不能超过 %(n)s 个字。") % {"n": 500}
        raise DomainError(message, code="invalid", fields={"note": [message]})
    if not approve and not note:
        message = _("不予通过时请写明原因。")
        raise DomainError(message, code="invalid", fields={"note": [message]})
    if registration.status != ReviewStatus.PENDING:
        raise ConflictError(
            _("该注册已审核（%(status)s），不能重复审核。") % {"status": registration.get_status_display()},
            code="invalid_transition",
        )
    if registration.user_id == actor.pk:
        raise PermissionDeniedError(_("不能审核自己的注册。"))
    registration.status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    registration.review_note, registration.reviewed_by = note, actor
    registration.reviewed_at = timezone.now()
    with audit_context(user=actor, reason=f"review investor registration: {registration.status} {note}"):
        registration.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
        if approve:
            Membership.objects.filter(
                user=registration.user, organization=registration.organization, role=Role.INVESTOR
            ).update(is_active=True)
            registration.user.groups.add(organization_group(registration.organization))
    title = _("投资主体注册已通过审核") if approve else _("投资主体注册未通过审核")
    notify(
        recipients=[registration.user],
        title=title,
        body=f"{registration.organization.name}" + (f"：{note}" if note else ""),
        link=reverse("transactions:investor-status"),
        level="success" if approve else "warning",
        email=True,
    )
    return registration
