"""`/api/v1/finance/collateral/?asset=|certificate=|holder_id=|holder_uscc=`: the bank-facing
collateral lookup (押品查询). Reads only; every call made with a token is logged by
`directory.middleware.ApiRequestLogMiddleware`, and this view tells the log which persons' data
(name, masked ID) the answer carried. Throttled per bank (`BankRateThrottle`) and per user."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.throttling import UserRateThrottle

from directory.middleware import note_personal_data
from directory.models import AccessChannel, ApiToken, Person
from directory.services import log_person_reads
from resources.models import Asset
from tmcs.audit import client_ip
from tmcs.ids import IdentifierError, mask_national_id, normalize_national_id

from ..selectors_collateral import (
    collateral_queryset,
    collateral_viewer,
    lookup_assets,
    lookup_parameters,
    require_found,
    valuation_history,
)
from .serializers_collateral import PERSON_FIELDS, CollateralLookupSerializer, collateral_context
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description="{code, detail, fields}")

EXAMPLE_ASSET = {
    "id": 1024,
    "code": "ZY33110219920100000042",
    "name": "示范村后山杉木林",
    "resource_type": {"code": "forest", "name": "林地"},
    "division": {"code": "331102199201", "name": "示范村"},
    "status": "pledged",
    "area_m2": "10856.21",
    "area_mu": "16.28",
    "four_boundaries": {"east": "至山脊", "south": "至村道", "west": "至溪沟", "north": "至王家林地"},
    "bbox": [119.92, 28.45, 119.921, 28.451],
    "attributes": {"dominant_species": "杉木", "age_class": "中龄林", "forest_class": "商品林"},
    "public_forest": False,
    "rights": [
        {
            "id": 2048,
            "kind": "contract",
            "kind_display": "承包权",
            "holder": {
                "kind": "person",
                "name": "张山林",
                "national_id_masked": "331102********0135",
                "uscc": None,
            },
            "share": "1",
            "valid_from": "2020-01-01",
            "valid_to": None,
            "certificate_number": "浙(2020)莲都区林权第0001234号",
            "status": "active",
        }
    ],
    "encumbrances": [
        {
            "kind": "pledge",
            "kind_display": "质押",
            "own": False,
            "right": None,
            "rank": 1,
            "secured_amount": "200000.00",
            "registered_at": "2026-03-02T10:15:00+08:00",
            "valid_from": "2026-03-01",
            "valid_to": "2029-03-01",
            "holder": {"kind": "hidden", "name": "其他机构", "national_id_masked": None, "uscc": None},
            "pledge_number": None,
            "bank_reference": None,
            "reason": "",
        },
        {
            "kind": "pledge",
            "kind_display": "质押",
            "own": True,
            "right": 2048,
            "rank": 2,
            "secured_amount": "150000.00",
            "registered_at": "2026-06-18T09:00:00+08:00",
            "valid_from": "2026-06-18",
            "valid_to": None,
            "holder": {
                "kind": "organization",
                "name": "丽水示范农村商业银行",
                "national_id_masked": None,
                "uscc": "91331100MA2D000040",
            },
            "pledge_number": "ZY2026000017",
            "bank_reference": "LS-2026-0618-01",
            "reason": "",
        },
    ],
    "valuations": [
        {
            "run_id": 88,
            "year": 2025,
            "total": "100000.00",
            "accepted_at": "2026-04-10T16:20:00+08:00",
            "price_basis": "current",
            "parameter_set": "丽水市 GEP 核算参数 v3",
            "standard": "DB33/T 2274-2025",
        }
    ],
    "appraisals": [
        {
            "number": "PG2026000031",
            "right": 2048,
            "product_code": "GEP01",
            "product_name": "生态贷",
            "appraised_value": "800000.00",
            "haircut": "0.200000",
            "collateral_value": "640000.00",
            "ltv": "0.600000",
            "max_loan": "384000.00",
            "method": "收益法（GEP 收益现值）与市场法取低",
            "appraiser": "莲都区两山合作社",
            "appraiser_licence_no": "",
            "appraised_on": "2026-06-01",
            "valid_until": "2027-06-01",
            "is_valid": True,
        }
    ],
}


def _lookup_parameter(name, description):
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description=description
    )


@extend_schema(tags=["finance: collateral"])
class CollateralViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CollateralLookupSerializer
    throttle_classes = [UserRateThrottle, BankRateThrottle]
    filter_backends = []  # the lookup keys are validated by hand: exactly one of them

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request to look up
            return Asset.objects.none()
        viewer = collateral_viewer(self.request.user)
        name, value = lookup_parameters(self.request.query_params)
        self.viewer, self.lookup_name = viewer, name
        return collateral_queryset(viewer, lookup_assets(viewer, name, value))

    @extend_schema(
        summary="押品查询（按资产、证书号、权利人身份证号或统一社会信用代码，四选一）",
        description=(
            "返回资产的面积（PostGIS 于 EPSG:4549 计算）、四至或外接矩形、公益林标志、现行权利（自然人仅姓名和"
            "脱敏身份证号）、现行权利限制（抵押/质押按顺位，他行的抵质押仅显示顺位、金额、日期和“其他机构”；"
            "租赁；冻结）、已采纳的 GEP 核算历史和本行的押品评估。按身份证号查询须借款人已向本行授权，"
            "否则一律返回 404 `not_authorised_by_holder`（不透露该人是否存在）。每次调用均记入接口访问日志。"
        ),
        parameters=[
            _lookup_parameter("asset", "资源资产 id 或资源编号"),
            _lookup_parameter("certificate", "权利证书编号（如林权证号）或确权登记证明编号"),
            _lookup_parameter(
                "holder_id", "权利人身份证号码（18位，校验位检查；按密钥摘要匹配，不保存、不返回明文）"
            ),
            _lookup_parameter("holder_uscc", "权利人统一社会信用代码（18位，校验位检查）"),
        ],
        responses={
            200: CollateralLookupSerializer(many=True),
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            429: ERROR,
        },
        examples=[
            OpenApiExample("按资源编号查询", value=EXAMPLE_ASSET, response_only=True, status_codes=["200"]),
            OpenApiExample(
                "查询条件不是恰好一个",
                value={
                    "code": "invalid",
                    "detail": "请只提供一个查询条件：asset、certificate、holder_id 或 holder_uscc。",
                    "fields": {
                        "asset": ["请只提供一个查询条件：asset、certificate、holder_id 或 holder_uscc。"],
                        "holder_id": ["请只提供一个查询条件：asset、certificate、holder_id 或 holder_uscc。"],
                    },
                },
                response_only=True,
                status_codes=["400"],
            ),
            OpenApiExample(
                "身份证号校验位错误",
                value={
                    "code": "invalid",
                    "detail": "提交的数据有误，请检查各字段。",
                    "fields": {"holder_id": ["身份证号码校验位不正确。"]},
                },
                response_only=True,
                status_codes=["400"],
            ),
            OpenApiExample(
                "权利人未授权本行",
                value={
                    "code": "not_authorised_by_holder",
                    "detail": "未找到已授权本机构查询的权利人。",
                    "fields": {},
                },
                response_only=True,
                status_codes=["404"],
            ),
            OpenApiExample(
                "超过调用频率",
                value={
                    "code": "throttled",
                    "detail": "请求超过了限速。 Expected available in 12 seconds.",
                    "fields": {},
                },
                response_only=True,
                status_codes=["429"],
            ),
        ],
    )
    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        if self.lookup_name in ("asset", "certificate"):
            # One asset (a certificate names one or a few): read it now, so that the pager counts
            # the rows read instead of asking the database for a COUNT first.
            len(queryset)
        page = self.paginate_queryset(queryset)
        require_found(self.lookup_name, page)
        context = {
            **self.get_serializer_context(),
            **collateral_context(self.viewer, valuation_history([a.pk for a in page])),
        }
        data = CollateralLookupSerializer(page, many=True, context=context).data
        self._log_personal_data(request, context["persons"])
        return self.get_paginated_response(data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        mask_holder_id_in_log(request)
        return response

    def _log_personal_data(self, request, person_ids):
        person_ids = sorted(person_ids)
        note_personal_data(request, person_ids, PERSON_FIELDS)
        if not isinstance(request.auth, ApiToken) and person_ids:
            # A bank officer in the browser is not in the API log: record the read as the web does.
            log_person_reads(
                actor=request.user,
                persons=[Person(pk=pk) for pk in person_ids],
                channel=AccessChannel.API,
                ip=client_ip(request),
            )


def _masked_id(value):
    try:
        return mask_national_id(normalize_national_id(value))
    except IdentifierError:
        return "*" * min(len(value), 18)


def mask_holder_id_in_log(request):
    """The API log keeps each request's path with its query string; an ID number must not be
    stored there in clear. Runs after the response (and its pagination links) is built, for
    answers and errors alike, so only what the log middleware reads afterwards is masked."""
    django_request = getattr(request, "_request", request)
    if "holder_id" not in django_request.GET:
        return
    query = django_request.GET.copy()
    query.setlist("holder_id", [_masked_id(value) for value in query.getlist("holder_id")])
    django_request.META["QUERY_STRING"] = query.urlencode(safe="*")


def register(router):
    router.register("collateral", CollateralViewSet, basename="collateral")
