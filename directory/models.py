"""Who and where: administrative divisions, organizations, users and their roles, API tokens."""

import pghistory
from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.db.models.functions import Upper
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


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级合作社管理员")
    COOP_STAFF = "coop_staff", _("县乡合作社工作人员")
    VILLAGE_CLERK = "village_clerk", _("村集体经办人")
    BANK_OFFICER = "bank_officer", _("银行客户经理")
    GUARANTOR_OFFICER = "guarantor_officer", _("担保机构经办人")
    AUDITOR = "auditor", _("审计员（只读）")


class User(AbstractUser):
    """A person who signs in. What they may see and do comes from their memberships."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.display_name or self.username

    @cached_property
    def active_roles(self):
        return frozenset(self.memberships.filter(is_active=True).values_list("role", flat=True))

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
    """An API credential. Only a SHA-256 digest of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
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
