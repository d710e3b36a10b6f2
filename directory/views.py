"""Directory web pages: thin views over selectors (reads) and services (writes)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tmcs.audit import client_ip
from tmcs.errors import DomainError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from . import services
from .filters import OrganizationFilter, PersonFilter, UserFilter
from .forms import (
    ApiClientForm,
    DivisionImportForm,
    MembershipForm,
    OrganizationForm,
    PersonForm,
    PersonGrantForm,
    RevealForm,
    UserCreateForm,
)
from .models import AccessChannel, Membership, Notification, PersonAccessGrant
from .permissions import Capability, can
from .selectors import (
    api_tokens_for,
    division_tree,
    organizations_for,
    persons_for,
    users_for,
)


def _require(request, capability, **target):
    if not can(request.user, capability, **target):
        raise PermissionDenied(_("您没有权限执行此操作。"))


def _service_form_page(request, form, *, save, title, back=None):
    """Validate `form`, call `save(cleaned_data)` (a service), show its errors in place.

    On success redirect to what the service returned; otherwise render the form (400 after POST).
    """
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(dict(form.cleaned_data))
        except services.PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(request, "directory/form.html", {"form": form, "title": title, "back": back}, status=status)


# --- divisions ------------------------------------------------------------------------------


def index(request):
    divisions = list(division_tree(request.user))
    return render(
        request,
        "directory/index.html",
        {
            "divisions": divisions,
            "has_reach": bool(divisions),
            "can_import": can(request.user, Capability.IMPORT_DIVISIONS),
            "import_form": DivisionImportForm(),
        },
    )


@require_POST
def division_import(request):
    _require(request, Capability.IMPORT_DIVISIONS)
    form = DivisionImportForm(request.POST, request.FILES)
    errors = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            errors = [_("文件不是 UTF-8 编码。")]
        else:
            try:
                if upload.name.lower().endswith((".geojson", ".json")):
                    count = services.import_division_boundaries(text=text, user=request.user)
                    messages.success(request, _("已更新 %(n)s 个区划的边界。") % {"n": count})
                else:
                    result = services.import_divisions_csv(text=text, user=request.user)
                    messages.success(
                        request,
                        _("导入完成：新增 %(c)s，更新 %(u)s，未变 %(n)s。")
                        % {"c": result.created, "u": result.updated, "n": result.unchanged},
                    )
                return redirect("directory:index")
            except services.DivisionImportError as exc:
                errors = [
                    _("第%(line)s行：%(message)s") % {"line": e.line, "message": e.message}
                    for e in exc.errors
                ]
    divisions = list(division_tree(request.user))
    return render(
        request,
        "directory/index.html",
        {
            "divisions": divisions,
            "has_reach": bool(divisions),
            "can_import": True,
            "import_form": form,
            "import_errors": errors,
        },
        status=400,
    )


# --- organizations --------------------------------------------------------------------------


class OrganizationListView(ObjectListView):
    template_name = "directory/object_list.html"
    title = gettext_lazy("机构")
    filterset_class = OrganizationFilter
    export_name = "organizations"
    default_sort = ("division__code", "name")
    columns = [
        Column(gettext_lazy("名称"), "name", sort="name", link=True),
        Column(gettext_lazy("类型"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("统一社会信用代码"), "uscc", sort="uscc"),
        Column(gettext_lazy("联系人"), "contact_name"),
        Column(gettext_lazy("联系电话"), "contact_phone_masked"),
        Column(gettext_lazy("启用"), "is_active", sort="is_active"),
    ]

    def get_queryset(self):
        return organizations_for(self.request.user)

    def get_create_url(self):
        if can(self.request.user, Capability.MANAGE_ORGANIZATIONS):
            return reverse("directory:organization-create")
        return None


def organization_detail(request, pk):
    organization = get_object_or_404(organizations_for(request.user), pk=pk)
    return render(
        request,
        "directory/organization_detail.html",
        {
            "organization": organization,
            "can_edit": can(request.user, Capability.MANAGE_ORGANIZATIONS, division=organization.division),
            "members": organization.memberships.filter(is_active=True).select_related("user"),
        },
    )


def _organization_form_page(request, *, organization=None):
    target = {"division": organization.division} if organization else {}
    _require(request, Capability.MANAGE_ORGANIZATIONS, **target)
    initial = {}
    if organization:
        initial = {
            "name": organization.name,
            "kind": organization.kind,
            "division": organization.division,
            "uscc": organization.uscc,
            "contact_name": organization.contact_name,
            "address": organization.address,
            "is_active": organization.is_active,
        }
    form = OrganizationForm(request.POST or None, initial=initial, user=request.user)

    def save(data):
        if organization is None:
            return services.create_organization(actor=request.user, **data)
        if not data["contact_phone"]:
            data.pop("contact_phone")  # blank keeps the stored number
        return services.update_organization(actor=request.user, organization=organization, **data)

    title = _("编辑机构") if organization else _("新增机构")
    return _service_form_page(request, form, save=save, title=title, back=organization)


def organization_create(request):
    return _organization_form_page(request)


def organization_edit(request, pk):
    return _organization_form_page(
        request, organization=get_object_or_404(organizations_for(request.user), pk=pk)
    )


# --- persons --------------------------------------------------------------------------------


class PersonListView(ObjectListView):
    template_name = "directory/object_list.html"
    title = gettext_lazy("自然人")
    filterset_class = PersonFilter
    export_name = "persons"
    default_sort = ("division__code", "name", "pk")
    columns = [
        Column(gettext_lazy("姓名"), "name", sort="name", link=True),
        Column(gettext_lazy("身份证号码"), "national_id_masked"),
        Column(gettext_lazy("性别"), "get_gender_display", sort="gender"),
        Column(gettext_lazy("出生日期"), "birth_date", sort="birth_date"),
        Column(gettext_lazy("联系电话"), "phone_masked"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
    ]

    def get_queryset(self):
        return persons_for(self.request.user)

    def get(self, request):
        response = super().get(request)
        if getattr(self, "shown", None):
            services.log_person_reads(
                actor=request.user, persons=self.shown, channel=AccessChannel.WEB, ip=client_ip(request)
            )
        return response

    def export(self, rows):
        rows = list(rows[: self.export_row_limit])
        services.log_person_reads(
            actor=self.request.user, persons=rows, channel=AccessChannel.WEB, ip=client_ip(self.request)
        )
        return super().export(rows)

    def get_create_url(self):
        return (
            reverse("directory:person-create") if can(self.request.user, Capability.MANAGE_PERSONS) else None
        )


def person_detail(request, pk):
    person = get_object_or_404(persons_for(request.user), pk=pk)
    services.log_person_reads(
        actor=request.user, persons=[person], channel=AccessChannel.WEB, ip=client_ip(request)
    )
    can_grant = can(request.user, Capability.GRANT_PERSON_ACCESS, division=person.division)
    show_log = can(request.user, Capability.VIEW, division=person.division)
    return render(
        request,
        "directory/person_detail.html",
        {
            "person": person,
            "can_edit": can(request.user, Capability.MANAGE_PERSONS, division=person.division),
            "can_reveal": services.can_view_full_identifiers(request.user, person),
            "reveal_form": RevealForm(),
            "can_grant": can_grant,
            "grant_form": PersonGrantForm(user=request.user) if can_grant else None,
            "grants": person.grants.select_related("organization", "granted_by").order_by("-granted_at")
            if can_grant
            else [],
            "accesses": person.accesses.select_related("viewer")[:50] if show_log else [],
        },
    )


@require_POST
def person_reveal(request, pk):
    person = get_object_or_404(persons_for(request.user), pk=pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请说明查看用途。"))
        return redirect(person)
    try:
        revealed = services.reveal_person_identifiers(
            actor=request.user,
            person=person,
            purpose=form.cleaned_data["purpose"],
            channel=AccessChannel.WEB,
            ip=client_ip(request),
        )
    except services.PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    response = render(request, "directory/person_revealed.html", {"person": person, "revealed": revealed})
    response["Cache-Control"] = "no-store"
    return response


def _person_form_page(request, *, person=None):
    target = {"division": person.division} if person else {}
    _require(request, Capability.MANAGE_PERSONS, **target)
    initial = {"name": person.name, "division": person.division, "address": person.address} if person else {}
    form = PersonForm(request.POST or None, initial=initial, user=request.user, editing=person is not None)

    def save(data):
        if person is None:
            return services.create_person(actor=request.user, **data)
        for blank_keeps_stored in ("national_id", "phone"):
            if not data[blank_keeps_stored]:
                data.pop(blank_keeps_stored)
        return services.update_person(actor=request.user, person=person, **data)

    title = _("编辑自然人") if person else _("新增自然人")
    return _service_form_page(request, form, save=save, title=title, back=person)


def person_create(request):
    return _person_form_page(request)


def person_edit(request, pk):
    return _person_form_page(request, person=get_object_or_404(persons_for(request.user), pk=pk))


@require_POST
def person_grant(request, pk):
    person = get_object_or_404(persons_for(request.user), pk=pk)
    form = PersonGrantForm(request.POST, user=request.user)
    if form.is_valid():
        run_service(
            request,
            lambda: services.grant_person_access(actor=request.user, person=person, **form.cleaned_data),
            success=_("已授权。"),
        )
    else:
        messages.error(request, _("请选择机构并填写授权依据。"))
    return redirect(person)


@require_POST
def grant_revoke(request, pk):
    grant = get_object_or_404(PersonAccessGrant.objects.filter(person__in=persons_for(request.user)), pk=pk)
    run_service(
        request,
        lambda: services.revoke_person_access(actor=request.user, grant=grant),
        success=_("已撤销授权。"),
    )
    return redirect(grant.person)


# --- users and roles ------------------------------------------------------------------------


class UserListView(ObjectListView):
    template_name = "directory/object_list.html"
    title = gettext_lazy("用户与角色")
    filterset_class = UserFilter
    export_name = "users"
    default_sort = ("username",)
    columns = [
        Column(gettext_lazy("用户名"), "username", sort="username", link=True),
        Column(gettext_lazy("姓名"), "display_name", sort="display_name"),
        Column(gettext_lazy("电子邮箱"), "email"),
        Column(gettext_lazy("接口账号"), "is_service_account"),
        Column(gettext_lazy("启用"), "is_active", sort="is_active"),
        Column(gettext_lazy("最近登录"), "last_login", sort="last_login"),
    ]

    def get(self, request):
        _require(request, Capability.MANAGE_USERS)
        return super().get(request)

    def get_queryset(self):
        return users_for(self.request.user)

    def get_create_url(self):
        return reverse("directory:user-create")


def user_detail(request, pk):
    _require(request, Capability.MANAGE_USERS)
    subject = get_object_or_404(users_for(request.user), pk=pk)
    form = MembershipForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_membership(actor=request.user, user=subject, **form.cleaned_data)
        except services.PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        messages.success(request, _("已添加角色。"))
        return redirect(subject)
    memberships = (
        Membership.objects.filter(user=subject)
        .select_related("organization__division")
        .order_by("-is_active")
    )
    return render(
        request, "directory/user_detail.html", {"subject": subject, "memberships": memberships, "form": form}
    )


def user_create(request):
    _require(request, Capability.MANAGE_USERS)
    form = UserCreateForm(request.POST or None, user=request.user)
    return _service_form_page(
        request, form, save=lambda data: services.create_user(actor=request.user, **data), title=_("新增用户")
    )


@require_POST
def membership_end(request, pk):
    membership = get_object_or_404(Membership.objects.filter(user__in=users_for(request.user)), pk=pk)
    run_service(
        request,
        lambda: services.end_membership(actor=request.user, membership=membership),
        success=_("已撤销角色。"),
    )
    return redirect(membership.user)


# --- API clients ----------------------------------------------------------------------------


def api_clients(request):
    _require(request, Capability.MANAGE_API_CLIENTS)
    form = ApiClientForm(request.POST or None, user=request.user)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.issue_api_client(issued_by=request.user, **form.cleaned_data)
        except services.PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            issued = {"token": token, "secret": raw}
            form = ApiClientForm(user=request.user)
    tokens = api_tokens_for(request.user).order_by("-created_at")
    response = render(
        request,
        "directory/api_clients.html",
        {"form": form, "tokens": tokens, "issued": issued},
        status=400 if request.method == "POST" and issued is None else 200,
    )
    response["Cache-Control"] = "no-store"  # the secret is shown once and must not be cached
    return response


@require_POST
def api_client_revoke(request, pk):
    token = get_object_or_404(api_tokens_for(request.user), pk=pk)
    run_service(
        request,
        lambda: services.revoke_api_client(token=token, revoked_by=request.user),
        success=_("已撤销接口客户端“%(name)s”。") % {"name": token.name},
    )
    return redirect("directory:api-clients")


# --- inbox ----------------------------------------------------------------------------------


def inbox(request):
    notes = Notification.objects.filter(recipient=request.user)[:200]
    return render(request, "directory/inbox.html", {"notes": notes})


@require_POST
def inbox_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    services.mark_notifications_read(user=request.user, ids=ids)
    return redirect("directory:inbox")
