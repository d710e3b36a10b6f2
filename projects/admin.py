"""The projects app in Django's admin: for looking, not for writing (every write goes through
projects.services, which validate, lock and audit). The monitoring schedules and each job's
parameters are edited in django-celery-beat's own admin (周期任务), not here."""

from django.contrib import admin

from resources.admin import ReadOnlyAdmin

from .models import (
    CriteriaSet,
    EquityStake,
    EvaluationScheme,
    GepBalance,
    GepBalanceEntry,
    GepBalanceRule,
    KeyProject,
    MonitorAlert,
    MonitorRun,
    PerformanceEvaluation,
    RedLine,
    RedLineReading,
)


@admin.register(KeyProject)
class KeyProjectAdmin(ReadOnlyAdmin):
    list_display = ("number", "name", "category", "owner", "division", "status", "admitted_on")
    list_filter = ("status", "category")
    search_fields = ("number", "name")


@admin.register(CriteriaSet)
class CriteriaSetAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "status", "published_at")


@admin.register(GepBalanceRule)
class GepBalanceRuleAdmin(ReadOnlyAdmin):
    list_display = ("division", "offset_ratio", "warning_balance", "effective_from")


@admin.register(GepBalance)
class GepBalanceAdmin(ReadOnlyAdmin):
    list_display = ("division", "balance", "updated_at")


@admin.register(GepBalanceEntry)
class GepBalanceEntryAdmin(ReadOnlyAdmin):
    list_display = ("number", "division", "kind", "amount", "balance_after", "occurred_on")
    list_filter = ("kind",)


@admin.register(EquityStake)
class EquityStakeAdmin(ReadOnlyAdmin):
    list_display = ("cooperative", "investee", "amount", "share", "acquired_on", "disposed_on")


@admin.register(RedLine)
class RedLineAdmin(ReadOnlyAdmin):
    list_display = ("key", "cooperative", "direction", "limit", "warning")


@admin.register(RedLineReading)
class RedLineReadingAdmin(ReadOnlyAdmin):
    list_display = ("cooperative", "key", "as_of", "value", "status")
    list_filter = ("key", "status")


@admin.register(EvaluationScheme)
class EvaluationSchemeAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "is_active")


@admin.register(PerformanceEvaluation)
class PerformanceEvaluationAdmin(ReadOnlyAdmin):
    list_display = ("cooperative", "period_start", "period_end", "total_score", "rank")


@admin.register(MonitorRun)
class MonitorRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "status", "checked", "raised", "resolved", "started_at", "finished_at")
    list_filter = ("job", "status")


@admin.register(MonitorAlert)
class MonitorAlertAdmin(ReadOnlyAdmin):
    list_display = ("job", "title", "level", "raised_at", "last_seen_at", "resolved_at")
    list_filter = ("job", "level")
    search_fields = ("title", "key")
