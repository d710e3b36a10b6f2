"""`/api/v1/projects/monitor-runs/` and `/monitor-alerts/`.

Read with VIEW_OVERSIGHT (403 without it): runs are platform-wide, alerts are limited to the
caller's divisions (404 outside them). `POST monitor-runs/` {job, params} (MANAGE_OVERSIGHT) checks
the job and its parameters at once (400 with the field), records the run and queues the Celery task
after commit; it answers 202 with the run, whose status moves from running to succeeded/failed."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from directory.permissions import Capability, can
from tmcs.errors import PermissionDeniedError

from ..forms_monitoring import AlertFilter, RunFilter
from ..models import MonitorAlert, MonitorJob, MonitorRun
from ..selectors_monitoring import alerts_for, runs_for
from ..services import monitoring as services

ERROR = OpenApiResponse(description="{code, detail, fields}")


class MonitorRunSerializer(serializers.ModelSerializer):
    triggered_by = serializers.CharField(source="triggered_by.username", default=None)

    class Meta:
        model = MonitorRun
        fields = [
            "id",
            "job",
            "params",
            "status",
            "checked",
            "raised",
            "resolved",
            "error",
            "triggered_by",
            "started_at",
            "finished_at",
        ]


class MonitorRunCreateSerializer(serializers.Serializer):
    job = serializers.ChoiceField(choices=MonitorJob.choices)
    params = serializers.DictField(required=False, default=dict)


class MonitorAlertSerializer(serializers.ModelSerializer):
    division_code = serializers.CharField(source="division.code", default=None)
    division_name = serializers.CharField(source="division.name", default=None)
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = MonitorAlert
        fields = [
            "id",
            "job",
            "key",
            "level",
            "title",
            "body",
            "link",
            "division_code",
            "division_name",
            "raised_by",
            "raised_at",
            "last_seen_at",
            "resolved_at",
            "is_open",
        ]

    def get_is_open(self, alert) -> bool:
        return alert.resolved_at is None


class _OversightViewSet(viewsets.ReadOnlyModelViewSet):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not can(request.user, Capability.VIEW_OVERSIGHT):
            raise PermissionDeniedError(_("您没有权限查看监测信息。"))


@extend_schema(tags=["projects: monitoring"])
class MonitorRunViewSet(_OversightViewSet):
    serializer_class = MonitorRunSerializer
    filterset_class = RunFilter

    def get_queryset(self):
        return runs_for(self.request.user).order_by("-started_at", "-pk")

    @extend_schema(
        summary="立即运行监测任务（任务在提交后由 Celery 执行）",
        request=MonitorRunCreateSerializer,
        responses={202: MonitorRunSerializer, 400: ERROR, 403: ERROR},
        examples=[
            OpenApiExample(
                "租赁合同到期", value={"job": "leases_expiring", "params": {"days": 30}}, request_only=True
            )
        ],
    )
    def create(self, request):
        payload = MonitorRunCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        run = services.request_run(actor=request.user, **payload.validated_data)
        run.refresh_from_db()  # an eager task (tests, CELERY_TASK_ALWAYS_EAGER) has finished it
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["projects: monitoring"])
class MonitorAlertViewSet(_OversightViewSet):
    serializer_class = MonitorAlertSerializer
    filterset_class = AlertFilter

    def get_queryset(self):
        return alerts_for(self.request.user).order_by("-raised_at", "-pk")


def register(router):
    router.register("monitor-runs", MonitorRunViewSet, basename="monitor-run")
    router.register("monitor-alerts", MonitorAlertViewSet, basename="monitor-alert")
