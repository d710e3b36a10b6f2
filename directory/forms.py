"""Web forms. They check shape at the edge; the services check everything again."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tmcs.forms import Form

from .models import Organization, OrganizationKind, Role
from .permissions import RESERVED_ORGANIZATION_KINDS, Capability, can_manage_organization_kind
from .selectors import divisions_for, organizations_for


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.short_code} {obj.name}"


def division_choices_for(user):
    return divisions_for(user).defer("boundary").order_by("code")


class OrganizationForm(Form):
    name = forms.CharField(label=_("名称"), max_length=200)
    kind = forms.ChoiceField(label=_("类型"), choices=OrganizationKind.choices)
    division = DivisionChoiceField(label=_("所在区划"), queryset=None)
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=_("18位，村股份经济合作社以 N 开头。"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"), max_length=30, required=False, help_text=_("修改时留空表示保持原号码。")
    )
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = division_choices_for(user)
        if not can_manage_organization_kind(user, OrganizationKind.BANK):
            self.fields["kind"].choices = [
                (value, label)
                for value, label in OrganizationKind.choices
                if value not in RESERVED_ORGANIZATION_KINDS
            ]


class PersonForm(Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    national_id = forms.CharField(label=_("身份证号码"), max_length=30, required=False)
    phone = forms.CharField(label=_("手机或固定电话"), max_length=30, required=False)
    division = DivisionChoiceField(label=_("所在区划"), queryset=None)
    address = forms.CharField(label=_("住址"), max_length=200, required=False)

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = division_choices_for(user)
        if editing:
            self.fields["national_id"].help_text = _("留空表示保持原号码。")
            self.fields["phone"].help_text = _("留空表示保持原号码。")
        else:
            self.fields["national_id"].required = True


class RevealForm(Form):
    purpose = forms.CharField(label=_("查看用途"), max_length=200, help_text=_("将记入个人信息查看记录。"))


class PersonGrantForm(Form):
    organization = forms.ModelChoiceField(label=_("被授权机构"), queryset=None)
    reason = forms.CharField(
        label=_("授权依据"), max_length=200, help_text=_("如借款人签署的个人信息授权书编号。")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.filter(
            kind__in=[OrganizationKind.BANK, OrganizationKind.GUARANTOR], is_active=True
        ).order_by("name")


class _ManagedOrganizationMixin:
    """An `organization` choice limited to organizations whose users the actor manages."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations_for(user, Capability.MANAGE_USERS).order_by(
            "name"
        )


class UserCreateForm(_ManagedOrganizationMixin, Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=50)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput(render_value=False))
    organization = forms.ModelChoiceField(label=_("机构"), queryset=None)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)


class MembershipForm(_ManagedOrganizationMixin, Form):
    organization = forms.ModelChoiceField(label=_("机构"), queryset=None)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)


class ApiClientForm(Form):
    organization = forms.ModelChoiceField(label=_("机构"), queryset=None)
    name = forms.CharField(label=_("客户端名称"), max_length=100, help_text=_("如“信贷系统”“押品管理系统”。"))
    expires_at = forms.DateTimeField(
        label=_("过期时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            organizations_for(user, Capability.MANAGE_API_CLIENTS)
            .filter(kind__in=[OrganizationKind.BANK, OrganizationKind.GUARANTOR])
            .order_by("name")
        )


class DivisionImportForm(Form):
    file = forms.FileField(
        label=_("区划文件"),
        help_text=_("CSV（code,name,level,parent_code）或 GeoJSON 边界（properties.code）。"),
    )
