"""`/api/v1/projects/projects/`: the key project list.

Cooperative staff (and city administrators) read and prepare projects in their divisions and
review, evaluate and exit them; an owner's members (investors, village clerks) read and prepare
their own organization's projects only (404 for anyone else's). Actions: `submit`, `review`
(admission posts the GEP debit; a shortfall answers 409 `gep_shortfall` with `fields.shortfall`
and writes nothing), `evaluate`, `exit`, `withdraw`, `showcase`, and `gep-check` (the reviewer's
preview). Errors are `{code, detail, fields}`."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability, can
from finance.models import Loan
from resources.models import Asset
from tmcs.errors import PermissionDeniedError
from transactions.models import ResourcePackage

from ..forms_projects import ProjectFilter
from ..models import (
    EvaluationOutcome,
    ExitReason,
    KeyProject,
    ProjectCategory,
    ProjectConsumption,
    ProjectEvaluation,
    ProjectReview,
    ReviewDecision,
)
from ..selectors_projects import projects_for
from ..services import projects as services

ERROR = OpenApiResponse(description="{code, detail, fields}")


# --- read ---------------------------------------------------------------------------------------


class ConsumptionSerializer(serializers.ModelSerializer):
    asset = serializers.CharField(source="asset.code")

    class Meta:
        model = ProjectConsumption
        fields = ["asset", "fraction", "note"]


class ProjectSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.name")
    division_code = serializers.CharField(source="division.code")
    division_name = serializers.CharField(source="division.name")
    criteria_version = serializers.CharField(source="criteria_set.version", default=None)
    assets = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    packages = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    loans = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    consumptions = ConsumptionSerializer(many=True, read_only=True)

    class Meta:
        model = KeyProject
        fields = [
            "id",
            "number",
            "name",
            "category",
            "owner",
            "owner_name",
            "division_code",
            "division_name",
            "summary",
            "description",
            "total_investment",
            "social_capital",
            "expected_gep_gain",
            "planned_start",
            "planned_end",
            "status",
            "criteria_version",
            "submitted_at",
            "admitted_on",
            "exited_on",
            "exit_reason",
            "exit_note",
            "showcase",
            "showcase_contact",
            "assets",
            "packages",
            "loans",
            "consumptions",
            "created_at",
        ]


class CriterionResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    method = serializers.CharField()
    threshold = serializers.CharField(allow_null=True)
    automatic = serializers.BooleanField()
    met = serializers.BooleanField(allow_null=True)
    detail = serializers.CharField()


class ReviewSerializer(serializers.ModelSerializer):
    criteria_version = serializers.CharField(source="criteria_set.version")
    criteria_results = CriterionResultSerializer(many=True)
    project_status = serializers.CharField(source="project.status")

    class Meta:
        model = ProjectReview
        fields = [
            "id",
            "project",
            "project_status",
            "criteria_version",
            "decision",
            "note",
            "criteria_results",
            "gep_check",
            "prepared_by",
            "reviewer",
            "reviewed_at",
        ]


class EvaluationSerializer(serializers.ModelSerializer):
    criteria_results = CriterionResultSerializer(many=True)

    class Meta:
        model = ProjectEvaluation
        fields = [
            "id",
            "project",
            "period_start",
            "period_end",
            "investment_to_date",
            "progress_note",
            "jobs_created",
            "gep_change",
            "criteria_results",
            "outcome",
            "note",
            "evaluator",
            "evaluated_at",
        ]


class GepCheckSerializer(serializers.Serializer):
    gep_check = serializers.DictField()
    criteria_version = serializers.CharField(allow_null=True)
    criteria_results = CriterionResultSerializer(many=True)


# --- write --------------------------------------------------------------------------------------


class ConsumptionInputSerializer(serializers.Serializer):
    asset = serializers.CharField(max_length=30, help_text="资源编号")
    fraction = serializers.DecimalField(max_digits=8, decimal_places=6, help_text="0–1")
    note = serializers.CharField(max_length=300)


def _resolve(queryset, key, codes, field):
    """Records for the given codes, or a 400 naming the unknown ones."""
    found = {getattr(obj, key).upper(): obj for obj in queryset.filter(**{f"{key}__in": codes})}
    unknown = [code for code in codes if code.upper() not in found]
    if unknown:
        raise serializers.ValidationError(
            {field: [_("找不到以下编号：%(codes)s") % {"codes": "、".join(unknown)}]}
        )
    return list({obj.pk: obj for obj in found.values()}.values())


class ProjectInputSerializer(serializers.Serializer):
    division = serializers.SlugRelatedField(slug_field="code", queryset=AdministrativeDivision.objects.all())
    name = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=ProjectCategory.choices)
    summary = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    total_investment = serializers.DecimalField(max_digits=16, decimal_places=2)
    social_capital = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, default="0.00")
    expected_gep_gain = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, default="0.00"
    )
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    assets = serializers.ListField(child=serializers.CharField(max_length=30), required=False, default=list)
    packages = serializers.ListField(child=serializers.CharField(max_length=30), required=False, default=list)
    loans = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list)
    consumptions = ConsumptionInputSerializer(many=True, required=False, default=list)
    showcase_contact = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_assets(self, codes):
        return _resolve(Asset.objects.defer("geometry"), "code", codes, "assets") if codes else []

    def validate_packages(self, codes):
        return _resolve(ResourcePackage.objects.all(), "code", codes, "packages") if codes else []

    def validate_loans(self, codes):
        return _resolve(Loan.objects.all(), "number", codes, "loans") if codes else []

    def validate_consumptions(self, rows):
        assets = {
            a.code.upper(): a
            for a in Asset.objects.defer("geometry").filter(code__in=[r["asset"] for r in rows])
        }
        unknown = [r["asset"] for r in rows if r["asset"].upper() not in assets]
        if unknown:
            raise serializers.ValidationError(_("找不到以下资源：%(codes)s") % {"codes": "、".join(unknown)})
        return [(assets[r["asset"].upper()], r["fraction"], r["note"]) for r in rows]


class ProjectCreateSerializer(ProjectInputSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))


class ProjectUpdateSerializer(ProjectInputSerializer):
    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)  # partial: defaults are not applied, only what is sent changes


class ManualMarkSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    met = serializers.BooleanField()
    reason = serializers.CharField(max_length=300)


class ReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    manual = ManualMarkSerializer(many=True, required=False, default=list)


class EvaluationInputSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    investment_to_date = serializers.DecimalField(max_digits=16, decimal_places=2)
    progress_note = serializers.CharField(max_length=5000)
    jobs_created = serializers.IntegerField(min_value=0, max_value=1_000_000)
    outcome = serializers.ChoiceField(choices=EvaluationOutcome.choices)
    note = serializers.CharField(max_length=1000)
    manual = ManualMarkSerializer(many=True, required=False, default=list)


class ExitInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ExitReason.choices)
    note = serializers.CharField(max_length=500)
    exited_on = serializers.DateField()


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ShowcaseInputSerializer(serializers.Serializer):
    showcase = serializers.BooleanField()
    contact = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


# --- viewset -------------------------------------------------------------------------------------


@extend_schema(tags=["projects: key projects"])
class KeyProjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter

    def get_queryset(self):
        return (
            projects_for(self.request.user)
            .defer(None)
            .prefetch_related(
                Prefetch("assets", Asset.objects.only("pk", "code").order_by("code")),
                Prefetch("packages", ResourcePackage.objects.only("pk", "code").order_by("code")),
                Prefetch("loans", Loan.objects.only("pk", "number").order_by("number")),
                Prefetch(
                    "consumptions",
                    ProjectConsumption.objects.select_related("asset").defer("asset__geometry"),
                ),
            )
            .order_by("-pk")
        )

    def _respond(self, project, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=project.pk)).data, status=code)

    @extend_schema(
        summary="填报重点项目（合作社工作人员；或项目业主的经办人为本单位填报，区划须在本单位所在县）",
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer, 400: ERROR, 403: ERROR},
        examples=[
            OpenApiExample(
                "生态旅游",
                value={
                    "owner": 6,
                    "division": "331102199201",
                    "name": "示范村森林康养基地",
                    "category": "eco_tourism",
                    "summary": "利用闲置农房和林地发展森林康养",
                    "total_investment": "3000000.00",
                    "social_capital": "2000000.00",
                    "expected_gep_gain": "50000.00",
                    "planned_start": "2026-03-01",
                    "planned_end": "2028-03-01",
                    "assets": ["ZY331102199201000001"],
                    "consumptions": [
                        {"asset": "ZY331102199201000001", "fraction": "0.25", "note": "林地转为建设用地"}
                    ],
                    "showcase_contact": "0578-2123456",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        user = request.user
        if not (can(user, Capability.MANAGE_PROJECTS) or can(user, Capability.APPLY_PROJECTS)):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        payload = ProjectCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        project = services.create_project(actor=user, **payload.validated_data)
        return self._respond(project, status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改草稿或已退回的项目（只改所传字段；关联列表整体替换）",
        request=ProjectUpdateSerializer,
        responses={200: ProjectSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def partial_update(self, request, pk=None):
        project = self.get_object()
        payload = ProjectUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.update_project(actor=request.user, project=project, **payload.validated_data)
        )

    @extend_schema(
        summary="提交审核",
        request=None,
        responses={200: ProjectSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._respond(services.submit_project(actor=request.user, project=self.get_object()))

    @extend_schema(
        summary="审核入库前的 GEP 占补平衡测算与准入标准评定（不写入）",
        request=None,
        responses={200: GepCheckSerializer, 404: ERROR},
    )
    @action(detail=True, methods=["get"], url_path="gep-check")
    def gep_check(self, request, pk=None):
        project = self.get_object()
        criteria_set = project.criteria_set or services.published_criteria_set()
        results = services.evaluate_criteria(project, criteria_set) if criteria_set else []
        return Response(
            GepCheckSerializer(
                {
                    "gep_check": services.gep_preview(project),
                    "criteria_version": criteria_set.version if criteria_set else None,
                    "criteria_results": results,
                }
            ).data
        )

    @extend_schema(
        summary="入库审核（另一位工作人员）：同意入库时登记 GEP 占用，余额不足返回 409 gep_shortfall",
        request=ReviewInputSerializer,
        responses={201: ReviewSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        examples=[
            OpenApiExample(
                "同意入库",
                value={
                    "decision": "admit",
                    "note": "符合入库标准",
                    "manual": [{"code": "C4", "met": True, "reason": "符合国土空间规划"}],
                },
                request_only=True,
            ),
            OpenApiExample(
                "GEP 缺口",
                value={
                    "code": "gep_shortfall",
                    "detail": "莲都区 GEP 占补平衡余额不足……缺口 40000.00 元。",
                    "fields": {"shortfall": "40000.00", "balance": "10000.00", "debit": "50000.00"},
                },
                response_only=True,
                status_codes=["409"],
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        project = self.get_object()
        payload = ReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review = services.review_project(actor=request.user, project=project, **payload.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="定期评价（已入库项目）",
        request=EvaluationInputSerializer,
        responses={201: EvaluationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        project = self.get_object()
        payload = EvaluationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        evaluation = services.evaluate_project(actor=request.user, project=project, **payload.validated_data)
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="退库（建成达效、不再符合标准、违法违规、业主申请）",
        request=ExitInputSerializer,
        responses={200: ProjectSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="exit")
    def exit_(self, request, pk=None):
        project = self.get_object()
        payload = ExitInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.exit_project(actor=request.user, project=project, **payload.validated_data)
        )

    @extend_schema(
        summary="撤回草稿或待审核的项目（填报人或业主）",
        request=WithdrawInputSerializer,
        responses={200: ProjectSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        project = self.get_object()
        payload = WithdrawInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.withdraw_project(actor=request.user, project=project, **payload.validated_data)
        )

    @extend_schema(
        summary="设置招商推介展示（已入库项目；联系方式不得为个人手机）",
        request=ShowcaseInputSerializer,
        responses={200: ProjectSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def showcase(self, request, pk=None):
        project = self.get_object()
        payload = ShowcaseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.set_showcase(actor=request.user, project=project, **payload.validated_data)
        )


def register(router):
    router.register("projects", KeyProjectViewSet, basename="project")
