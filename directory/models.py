"""Who and where: administrative divisions, organizations, users and their roles, API tokens."""

import pghistory
from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（市、区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


# A statistical division code is hierarchical by prefix: 33 | 11 | 02 | 001 | 001.
LEVEL_PREFIX_LENGTH = {
    DivisionLevel.PROVINCE: 2,
    DivisionLevel.CITY: 4,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.TOWNSHIP: 9,
    DivisionLevel.VILLAGE: 12,
}
LEVEL_ORDER = list(LEVEL_PREFIX_LENGTH)


@pghistory.track()
class AdministrativeDivision(models.Model):
    """A node of province → city → county → township → village.

    `code` is the 12-digit statistical code (GB/T 2260 six digits, then township and village
    digits, zero-padded), so a subtree is a code prefix: `code__startswith=division.prefix`.
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=10, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    boundary = models.MultiPolygonField(_("边界"), srid=4490, null=True, blank=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["code"], opclasses=["varchar_pattern_ops"], name="division_code_prefix_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^\d{12}$"), name="division_code_12_digits"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def prefix(self):
        return self.code[: LEVEL_PREFIX_LENGTH[self.level]]

    @property
    def short_code(self):
        """The code as commonly written: six digits down to county level (GB/T 2260)."""
        return self.code[: max(6, LEVEL_PREFIX_LENGTH[self.level])]

    def contains(self, other):
        return other is not None and other.code.startswith(self.prefix)


class OrganizationKind(models.TextChoices):
    COOPERATIVE = "cooperative", _("两山合作社")
    VILLAGE_COLLECTIVE = "village_collective", _("村股份经济合作社")
    STRONG_VILLAGE_COMPANY = "strong_village_company", _("生态强村公司")
    BANK = "bank", _("银行")
    GUARANTOR = "guarantor", _("担保机构")
    ENTERPRISE = "enterprise", _("企业/投资主体")
    GOVERNMENT = "government", _("政府部门")
    INSURER = "insurer", _("保险机构")


@pghistory.track()
class Organization(models.Model):
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=30, choices=OrganizationKind.choices)
    division = models.ForeignKey(
        AdministrativeDivision,
        verbose_name=_("所在区划"),
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone_ciphertext = models.TextField(_("联系电话（密文）"), blank=True, editable=False)
    contact_phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, editable=False)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["division__code", "name"]
        constraints = [
            models.UniqueConstraint(
                Upper("name"), models.F("division"), name="organization_name_unique_in_division"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:organization-detail", args=[self.pk])

    @property
    def cooperative_level(self):
        """City, county or township level of a cooperative: the level of its division."""
        return self.division.get_level_display() if self.kind == OrganizationKind.COOPERATIVE else ""


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级合作社管理员")
    COOP_STAFF = "coop_staff", _("县乡合作社工作人员")
    VILLAGE_CLERK = "village_clerk", _("村集体经办人")
    BANK_OFFICER = "bank_officer", _("银行客户经理")
    GUARANTOR_OFFICER = "guarantor_officer", _("担保机构经办人")
    AUDITOR = "auditor", _("审计员（只读）")
    # An enterprise or individual investor's representative on the trading platform: registers,
    # applies for listings, pays deposits, bids, signs trade contracts, posts demands.
    INVESTOR = "investor", _("投资主体经办人")
    # A department (natural resources, forestry, water, ecology, statistics, agriculture) that
    # exchanges data with the platform for its division.
    DEPARTMENT_OFFICER = "department_officer", _("政府部门经办人")


class User(AbstractUser):
    """A person who signs in. What they may see and do comes from their memberships.

    A service account is the identity of an organization's API client (a bank's system): it has
    no usable password and acts with its membership's role.
    """

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    is_service_account = models.BooleanField(_("接口账号"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.display_name or self.username

    def get_absolute_url(self):
        return reverse("directory:user-detail", args=[self.pk])

    @cached_property
    def active_memberships(self):
        """Active memberships of active organizations, with their divisions (one query, cached)."""
        return list(
            self.memberships.filter(is_active=True, organization__is_active=True).select_related(
                "organization__division"
            )
        )

    @property
    def active_roles(self):
        return frozenset(m.role for m in self.active_memberships)

    @property
    def can_operate_platform(self):
        return self.is_superuser or Role.CITY_ADMIN in self.active_roles


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Membership(models.Model):
    """A user acting for an organization in a role; their reach is the organization's division subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]

    def __str__(self):
        return f"{self.user} · {self.organization} · {self.get_role_display()}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["last_used_at"])
class ApiToken(models.Model):
    """An API credential. Only a SHA-256 digest of the secret is stored; the secret is shown once.

    An organization's API client is a token of a service account that is a member of it.
    """

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("签发人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=8, db_index=True)
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


@pghistory.track()
class Person(models.Model):
    """A natural person. The ID number and phone are stored encrypted, found by keyed hash and shown
    masked; see directory.personal_data for who may see them in full (every such view is logged)."""

    name = models.CharField(_("姓名"), max_length=50)
    national_id_ciphertext = models.TextField(_("身份证号码（密文）"), editable=False)
    national_id_hash = models.CharField(
        _("身份证号码（检索摘要）"), max_length=64, unique=True, editable=False
    )
    national_id_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    phone_ciphertext = models.TextField(_("手机号码（密文）"), blank=True, editable=False)
    phone_hash = models.CharField(
        _("手机号码（检索摘要）"), max_length=64, blank=True, db_index=True, editable=False
    )
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, editable=False)
    division = models.ForeignKey(
        AdministrativeDivision, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="persons"
    )
    address = models.CharField(_("住址"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")
        ordering = ["division__code", "name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("directory:person-detail", args=[self.pk])


class PartyKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANIZATION = "organization", _("机构")


class Party(models.Model):
    """Who can hold a right, sign a contract or borrow: exactly one person or one organization."""

    kind = models.CharField(_("类型"), max_length=20, choices=PartyKind.choices)
    person = models.OneToOneField(
        Person,
        verbose_name=_("自然人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party",
    )
    organization = models.OneToOneField(
        Organization,
        verbose_name=_("机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party",
    )

    class Meta:
        verbose_name = _("权利主体")
        verbose_name_plural = _("权利主体")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="person", person__isnull=False, organization__isnull=True)
                    | models.Q(kind="organization", organization__isnull=False, person__isnull=True)
                ),
                name="party_is_one_person_or_one_organization",
            )
        ]

    def __str__(self):
        return str(self.person or self.organization)


@pghistory.track()
class PersonAccessGrant(models.Model):
    """A recorded authorisation for an organization (e.g. a bank) to see a person, such as a
    borrower's signed consent. Enforced through django-guardian object permissions."""

    person = models.ForeignKey(
        Person, verbose_name=_("自然人"), on_delete=models.PROTECT, related_name="grants"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("被授权机构"), on_delete=models.PROTECT, related_name="person_grants"
    )
    reason = models.CharField(_("授权依据"), max_length=200)
    granted_by = models.ForeignKey(User, verbose_name=_("授权人"), on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息授权")
        verbose_name_plural = _("个人信息授权")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organization"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_grant_per_person_and_organization",
            )
        ]


class AccessChannel(models.TextChoices):
    WEB = "web", _("网页")
    API = "api", _("接口")


class PersonalDataAccess(models.Model):
    """Append-only log: who saw which person's full identifiers, when, from where and why."""

    viewer = models.ForeignKey(User, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Person, verbose_name=_("自然人"), on_delete=models.PROTECT, related_name="accesses"
    )
    fields = models.CharField(_("查看字段"), max_length=100)
    purpose = models.CharField(_("用途"), max_length=200)
    channel = models.CharField(_("渠道"), max_length=10, choices=AccessChannel.choices)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]


class ApiRequestLog(models.Model):
    """One row per request made with an API token: every bank request is attributable."""

    token = models.ForeignKey(
        ApiToken, verbose_name=_("令牌"), on_delete=models.PROTECT, related_name="requests"
    )
    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization, verbose_name=_("机构"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(_("方法"), max_length=10)
    path = models.CharField(_("路径"), max_length=500)
    status_code = models.PositiveSmallIntegerField(_("状态码"))
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    # Which persons' data the response carried and which fields: [{"person": pk, "fields": [...]}]
    personal_data = models.JSONField(_("返回的个人信息"), default=list, blank=True)

    class Meta:
        verbose_name = _("接口访问记录")
        verbose_name_plural = _("接口访问记录")
        indexes = [models.Index(fields=["organization", "-at"], name="api_request_org_time_idx")]


class NotificationLevel(models.TextChoices):
    INFO = "info", _("通知")
    SUCCESS = "success", _("完成")
    WARNING = "warning", _("提醒")
    DANGER = "danger", _("警告")


class Notification(models.Model):
    """An in-app message; later apps post alerts here through directory.services.notify()."""

    recipient = models.ForeignKey(
        User, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    level = models.CharField(_("级别"), max_length=10, choices=NotificationLevel.choices, default="info")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
