"""Leases, pledges/mortgages and dispute freezes on the asset page, and the freezes' effect on the
ledger: while an asset is frozen (公示 or dispute), no right, lease or pledge is recorded on it."""

import datetime

import pytest
from django.contrib.messages import get_messages

from directory.models import Organization, OrganizationKind, User
from directory.services import ensure_party
from resources import registration as reg
from resources import services
from resources.models import AssetStatus, Restriction, RestrictionKind, Right
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

D = datetime.date


@pytest.fixture
def bank_party(demo_region):
    return ensure_party(Organization.objects.get(kind=OrganizationKind.BANK))


@pytest.fixture
def clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def contract_right(make_asset, county_staff, household):
    return services.grant_right(
        actor=county_staff,
        asset=make_asset(),
        holder=household,
        kind="contract",
        start=D(2026, 1, 1),
        end=D(2046, 1, 1),
        source_document="承包合同 C-1",
    )


def lease(asset, holder, actor, **overrides):
    return services.add_lease(
        actor=actor,
        asset=asset,
        holder=holder,
        **{"start": D(2026, 1, 1), "end": D(2031, 1, 1), "source_document": "租赁合同 L-1", **overrides},
    )


def pledge(right, holder, actor, **overrides):
    return services.add_pledge(
        actor=actor,
        right=right,
        holder=holder,
        **{
            "rank": 1,
            "secured_amount": "300000.00",
            "start": D(2026, 3, 1),
            "end": D(2029, 3, 1),
            "source_document": "质押合同 P-1",
            **overrides,
        },
    )


def flash(response):
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


# --- services -------------------------------------------------------------------------------


def test_dispute_freeze_blocks_rights_leases_and_pledges_until_released(
    contract_right, county_staff, household, collective, bank_party
):
    asset = contract_right.asset
    freeze = services.freeze_for_dispute(
        actor=county_staff,
        asset=asset,
        reason="村民对东侧界址有争议",
        source_document="莲都区法院协助执行通知书（2026）浙1102执123号",
        start=D(2026, 2, 1),
    )
    assert freeze.kind == RestrictionKind.DISPUTE_FREEZE and freeze.reason == "村民对东侧界址有争议"
    assert freeze.period.lower == D(2026, 2, 1) and freeze.period.upper is None
    rights, restrictions = Right.objects.count(), Restriction.objects.count()
    for attempt in (
        lambda: services.grant_right(
            actor=county_staff,
            asset=asset,
            holder=collective,
            kind="ownership",
            start=D(2026, 1, 1),
            source_document="所有权证",
        ),
        lambda: lease(asset, collective, county_staff),
        lambda: pledge(contract_right, bank_party, county_staff),
    ):
        with pytest.raises(ConflictError, match="争议冻结") as excinfo:
            attempt()
        assert "协助执行通知书" in str(excinfo.value.detail) and excinfo.value.code == "frozen"
    assert (Right.objects.count(), Restriction.objects.count()) == (rights, restrictions)
    with pytest.raises(DomainError, match="解除原因"):
        services.release_restriction(actor=county_staff, restriction=freeze, reason="  ")
    assert Restriction.objects.get(pk=freeze.pk).status == "active"
    services.release_restriction(actor=county_staff, restriction=freeze, reason="法院裁定解除冻结")
    freeze.refresh_from_db()
    assert freeze.status == "ended" and freeze.end_reason == "法院裁定解除冻结"
    lease(asset, collective, county_staff)
    pledge(contract_right, bank_party, county_staff)
    event = Restriction.pgh_event_model.objects.filter(pgh_obj_id=freeze.pk).order_by("pgh_id").first()
    assert event.pgh_context.metadata["reason"] == "dispute freeze: 村民对东侧界址有争议"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "争" * 501}, "reason"),
        ({"source_document": " "}, "source_document"),
        ({"start": D(2999, 1, 1)}, "start"),
    ],
)
def test_bad_dispute_freezes_are_refused(make_asset, county_staff, fields, field):
    asset = make_asset()
    data = {"reason": "权属争议", "source_document": "调解申请书 T-1", "start": None, **fields}
    with pytest.raises(DomainError) as excinfo:
        services.freeze_for_dispute(actor=county_staff, asset=asset, **data)
    assert field in excinfo.value.fields
    assert not Restriction.objects.filter(asset=asset).exists()


def test_only_registry_managers_freeze(make_asset, clerk):
    asset = make_asset()
    with pytest.raises(PermissionDeniedError):
        services.freeze_for_dispute(actor=clerk, asset=asset, reason="争议", source_document="x")
    assert not Restriction.objects.exists()


def test_notice_freeze_blocks_the_ledger_during_public_notice_and_registration_still_completes(
    make_asset, county_staff, household, collective
):
    asset = make_asset()
    services.grant_right(  # the right to be confirmed is recorded before the application
        actor=county_staff,
        asset=asset,
        holder=collective,
        kind="ownership",
        start=D(2020, 1, 1),
        source_document="集体林权证",
    )
    registration = reg.review_registration(
        actor=county_staff,
        registration=reg.submit_registration(actor=county_staff, asset=asset),
        approve=True,
    )
    freeze = Restriction.objects.get(asset=asset, kind=RestrictionKind.NOTICE_FREEZE, status="active")
    with pytest.raises(ConflictError, match="公示冻结"):
        services.grant_right(
            actor=county_staff,
            asset=asset,
            holder=household,
            kind="contract",
            start=D(2026, 1, 1),
            source_document="承包合同",
        )
    with pytest.raises(ConflictError, match="公示冻结"):
        lease(asset, household, county_staff)
    with pytest.raises(ConflictError, match="自动解除"):  # the notice freeze belongs to the registration
        services.release_restriction(actor=county_staff, restriction=freeze, reason="提前解除")
    assert reg.close_due_notices(now=registration.notice_ends_at) == 1
    asset.refresh_from_db()
    assert asset.status == AssetStatus.REGISTERED
    services.grant_right(
        actor=county_staff,
        asset=asset,
        holder=household,
        kind="contract",
        start=D(2026, 1, 1),
        source_document="承包合同",
    )
    lease(asset, household, county_staff)


def test_lease_and_pledge_input_is_checked_again_in_the_service(contract_right, county_staff, bank_party):
    asset = contract_right.asset
    with pytest.raises(DomainError, match="依据文件"):
        lease(asset, bank_party, county_staff, source_document=" ")
    with pytest.raises(DomainError, match="权利人"):
        lease(asset, None, county_staff)
    with pytest.raises(DomainError, match="顺位"):
        pledge(contract_right, bank_party, county_staff, rank=0)
    with pytest.raises(DomainError, match="金额"):
        pledge(contract_right, bank_party, county_staff, secured_amount="abc")
    with pytest.raises(DomainError, match="质押或抵押"):
        pledge(contract_right, bank_party, county_staff, kind="lease")
    assert not Restriction.objects.exists()
    services.transition_asset(actor=county_staff, asset=asset, to_status="retired")
    with pytest.raises(ConflictError, match="已注销"):
        lease(asset, bank_party, county_staff)
    with pytest.raises(ConflictError, match="已注销"):
        services.freeze_for_dispute(actor=county_staff, asset=asset, reason="争议", source_document="x")
    assert not Restriction.objects.exists()


# --- web ------------------------------------------------------------------------------------


def test_staff_record_a_lease_and_a_pledge_through_the_asset_page(
    client, county_staff, contract_right, collective, household, bank_party
):
    asset = contract_right.asset
    client.force_login(county_staff)
    page = client.get(asset.get_absolute_url()).content.decode()
    for action in ("leases", "pledges", "freezes"):
        assert f"/resources/assets/{asset.pk}/{action}/" in page
    assert "丽水示范农村商业银行（演示）" in page  # a city-wide bank is a possible pledgee
    response = client.post(
        f"/resources/assets/{asset.pk}/leases/",
        {
            "holder": collective.pk,
            "start": "2026-01-01",
            "end": "2031-01-01",
            "source_document": "租赁合同 L-9",
        },
    )
    assert response.status_code == 302 and "租赁已登记" in flash(response)
    response = client.post(
        f"/resources/assets/{asset.pk}/leases/",
        {
            "holder": household.pk,
            "start": "2030-01-01",
            "end": "2035-01-01",
            "source_document": "租赁合同 L-10",
        },
    )
    assert "已出租给" in flash(response)
    assert Restriction.objects.filter(kind="lease").count() == 1
    response = client.post(
        f"/resources/assets/{asset.pk}/leases/",
        {"holder": household.pk, "start": "2030-01-01", "source_document": ""},
    )
    assert "提交的数据有误" in flash(response) and Restriction.objects.filter(kind="lease").count() == 1
    pledge_form = {
        "right": contract_right.pk,
        "kind": "mortgage",
        "holder": bank_party.pk,
        "rank": "1",
        "secured_amount": "500000.00",
        "start": "2026-03-01",
        "end": "2029-03-01",
        "source_document": "抵押合同 M-1",
    }
    response = client.post(f"/resources/assets/{asset.pk}/pledges/", pledge_form)
    assert "抵质押已登记" in flash(response)
    mortgage = Restriction.objects.get(kind="mortgage")
    assert (
        mortgage.holder == bank_party and str(mortgage.secured_amount) == "500000.00" and mortgage.rank == 1
    )
    response = client.post(
        f"/resources/assets/{asset.pk}/pledges/", {**pledge_form, "source_document": "抵押合同 M-2"}
    )
    assert "第1顺位已设有抵质押" in flash(response)
    response = client.post(f"/resources/assets/{asset.pk}/pledges/", {**pledge_form, "secured_amount": "-5"})
    assert "提交的数据有误" in flash(response)
    assert Restriction.objects.filter(kind__in=["pledge", "mortgage"]).count() == 1
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "抵押合同 M-1" in page and "租赁合同 L-9" in page and "500000.00" in page


def test_freeze_release_and_ended_restrictions_on_the_asset_page(
    client, county_staff, make_asset, collective
):
    asset = make_asset()
    client.force_login(county_staff)
    response = client.post(
        f"/resources/assets/{asset.pk}/freezes/",
        {"reason": "继承纠纷，诉讼中", "source_document": "民事裁定书（2026）浙1102民初88号"},
    )
    assert "已设立争议冻结" in flash(response)
    freeze = Restriction.objects.get(kind="dispute_freeze")
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "asset-freeze" in page and "继承纠纷，诉讼中" in page
    response = client.post(
        f"/resources/assets/{asset.pk}/leases/",
        {"holder": collective.pk, "start": "2026-01-01", "end": "2027-01-01", "source_document": "租赁合同"},
    )
    assert "争议冻结" in flash(response) and "民事裁定书" in flash(response)
    assert not Restriction.objects.filter(kind="lease").exists()
    response = client.post(f"/resources/restrictions/{freeze.pk}/release/", {"reason": ""})
    assert "请填写解除原因" in flash(response)
    assert Restriction.objects.get(pk=freeze.pk).status == "active"
    response = client.post(f"/resources/restrictions/{freeze.pk}/release/", {"reason": "双方和解"})
    assert "已解除争议冻结" in flash(response)
    page = client.get(asset.get_absolute_url()).content.decode()
    assert "asset-freeze" not in page
    assert "已终止（双方和解）" in page  # the ended freeze stays on the page
    response = client.post(f"/resources/restrictions/{freeze.pk}/release/", {"reason": "再次解除"})
    assert "已解除" in flash(response) and Restriction.objects.get(pk=freeze.pk).end_reason == "双方和解"


def test_users_without_registry_rights_get_no_buttons_and_a_403(
    client, clerk, county_staff, contract_right, collective, bank_party, bank_officer
):
    asset = contract_right.asset
    freeze = services.freeze_for_dispute(actor=county_staff, asset=asset, reason="争议", source_document="x")
    for user in (clerk, User.objects.get(username="auditor")):
        client.force_login(user)
        page = client.get(asset.get_absolute_url())
        assert page.status_code == 200
        html = page.content.decode()
        assert "/leases/" not in html and "/pledges/" not in html and "/freezes/" not in html
        assert "/release/" not in html
        assert (
            client.post(
                f"/resources/assets/{asset.pk}/leases/",
                {"holder": collective.pk, "start": "2026-01-01", "end": "2027-01-01", "source_document": "x"},
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/resources/assets/{asset.pk}/freezes/", {"reason": "争议", "source_document": "y"}
            ).status_code
            == 403
        )
        assert (
            client.post(f"/resources/restrictions/{freeze.pk}/release/", {"reason": "z"}).status_code == 403
        )
    client.force_login(bank_officer)  # cannot see the asset at all
    assert client.post(f"/resources/restrictions/{freeze.pk}/release/", {"reason": "z"}).status_code == 404
    assert (
        client.post(
            f"/resources/assets/{asset.pk}/freezes/", {"reason": "a", "source_document": "b"}
        ).status_code
        == 404
    )
    assert list(Restriction.objects.values_list("kind", "status")) == [("dispute_freeze", "active")]


def test_admin_shows_the_ledger_read_only(client, contract_right, county_staff, bank_party):
    restriction = pledge(contract_right, bank_party, county_staff)
    client.force_login(User.objects.get(username="admin"))
    for model in ("resourcetype", "asset", "right", "restriction", "registration", "assetdocument"):
        assert client.get(f"/admin/resources/{model}/").status_code == 200, model
    page = client.get(f"/admin/resources/restriction/{restriction.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(f"/admin/resources/restriction/{restriction.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/resources/right/{contract_right.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert client.get("/admin/resources/right/add/").status_code == 403
    assert (
        Right.objects.filter(pk=contract_right.pk).exists()
        and Restriction.objects.filter(pk=restriction.pk).exists()
    )
