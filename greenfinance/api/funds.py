"""`/api/v1/greenfinance/funds/` and `/fund-movements/`.

The green-finance desk registers green bonds and funds and records every operation through an
action on the fund (`commitments`, `contributions`, `drawdowns`, `returns`, `write-offs`,
`income`, `expenses`, `redemptions`, `reversals`, `close`); `position` reads the fund's figures
back from the ledger. Auditors read. Funds outside the caller's reach answer 404; a caller who may
read but not write gets 403. Money-moving POSTs honour `Idempotency-Key` (a retried request
returns what the first one recorded) and a movement's `reference` is unique per fund and kind
(409 `duplicate_reference`)."""

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.models import AdministrativeDivision, Organization, Party
from directory.permissions import Capability, can
from finance.models import Loan
from projects.models import KeyProject
from tmcs.errors import DomainError, PermissionDeniedError
from valuation.api.idempotency import HEADER, create_once, idempotent_request

from ..forms_funds import FundFilter, FundMovementFilter
from ..models import FundCommitment, FundKind, FundMovement, GreenFund
from ..selectors_funds import funds_for, movements_for, with_balances
from ..services import funds as services

ERROR = OpenApiResponse(description="{code, detail, fields}")
KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="1–255 个可见 ASCII 字符；同一键的重复请求只执行一次，返回首次结果",
)


def _money(**kwargs):
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


def _amount():
    return _money(min_value=Decimal("0.01"))


def _reference():
    return serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


# --- serializers ------------------------------------------------------------------------------


class GreenFundSerializer(serializers.ModelSerializer):
    manager_name = serializers.CharField(source="manager.name", read_only=True)
    division_code = serializers.CharField(source="division.code", read_only=True)
    committed = _money(read_only=True)
    cash = _money(read_only=True, help_text="资金存款余额（台账）")
    deployed = _money(read_only=True, help_text="投放余额（台账）")

    class Meta:
        model = GreenFund
        fields = [
            "id",
            "number",
            "name",
            "kind",
            "manager",
            "manager_name",
            "division_code",
            "size",
            "coupon_rate",
            "issue_date",
            "maturity_date",
            "purpose",
            "source",
            "status",
            "committed",
            "cash",
            "deployed",
            "created_at",
        ]


class GreenFundCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=FundKind.choices)
    manager = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))
    division = serializers.SlugRelatedField(slug_field="code", queryset=AdministrativeDivision.objects.all())
    size = _amount()
    issue_date = serializers.DateField()
    maturity_date = serializers.DateField(required=False, allow_null=True, default=None)
    coupon_rate = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        min_value=Decimal("0"),
        max_value=Decimal("0.999999"),
        required=False,
        allow_null=True,
        default=None,
    )
    purpose = serializers.CharField(max_length=500)
    source = serializers.CharField(max_length=300)


class GreenFundCommitmentSerializer(serializers.ModelSerializer):
    contributor_name = serializers.CharField(source="contributor.__str__", read_only=True)

    class Meta:
        model = FundCommitment
        fields = [
            "id",
            "fund",
            "contributor",
            "contributor_name",
            "amount",
            "committed_on",
            "document",
            "created_at",
        ]


class GreenFundCommitmentCreateSerializer(serializers.Serializer):
    contributor = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True), help_text="出资人/认购人机构 id"
    )
    amount = _amount()
    committed_on = serializers.DateField()
    document = serializers.CharField(max_length=200)


class GreenFundMovementSerializer(serializers.ModelSerializer):
    fund_number = serializers.CharField(source="fund.number", read_only=True)
    counterparty_name = serializers.CharField(source="counterparty.__str__", read_only=True, default=None)
    project_number = serializers.CharField(source="project.number", read_only=True, default=None)
    loan_number = serializers.CharField(source="loan.number", read_only=True, default=None)
    reversed_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = FundMovement
        fields = [
            "id",
            "fund",
            "fund_number",
            "kind",
            "occurred_on",
            "amount",
            "cash_effect",
            "counterparty",
            "counterparty_name",
            "commitment",
            "project",
            "project_number",
            "loan",
            "loan_number",
            "drawdown",
            "reverses",
            "reversed_by",
            "memo",
            "reference",
            "movement",
            "recorded_at",
        ]


class GreenFundContributionSerializer(serializers.Serializer):
    commitment = serializers.IntegerField(min_value=1, help_text="本基金的认缴记录 id")
    amount = _amount()
    occurred_on = serializers.DateField()
    reference = _reference()
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class GreenFundRedemptionSerializer(serializers.Serializer):
    commitment = serializers.IntegerField(min_value=1, help_text="本基金的认缴记录 id")
    amount = _amount()
    occurred_on = serializers.DateField()
    reference = _reference()


class GreenFundDrawdownSerializer(serializers.Serializer):
    amount = _amount()
    occurred_on = serializers.DateField()
    project = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    loan = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    recipient = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="收款主体 id；省略时为贷款借款人或项目业主",
    )
    reference = _reference()
    memo = serializers.CharField(max_length=200)


class GreenFundReturnSerializer(serializers.Serializer):
    drawdown = serializers.IntegerField(min_value=1, help_text="本基金的投放记录 id")
    amount = _amount()
    occurred_on = serializers.DateField()
    reference = _reference()
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class GreenFundWriteOffSerializer(serializers.Serializer):
    drawdown = serializers.IntegerField(min_value=1, help_text="本基金的投放记录 id")
    amount = _amount()
    occurred_on = serializers.DateField()
    reason = serializers.CharField(max_length=200)
    reference = _reference()


class GreenFundIncomeExpenseSerializer(serializers.Serializer):
    amount = _amount()
    occurred_on = serializers.DateField()
    reference = _reference()
    memo = serializers.CharField(max_length=200)
    counterparty = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )


class GreenFundReversalSerializer(serializers.Serializer):
    fund_movement = serializers.IntegerField(min_value=1, help_text="本基金要冲正的资金变动 id")
    reason = serializers.CharField(max_length=200)


class GreenFundPositionContributorSerializer(serializers.Serializer):
    commitment = serializers.IntegerField()
    contributor = serializers.IntegerField()
    contributor_name = serializers.CharField()
    committed = _money()
    paid_in = _money()
    redeemed = _money()
    capital = _money()
    uncalled = _money()


class GreenFundPositionFlowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    drawn = _money()
    returned = _money()
    written_off = _money()
    outstanding = _money()


class GreenFundPositionDrawdownSerializer(serializers.Serializer):
    drawdown = serializers.IntegerField()
    occurred_on = serializers.DateField()
    recipient = serializers.IntegerField()
    amount = _money()
    outstanding = _money()


class GreenFundPositionSerializer(serializers.Serializer):
    fund = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    size = _money()
    committed = _money()
    uncommitted = _money()
    paid_in = _money()
    uncalled = _money()
    redeemed = _money()
    capital = _money()
    cash = _money()
    drawn = _money()
    returned = _money()
    written_off = _money()
    deployed = _money()
    income = _money()
    expense = _money()
    losses = _money()
    result = _money()
    contributors = GreenFundPositionContributorSerializer(many=True)
    projects = GreenFundPositionFlowSerializer(many=True)
    loans = GreenFundPositionFlowSerializer(many=True)
    drawdowns = GreenFundPositionDrawdownSerializer(many=True)


def _flows(rows, key):
    return [
        {
            "id": row[key].pk,
            "number": row[key].number,
            **{name: row[name] for name in ("drawn", "returned", "written_off", "outstanding")},
        }
        for row in rows
    ]


def position_payload(fund):
    position = services.fund_position(fund)
    return {
        **{k: v for k, v in position.items() if not isinstance(v, list)},
        "fund": fund.pk,
        "number": fund.number,
        "status": fund.status,
        "contributors": [
            {
                "commitment": row["commitment"].pk,
                "contributor": row["contributor"].pk,
                "contributor_name": str(row["contributor"]),
                **{name: row[name] for name in ("committed", "paid_in", "redeemed", "capital", "uncalled")},
            }
            for row in position["contributors"]
        ],
        "projects": _flows(position["projects"], "project"),
        "loans": _flows(position["loans"], "loan"),
        "drawdowns": [
            {
                "drawdown": row["drawdown"].pk,
                "occurred_on": row["drawdown"].occurred_on,
                "recipient": row["drawdown"].counterparty_id,
                "amount": row["drawdown"].amount,
                "outstanding": row["outstanding"],
            }
            for row in position["drawdowns"]
        ],
    }


# --- viewsets ---------------------------------------------------------------------------------


def _operation_schema(summary, request, response=GreenFundMovementSerializer):
    return extend_schema(
        summary=summary,
        request=request,
        parameters=[KEY_PARAMETER],
        responses={201: response, 200: response, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )


@extend_schema(tags=["greenfinance: funds"])
class GreenFundViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = GreenFundSerializer
    filterset_class = FundFilter

    def get_queryset(self):
        return with_balances(funds_for(self.request.user)).order_by("-issue_date", "-pk")

    def _fund_response(self, fund, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=fund.pk)).data, status=code)

    @extend_schema(
        summary="登记绿色债券/基金（募集中）",
        request=GreenFundCreateSerializer,
        responses={201: GreenFundSerializer, 400: ERROR, 403: ERROR},
    )
    def create(self, request):
        if not can(request.user, Capability.MANAGE_GREEN_FINANCE):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        payload = GreenFundCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fund = services.create_fund(actor=request.user, **payload.validated_data)
        return self._fund_response(fund, status.HTTP_201_CREATED)

    @extend_schema(summary="基金头寸（取自台账）", responses={200: GreenFundPositionSerializer, 404: ERROR})
    @action(detail=True, methods=["get"])
    def position(self, request, pk=None):
        fund = self.get_object()
        return Response(GreenFundPositionSerializer(position_payload(fund)).data)

    def _record(
        self, request, name, payload_class, run, *, model=FundMovement, out=GreenFundMovementSerializer
    ):
        """Validate, then run once per Idempotency-Key; a replay answers 200 with the first result."""
        fund = self.get_object()
        payload = payload_class(data=request.data)
        payload.is_valid(raise_exception=True)
        idempotent = idempotent_request(request, f"greenfinance.fund.{name}:{fund.pk}")
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            return Response(out(model.objects.get(pk=replayed)).data, headers={"Idempotent-Replayed": "true"})
        created = create_once(idempotent, lambda: run(fund, dict(payload.validated_data)))
        return Response(out(_reload(model, created)).data, status=status.HTTP_201_CREATED)

    @_operation_schema(
        "登记认缴/认购（合计不超过规模）", GreenFundCommitmentCreateSerializer, GreenFundCommitmentSerializer
    )
    @action(detail=True, methods=["post"])
    def commitments(self, request, pk=None):
        def run(fund, data):
            return services.record_commitment(actor=request.user, fund=fund, **data)

        return self._record(
            request,
            "commitment",
            GreenFundCommitmentCreateSerializer,
            run,
            model=FundCommitment,
            out=GreenFundCommitmentSerializer,
        )

    @_operation_schema("出资到账（不超过认缴；首笔到账后基金转为运作中）", GreenFundContributionSerializer)
    @action(detail=True, methods=["post"])
    def contributions(self, request, pk=None):
        def run(fund, data):
            commitment = _commitment(fund, data.pop("commitment"))
            return services.record_contribution(actor=request.user, commitment=commitment, **data)

        return self._record(request, "contribution", GreenFundContributionSerializer, run)

    @_operation_schema(
        "资金投放（支持重点项目或贷款；不超过基金存款，差额见 409）", GreenFundDrawdownSerializer
    )
    @action(detail=True, methods=["post"])
    def drawdowns(self, request, pk=None):
        def run(fund, data):
            project = _lookup(KeyProject, data.pop("project"), "project", _("重点项目不存在。"))
            loan = _lookup(Loan, data.pop("loan"), "loan", _("贷款不存在。"))
            recipient = data.pop("recipient")
            if recipient is not None:
                recipient = _lookup(Party, recipient, "recipient", _("收款主体不存在。"))
            elif loan is not None:
                recipient = loan.borrower
            elif project is not None:
                recipient = project.owner
            return services.draw_down(
                actor=request.user, fund=fund, project=project, loan=loan, recipient=recipient, **data
            )

        return self._record(request, "drawdown", GreenFundDrawdownSerializer, run)

    @_operation_schema("投放收回（不超过该笔投放未收回余额）", GreenFundReturnSerializer)
    @action(detail=True, methods=["post"])
    def returns(self, request, pk=None):
        def run(fund, data):
            drawdown = _fund_movement(fund, data.pop("drawdown"), "drawdown")
            return services.record_return(actor=request.user, drawdown=drawdown, **data)

        return self._record(request, "return", GreenFundReturnSerializer, run)

    @_operation_schema("投放核销（计入基金损失，不动存款）", GreenFundWriteOffSerializer)
    @action(detail=True, methods=["post"], url_path="write-offs")
    def write_offs(self, request, pk=None):
        def run(fund, data):
            drawdown = _fund_movement(fund, data.pop("drawdown"), "drawdown")
            return services.write_off(actor=request.user, drawdown=drawdown, **data)

        return self._record(request, "write_off", GreenFundWriteOffSerializer, run)

    @_operation_schema("登记收益（利息、分红、担保费等）", GreenFundIncomeExpenseSerializer)
    @action(detail=True, methods=["post"])
    def income(self, request, pk=None):
        def run(fund, data):
            return services.record_income(actor=request.user, fund=fund, **data)

        return self._record(request, "income", GreenFundIncomeExpenseSerializer, run)

    @_operation_schema("登记费用/付息（债券付息、管理费；不超过基金存款）", GreenFundIncomeExpenseSerializer)
    @action(detail=True, methods=["post"])
    def expenses(self, request, pk=None):
        def run(fund, data):
            return services.record_expense(actor=request.user, fund=fund, **data)

        return self._record(request, "expense", GreenFundIncomeExpenseSerializer, run)

    @_operation_schema("退出/兑付（不超过该出资人在投资本和基金存款）", GreenFundRedemptionSerializer)
    @action(detail=True, methods=["post"])
    def redemptions(self, request, pk=None):
        def run(fund, data):
            commitment = _commitment(fund, data.pop("commitment"))
            return services.redeem(actor=request.user, commitment=commitment, **data)

        return self._record(request, "redemption", GreenFundRedemptionSerializer, run)

    @_operation_schema("冲正一笔资金变动（反向记账，原记录保留）", GreenFundReversalSerializer)
    @action(detail=True, methods=["post"])
    def reversals(self, request, pk=None):
        def run(fund, data):
            original = _fund_movement(fund, data["fund_movement"], "fund_movement")
            return services.reverse_fund_movement(
                actor=request.user, fund_movement=original, reason=data["reason"]
            )

        return self._record(request, "reversal", GreenFundReversalSerializer, run)

    @extend_schema(
        summary="清算基金（存款和投放余额均为零时）",
        request=None,
        responses={200: GreenFundSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        fund = services.close_fund(actor=request.user, fund=self.get_object())
        return self._fund_response(fund)


def _reload(model, instance):
    if model is FundMovement:
        return FundMovement.objects.select_related(
            "fund", "counterparty__organization", "counterparty__person", "project", "loan"
        ).get(pk=instance.pk)
    return instance


def _lookup(model, pk, field, message):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise _invalid(field, message)
    return found


def _commitment(fund, pk):
    commitment = FundCommitment.objects.filter(fund=fund, pk=pk).first()
    if commitment is None:
        raise _invalid("commitment", _("本基金没有这条认缴记录。"))
    return commitment


def _fund_movement(fund, pk, field):
    movement = FundMovement.objects.filter(fund=fund, pk=pk).first()
    if movement is None:
        raise _invalid(field, _("本基金没有这条资金变动记录。"))
    return movement


@extend_schema(tags=["greenfinance: funds"])
class FundMovementViewSet(viewsets.ReadOnlyModelViewSet):
    """Every fund movement within reach, filterable by fund, kind, date and reference."""

    serializer_class = GreenFundMovementSerializer
    filterset_class = FundMovementFilter

    def get_queryset(self):
        return movements_for(self.request.user).order_by("-occurred_on", "-pk")


def register(router):
    router.register("funds", GreenFundViewSet, basename="green-fund")
    router.register("fund-movements", FundMovementViewSet, basename="green-fund-movement")
