"""One shape for every list page (NetBox style): a restricted queryset, a FilterSet shared with the
API, declared columns, sorting, pagination and XLSX export of the filtered rows."""

from dataclasses import dataclass
from io import BytesIO

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from openpyxl import Workbook

EXPORT_ROW_LIMIT = 50_000


@dataclass(frozen=True)
class Column:
    label: str
    accessor: str  # attribute path, "get_kind_display" style methods are called
    sort: str | None = None  # ORM ordering field; None = not sortable
    link: bool = False  # render as a link to the row's get_absolute_url

    def value(self, obj):
        for part in self.accessor.split("."):
            obj = getattr(obj, part, None)
            if callable(obj):
                obj = obj()
            if obj is None:
                return ""
        return obj


class ObjectListView(View):
    template_name = "tmcs/object_list.html"
    title = ""
    columns: list[Column] = []
    filterset_class = None
    default_sort = None
    paginate_by = 25
    export_name = "export"
    create_url = None  # URL of the "new" page when the user may create
    export_row_limit = EXPORT_ROW_LIMIT

    def get_queryset(self):
        raise NotImplementedError

    def get_create_url(self):
        return self.create_url

    def get_extra_context(self):
        return {}

    def get(self, request):
        queryset = self.get_queryset()
        filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        if filterset.is_bound and not filterset.is_valid():
            rows = queryset.none()
        sort = request.GET.get("sort", "")
        sortable = {c.sort for c in self.columns if c.sort}
        if sort.lstrip("-") in sortable:
            rows = rows.order_by(sort, "pk")
        elif self.default_sort:
            rows = rows.order_by(*self.default_sort)
        if request.GET.get("export") == "xlsx":
            return self.export(rows)
        page = Paginator(rows, self.paginate_by).get_page(request.GET.get("page"))
        self.shown = list(page.object_list)  # for subclasses that audit what was displayed
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "title": self.title,
            "columns": self.columns,
            "filterset": filterset,
            "page": page,
            "rows": [(obj, [(c, c.value(obj)) for c in self.columns]) for obj in self.shown],
            "sort": sort,
            "query": query.urlencode(),
            "query_without_sort": _without(query, "sort"),
            "create_url": self.get_create_url(),
            **self.get_extra_context(),
        }
        return render(request, self.template_name, context)

    def export(self, rows):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(self.title[:31] or "data")
        sheet.append([str(c.label) for c in self.columns])
        for obj in rows[: self.export_row_limit]:
            sheet.append([_cell(c.value(obj)) for c in self.columns])
        buffer = BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{self.export_name}-{stamp}.xlsx"'
        return response


def _cell(value):
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, int | float | str) or value is None or hasattr(value, "isoformat"):
        return value
    return str(value)


def _without(query, key):
    query = query.copy()
    query.pop(key, None)
    return query.urlencode()
