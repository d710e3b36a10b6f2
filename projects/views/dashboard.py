"""The leaders' dashboard page (领导驾驶舱) and its XLSX export: division and year pickers, KPI
cards, ECharts charts (each downloadable as PNG), a Leaflet map of the assets coloured by status,
a table under every chart, and a print stylesheet. The figures come from
`projects.selectors_dashboard.dashboard_data`; the charts only draw them."""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from tmcs.errors import DomainError, PermissionDeniedError

from ..selectors_dashboard import (
    FIRST_YEAR,
    dashboard_data,
    jsonable,
    may_view_dashboard,
    parse_query,
    picker_divisions,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
RATIO_FORMAT = "0.00%"


def _query(request):
    """(division, year) or raises: PermissionDenied (403), Http404, DomainError (400)."""
    if not may_view_dashboard(request.user):
        raise PermissionDenied(_("您没有查看领导驾驶舱的权限。"))
    try:
        return parse_query(request.user, request.GET.get("division"), request.GET.get("year"))
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None


def dashboard(request):
    try:
        division, year = _query(request)
    except DomainError as exc:
        return render(
            request,
            "projects/dashboard/dashboard.html",
            {"errors": exc.fields, "detail": exc.detail},
            status=400,
        )
    data = dashboard_data(request.user, division, year)
    this_year = timezone.localdate().year
    query = request.GET.copy()
    query["division"], query["year"] = division.code, str(year)
    context = {
        "data": data,
        "division": division,
        "year": year,
        "divisions": picker_divisions(request.user, division),
        "years": list(range(this_year, max(FIRST_YEAR, this_year - 14) - 1, -1)),
        "chart_data": _chart_data(data),
        "map_data": jsonable(data["resources"]["map"]),
        "tile_url": settings.TMCS_MAP_TILE_URL,
        "query": query.urlencode(),
    }
    return render(request, "projects/dashboard/dashboard.html", context)


def _chart_data(data):
    """What the charts draw, with decimal strings (ECharts parses them; no float carries money
    on the server). Labels come translated from the server."""
    return jsonable(
        {
            "gep": {"categories": data["gep"]["categories"], "years": data["gep"]["years"]},
            "gep_children": data["gep"]["children"],
            "children_year": data["gep"]["children_year"],
            "trading": data["trading"]["months"],
            "buckets": data["loans"]["buckets"],
            "projects": data["projects"]["by_category"],
            "labels": {
                "collection": _("收储合同年度金额"),
                "trade": _("交易合同总价"),
                "collection_count": _("收储合同（份）"),
                "trade_count": _("交易合同（份）"),
                "loans_n": _("%(n)s 笔"),
                "outstanding": _("贷款余额"),
                "projects": _("项目数"),
                "admitted": _("已入库"),
                "wan": _("万元"),
                "month": _("%(month)s月"),
                "save": _("下载图片"),
            },
            "division": data["division"]["name"],
            "year": data["year"],
        }
    )


# --- XLSX --------------------------------------------------------------------------------------


def dashboard_export(request):
    """Every table of the dashboard in one workbook, one sheet per block."""
    try:
        division, year = _query(request)
    except DomainError as exc:
        return HttpResponse(str(exc.detail), status=400, content_type="text/plain; charset=utf-8")
    data = dashboard_data(request.user, division, year)
    book = build_workbook(data)
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="dashboard-{division.code}-{year}.xlsx"'
    return response


def _sheet(book, title, header, rows, money=(), ratio=()):
    sheet = book.create_sheet(title[:31])
    sheet.append([str(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for column in money:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
            cell.number_format = MONEY_FORMAT
    for column in ratio:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
            cell.number_format = RATIO_FORMAT
    for index, label in enumerate(header):
        sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = max(
            12, len(str(label)) * 2 + 2
        )
    return sheet


def build_workbook(data):
    """The dashboard's tables as a workbook (Decimals stay exact numbers in the cells)."""
    book = Workbook()
    book.remove(book.active)
    gep, resources, trading = data["gep"], data["resources"], data["trading"]
    loans, projects = data["loans"], data["projects"]
    balance = data["gep_balance"]
    main = balance["main"]
    _sheet(
        book,
        _("概况"),
        [_("指标"), _("数值")],
        [
            (_("区划"), f"{data['division']['name']}（{data['division']['code']}）"),
            (_("年份"), data["year"]),
            (_("数据日期"), data["as_of"]),
            (_("GEP 年份"), gep["latest_year"] or ""),
            (_("GEP（元）"), gep["latest_total"] if gep["latest_total"] is not None else ""),
            (_("在册资源（个）"), resources["total"]["count"]),
            (_("在册资源面积（亩）"), resources["total"]["area_mu"]),
            (_("收储合同年度金额（元）"), trading["totals"]["collection_amount"]),
            (_("交易合同总价（元）"), trading["totals"]["trade_amount"]),
            (_("挂牌中项目（个）"), trading["open_listings"]["count"]),
            (_("在贷余额（元）"), loans["outstanding_principal"]),
            (_("不良贷款余额（元）"), loans["non_performing_principal"]),
            (_("不良率"), loans["non_performing_ratio"] if loans["non_performing_ratio"] is not None else ""),
            (_("入库重点项目（个）"), projects["admitted_totals"]["count"]),
            (_("入库项目总投资（元）"), projects["admitted_totals"]["total_investment"]),
            (_("其中社会资本（元）"), projects["admitted_totals"]["social_capital"]),
            (_("GEP 占补平衡余额（元）"), main["balance"] if main else ""),
        ],
    )
    labels = {c["key"]: c["label"] for c in gep["categories"]}
    sources = {"run": _("核算批次"), "children": _("下级汇总"), "": ""}
    _sheet(
        book,
        _("GEP历年"),
        [_("年份"), labels["material"], labels["regulating"], labels["cultural"], _("合计（元）"), _("来源")],
        [
            (y["year"], y["material"], y["regulating"], y["cultural"], y["total"], sources[y["source"]])
            for y in gep["years"]
        ],
        money=(1, 2, 3, 4),
    )
    _sheet(
        book,
        _("GEP下级区划"),
        [
            _("区划代码"),
            _("区划"),
            _("年份"),
            labels["material"],
            labels["regulating"],
            labels["cultural"],
            _("合计（元）"),
        ],
        [
            (
                c["code"],
                c["name"],
                gep["children_year"],
                c["material"],
                c["regulating"],
                c["cultural"],
                c["total"],
            )
            for c in gep["children"]
        ],
        money=(3, 4, 5, 6),
    )
    resource_header = [_("项目"), _("资源数（个）"), _("面积（m²）"), _("面积（亩）")]
    _sheet(
        book,
        _("资源按状态"),
        resource_header,
        [(r["label"], r["count"], r["area_m2"], r["area_mu"]) for r in resources["by_status"]],
        money=(2, 3),
    )
    _sheet(
        book,
        _("资源按类别"),
        resource_header,
        [(r["label"], r["count"], r["area_m2"], r["area_mu"]) for r in resources["by_family"]],
        money=(2, 3),
    )
    _sheet(
        book,
        _("月度交易"),
        [_("月份"), _("收储合同（份）"), _("收储年度金额（元）"), _("交易合同（份）"), _("交易总价（元）")],
        [
            (m["month"], m["collection_count"], m["collection_amount"], m["trade_count"], m["trade_amount"])
            for m in trading["months"]
        ],
        money=(2, 4),
    )
    _sheet(
        book,
        _("贷款逾期分档"),
        [_("分档"), _("笔数"), _("剩余本金（元）"), _("逾期本金（元）")],
        [(b["label"], b["count"], b["outstanding"], b["overdue_principal"]) for b in loans["buckets"]],
        money=(2, 3),
    )
    _sheet(
        book,
        _("项目状态"),
        [_("状态"), _("项目数")],
        [(s["label"], s["count"]) for s in projects["by_status"]],
    )
    _sheet(
        book,
        _("项目类型"),
        [_("类型"), _("项目数"), _("其中已入库")],
        [(c["label"], c["count"], c["admitted"]) for c in projects["by_category"]],
    )
    _sheet(
        book,
        _("入库项目"),
        [
            _("项目编号"),
            _("项目名称"),
            _("类型"),
            _("业主"),
            _("区划"),
            _("总投资（元）"),
            _("社会资本（元）"),
            _("预期 GEP 增量（元/年）"),
            _("入库日期"),
        ],
        [
            (
                p["number"],
                p["name"],
                p["category_label"],
                p["owner"],
                p["division"],
                p["total_investment"],
                p["social_capital"],
                p["expected_gep_gain"],
                p["admitted_on"],
            )
            for p in projects["admitted"]
        ],
        money=(5, 6, 7),
    )
    status_labels = {"ok": _("正常"), "warning": _("预警"), "negative": _("为负")}
    _sheet(
        book,
        _("占补平衡"),
        [_("平衡区划"), _("区划代码"), _("余额（元）"), _("预警线（元）"), _("状态")],
        [
            (b["name"], b["code"], b["balance"], b["warning"], status_labels[b["status"]])
            for b in ([main] if main else []) + balance["below"]
        ],
        money=(2, 3),
    )
    _sheet(
        book,
        _("风险红线"),
        [_("合作社"), _("指标"), _("日期"), _("数值"), _("红线"), _("预警线"), _("状态")],
        [
            (
                r["cooperative"],
                r["label"],
                r["as_of"],
                r["value"],
                r["limit"],
                r["warning"],
                r["status_label"],
            )
            for r in data["red_lines"]["readings"]
        ],
    )
    _sheet(
        book,
        _("下级区划对比"),
        [
            _("区划代码"),
            _("区划"),
            _("GEP（元）"),
            _("在册资源（个）"),
            _("面积（亩）"),
            _("收储年度金额（元）"),
            _("交易总价（元）"),
            _("挂牌中"),
            _("在贷笔数"),
            _("在贷余额（元）"),
            _("不良率"),
            _("入库项目"),
            _("入库项目总投资（元）"),
        ],
        [
            (
                c["code"],
                c["name"],
                c["gep_total"] if c["gep_total"] is not None else "",
                c["assets"],
                c["area_mu"],
                c["collection_amount"],
                c["trade_amount"],
                c["open_listings"],
                c["loans"],
                c["outstanding_principal"],
                c["non_performing_ratio"] if c["non_performing_ratio"] is not None else "",
                c["admitted_projects"],
                c["admitted_investment"],
            )
            for c in data["children"]
        ],
        money=(2, 4, 5, 6, 9, 12),
        ratio=(10,),
    )
    return book


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/export.xlsx", dashboard_export, name="dashboard-export"),
]
