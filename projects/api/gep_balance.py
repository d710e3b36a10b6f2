"""`/api/v1/projects/gep-balances/` and `/gep-entries/`: the GEP balance (占补平衡) ledger.

Balances: the balancing divisions in the caller's reach (balance, warning line, status, the rule
in force), retrieved by division id with every entry. Entries: list and retrieve (filters
division / division_code / kind / project / dates), and the writes as actions: `restoration`,
`protection`, `release` (list level) and `reverse` (on an entry). Readers are staff, city
administrators and auditors (VIEW_OVERSIGHT or MANAGE_PROJECTS); anything outside their divisions
answers 404, a missing capability 403; errors are {code, detail, fields}."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.models import AdministrativeDivision
from directory.permissions import Capability, can
from directory.selectors import within_reach
from resources.models import Asset
from tmcs.errors import PermissionDeniedError
from valuation.models import AccountingRun

from ..forms_gep_balance import EntryFilter
from ..models import GepBalanceEntry, GepBalanceRule, KeyProject
from ..selectors_gep_balance import balancing_divisions_for, entries_for, may_view
from ..services import gep_balance as services

ERROR = OpenApiResponse(description="{code, detail, fields}")
MONEY = {"max_digits": 16, "decimal_places": 2}


def _require_reader(user):
    if not may_view(user):
        raise PermissionDeniedError(_("您没有权限查看占补平衡台账。"))


def _require_desk(user):
    if not can(user, Capability.MANAGE_PROJECTS):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


# --- serializers --------------------------------------------------------------------------------


class GepEntrySerializer(serializers.ModelSerializer):
    division_code = serializers.CharField(source="division.code")
    kind_display = serializers.CharField(source="get_kind_display")
    project_number = serializers.CharField(source="project.number", default=None)
    run_year = serializers.IntegerField(source="run.year", default=None)
    baseline_run_year = serializers.IntegerField(source="baseline_run.year", default=None)
    assets = serializers.SerializerMethodField()
    reverses_number = serializers.CharField(source="reverses.number", default=None)
    reversed_by = serializers.SerializerMethodField()
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = GepBalanceEntry
        fields = [
            "id",
            "number",
            "division",
            "division_code",
            "kind",
            "kind_display",
            "amount",
            "balance_after",
            "occurred_on",
            "project",
            "project_number",
            "run",
            "run_year",
            "baseline_run",
            "baseline_run_year",
            "rule",
            "assets",
            "memo",
            "calculation",
            "reverses",
            "reverses_number",
            "reversed_by",
            "recorded_by",
            "recorded_at",
        ]

    def get_assets(self, entry) -> list[str]:
        return [asset.code for asset in entry.assets.all()]

    def get_reversed_by(self, entry) -> str | None:
        reversal = getattr(entry, "reversed_by", None)
        return reversal.number if reversal else None


class GepRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = GepBalanceRule
        fields = ["id", "offset_ratio", "categories", "warning_balance", "effective_from", "source"]


class GepBalanceSerializer(serializers.Serializer):
    division = serializers.IntegerField(source="pk")
    division_code = serializers.CharField(source="code")
    division_name = serializers.CharField(source="name")
    balance = serializers.DecimalField(**MONEY)
    warning = serializers.DecimalField(**MONEY)
    status = serializers.SerializerMethodField(help_text="ok / warning / negative")
    offset_ratio = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)
    entry_count = serializers.IntegerField(allow_null=True)
    last_entry_on = serializers.DateField(allow_null=True)

    def get_status(self, division) -> str:
        return services.status_of(division.balance, division.warning)


class GepBalanceDetailSerializer(GepBalanceSerializer):
    rules = serializers.SerializerMethodField()
    entries = serializers.SerializerMethodField()

    def get_rules(self, division) -> list[dict]:
        rules = GepBalanceRule.objects.filter(division=division).order_by("-effective_from", "-pk")
        return GepRuleSerializer(rules, many=True).data

    def get_entries(self, division) -> list[dict]:
        entries = entries_for(self.context["request"].user).filter(division=division).order_by("pk")
        return GepEntrySerializer(entries, many=True).data


class _GepCreditInput(serializers.Serializer):
    division = serializers.PrimaryKeyRelatedField(
        queryset=AdministrativeDivision.objects.defer("boundary"),
        required=False,
        allow_null=True,
        help_text="平衡区划 id（缺省：由资源所在区划确定）",
    )
    assets = serializers.PrimaryKeyRelatedField(
        queryset=Asset.objects.defer("geometry"), many=True, allow_empty=False
    )
    occurred_on = serializers.DateField()
    memo = serializers.CharField(max_length=300)


class GepRestorationInput(_GepCreditInput):
    baseline_run = serializers.PrimaryKeyRelatedField(queryset=AccountingRun.objects.all())
    run = serializers.PrimaryKeyRelatedField(queryset=AccountingRun.objects.all())
    project = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class GepProtectionInput(_GepCreditInput):
    run = serializers.PrimaryKeyRelatedField(queryset=AccountingRun.objects.all())
    protection_document = serializers.CharField(max_length=300)


class GepReleaseInput(serializers.Serializer):
    project = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=300)
    occurred_on = serializers.DateField()


class GepReverseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


# --- viewsets -----------------------------------------------------------------------------------


@extend_schema(tags=["projects: GEP balance"])
class GepBalanceViewSet(viewsets.ReadOnlyModelViewSet):
    """Balances of the balancing divisions in reach; `retrieve` by division id adds rules and entries."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return AdministrativeDivision.objects.none()
        _require_reader(self.request.user)
        return balancing_divisions_for(self.request.user)

    def get_serializer_class(self):
        return GepBalanceDetailSerializer if self.action == "retrieve" else GepBalanceSerializer


def _projects_in_reach(user):
    return KeyProject.objects.filter(within_reach(user, "division__code", Capability.MANAGE_PROJECTS))


@extend_schema(tags=["projects: GEP balance"])
class GepEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = GepEntrySerializer
    filterset_class = EntryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return GepBalanceEntry.objects.none()
        _require_reader(self.request.user)
        return entries_for(self.request.user).order_by("division__code", "pk")

    def _created(self, entry):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=entry.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="登记生态修复增量（两期已采纳核算之差，按资源逐项计算，下降的资源冲减合计）",
        request=GepRestorationInput,
        responses={201: GepEntrySerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        examples=[
            OpenApiExample(
                "废弃矿山修复",
                value={
                    "division": 367,
                    "assets": [101, 102],
                    "baseline_run": 11,
                    "run": 15,
                    "occurred_on": "2026-11-20",
                    "memo": "石门坑废弃矿山生态修复工程",
                },
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def restoration(self, request):
        _require_desk(request.user)
        payload = GepRestorationInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        project_id = data.pop("project", None)
        project = get_object_or_404(_projects_in_reach(request.user), pk=project_id) if project_id else None
        entry = services.record_restoration(actor=request.user, project=project, **data)
        return self._created(entry)

    @extend_schema(
        summary="登记新增保护（按所选核算批次中的调节服务价值计入；每项资源只计一次）",
        request=GepProtectionInput,
        responses={201: GepEntrySerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=False, methods=["post"])
    def protection(self, request):
        _require_desk(request.user)
        payload = GepProtectionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        entry = services.record_protection(actor=request.user, **payload.validated_data)
        return self._created(entry)

    @extend_schema(
        summary="退库或撤回项目返还其占用（一次；建成达效退库的不返还）",
        request=GepReleaseInput,
        responses={201: GepEntrySerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=False, methods=["post"])
    def release(self, request):
        _require_desk(request.user)
        payload = GepReleaseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        project = get_object_or_404(_projects_in_reach(request.user), pk=data.pop("project"))
        entry = services.release_project_debit(actor=request.user, project=project, **data)
        return self._created(entry)

    @extend_schema(
        summary="冲正一笔记录（冲正记录不能再冲正；会使余额为负时拒绝并给出缺口）",
        request=GepReverseInput,
        responses={201: GepEntrySerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        entry = self.get_object()
        payload = GepReverseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        reversal = services.reverse_entry(actor=request.user, entry=entry, **payload.validated_data)
        return self._created(reversal)


def register(router):
    router.register("gep-balances", GepBalanceViewSet, basename="gep-balance")
    router.register("gep-entries", GepEntryViewSet, basename="gep-entry")
