"""Resource packages: building, editing, status, dissolution, photos and the summary numbers."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role
from resources import services as registry
from resources.models import AssetStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.models import (
    CollectionContract,
    CollectionItem,
    ContractStatus,
    PackageItem,
    PackagePhoto,
    PackageStatus,
    ResourcePackage,
    RevenueModel,
)
from transactions.selectors_packages import package_summary, packages_for
from transactions.services import packages as svc
from valuation.models import AccountingRun, AssetResult, ParameterSet

# --- fixtures shared with the view and API tests ----------------------------------------------


@pytest.fixture
def collection_contract(county_cooperative, county_staff, households, village):
    """collection_contract(assets, end=…, revenue_model=…) → a signed contract holding the assets,
    which become 已收储 (built directly: the collection service is written elsewhere)."""
    counter = iter(range(1, 1000))

    def make(assets, end=datetime.date(2031, 1, 1), revenue_model=RevenueModel.FIXED_RENT):
        contract = CollectionContract.objects.create(
            number=f"SCTEST{next(counter):04d}-{assets[0].pk}",
            division=village,
            cooperative=county_cooperative,
            grantor=households[0],
            source_right_kind="contract",
            start_date=datetime.date(2026, 1, 1),
            end_date=end,
            revenue_model=revenue_model,
            annual_amount=Decimal("1000.00"),
            first_payment_date=datetime.date(2026, 1, 1),
            status=ContractStatus.SIGNED,
            signed_at=timezone.now(),
            signed_by=county_staff,
            created_by=county_staff,
        )
        for asset in assets:
            CollectionItem.objects.create(contract=contract, asset=asset, weight=asset.area_m2 or 1)
            registry.transition_asset(actor=county_staff, asset=asset, to_status=AssetStatus.COLLECTED)
            asset.refresh_from_db()
        return contract

    return make


@pytest.fixture
def collected(registered_asset, collection_contract, households):
    """collected(n) → n collected assets of one signed collection contract."""

    def make(n=1, **contract):
        assets = [registered_asset([(households[0], "1")]) for _ in range(n)]
        collection_contract(assets, **contract)
        return assets

    return make


@pytest.fixture
def other_county_staff(demo_region, make_member):
    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    coop = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=qingtian
    )
    return make_member(Role.COOP_STAFF, coop, username="qingtian_staff")


@pytest.fixture
def village_clerk(demo_region):
    from directory.models import User

    return User.objects.get(username="village_clerk")


def make_valuation(asset, values, *, year=2025, accepted=True, user):
    """An accounting run with per-indicator results of one asset (as a finished run leaves them)."""
    pset, _created = ParameterSet.objects.get_or_create(
        name="测试参数集",
        version=1,
        defaults=dict(
            standard="DB33/T 2274-2025",
            price_year=2024,
            valid_from=datetime.date(2024, 1, 1),
            created_by=user,
        ),
    )
    run = AccountingRun.objects.create(
        division=asset.division,
        year=year,
        parameter_set=pset,
        status="succeeded",
        created_by=user,
        accepted_at=timezone.now() if accepted else None,
        accepted_by=user if accepted else None,
    )
    for n, value in enumerate(values):
        AssetResult.objects.create(
            run=run,
            asset=asset,
            division_code=asset.division.code,
            indicator_key=f"k{n}",
            category="regulating",
            quantity=Decimal(1),
            quantity_unit="t",
            value=Decimal(value),
        )
    return run


def png_file(name="photo.png", color=(10, 120, 60)):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def create(actor, division, assets, name="示范村民宿资源包"):
    return svc.create_package(
        actor=actor, division=division, name=name, description="闲置农房", suggested_use="民宿", assets=assets
    )


# --- creating ---------------------------------------------------------------------------------


def test_create_package_bundles_collected_assets(county_staff, village, collected):
    assets = collected(2)
    package = create(county_staff, village, assets)
    assert package.code.startswith(f"ZB{timezone.localdate().year}")
    assert package.status == PackageStatus.DRAFT
    assert set(package.items.filter(is_open=True).values_list("asset_id", flat=True)) == {
        a.pk for a in assets
    }
    second = create(county_staff, village, collected(1), name="第二包")
    assert int(second.code[-6:]) == int(package.code[-6:]) + 1


def test_create_refuses_uncollected_asset_and_writes_nothing(
    county_staff, village, registered_asset, households
):
    asset = registered_asset([(households[0], "1")])
    with pytest.raises(DomainError) as exc:
        create(county_staff, village, [asset])
    assert "未被收储" in str(exc.value.detail) and asset.code in str(exc.value.detail)
    assert "assets" in exc.value.fields
    assert not ResourcePackage.objects.exists() and not PackageItem.objects.exists()


def test_create_refuses_asset_of_a_draft_collection_contract(county_staff, village, collected):
    (asset,) = collected(1)
    CollectionContract.objects.update(status=ContractStatus.DRAFT)
    with pytest.raises(DomainError, match="未被收储"):
        create(county_staff, village, [asset])
    assert not ResourcePackage.objects.exists()


def test_create_refuses_asset_outside_division(county_staff, collected):
    (asset,) = collected(1)
    other_village = AdministrativeDivision.objects.create(
        code="331102199202", name="另一村（测试）", level="village", parent=asset.division.parent
    )
    with pytest.raises(DomainError, match="不在另一村"):
        create(county_staff, other_village, [asset])
    assert not ResourcePackage.objects.exists()


def test_create_needs_name_and_assets(county_staff, village, collected):
    with pytest.raises(DomainError) as exc:
        svc.create_package(actor=county_staff, division=village, name="  ", assets=collected(1))
    assert "name" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        svc.create_package(actor=county_staff, division=village, name="空包", assets=[])
    assert "assets" in exc.value.fields
    assert not ResourcePackage.objects.exists()


def test_asset_in_another_open_package_is_refused_naming_it(county_staff, village, collected):
    assets = collected(2)
    first = create(county_staff, village, assets[:1])
    with pytest.raises(ConflictError) as exc:
        create(county_staff, village, assets, name="重复包")
    assert first.code in str(exc.value.detail)
    assert ResourcePackage.objects.count() == 1
    assert PackageItem.objects.count() == 1


def test_unique_open_package_backstop(county_staff, village, collected):
    (asset,) = collected(1)
    first = create(county_staff, village, [asset])
    second = ResourcePackage.objects.create(code="ZBX", name="x", division=village, created_by=county_staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        PackageItem.objects.create(package=second, asset=asset)
    # The service turns the backstop into a conflict naming the package holding the asset.
    with pytest.raises(ConflictError) as exc:
        svc._add_items(second, [asset])
    assert first.code in str(exc.value.detail)


@pytest.mark.parametrize("who", ["investor", "village_clerk", "other_county_staff"])
def test_only_trading_staff_in_reach_may_create(who, request, village, collected):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDeniedError):
        create(actor, village, collected(1))
    assert not ResourcePackage.objects.exists()


def test_city_admin_may_create(city_admin, village, collected):
    assert create(city_admin, village, collected(1)).status == PackageStatus.DRAFT


# --- editing and status -----------------------------------------------------------------------


def test_add_and_remove_assets(county_staff, village, collected):
    first, second = collected(2)
    package = create(county_staff, village, [first])
    svc.add_package_assets(actor=county_staff, package=package, assets=[second])
    assert package.items.filter(is_open=True).count() == 2
    with pytest.raises(ConflictError, match="已在本资源包中"):
        svc.add_package_assets(actor=county_staff, package=package, assets=[second])
    svc.remove_package_asset(actor=county_staff, package=package, asset=first)
    assert list(package.items.values_list("asset_id", flat=True)) == [second.pk]
    with pytest.raises(DomainError, match="不在本资源包中"):
        svc.remove_package_asset(actor=county_staff, package=package, asset=first)


def test_ready_needs_an_asset_and_keeps_one(county_staff, village, collected):
    (asset,) = collected(1)
    package = create(county_staff, village, [asset])
    package = svc.mark_package_ready(actor=county_staff, package=package)
    assert package.status == PackageStatus.READY
    with pytest.raises(ConflictError, match="至少要有一项资源"):
        svc.remove_package_asset(actor=county_staff, package=package, asset=asset)
    package = svc.return_package_to_draft(actor=county_staff, package=package)
    svc.remove_package_asset(actor=county_staff, package=package, asset=asset)
    with pytest.raises(ConflictError, match="还没有资源"):
        svc.mark_package_ready(actor=county_staff, package=package)
    package.refresh_from_db()
    assert package.status == PackageStatus.DRAFT


@pytest.mark.parametrize("status", [PackageStatus.READY, PackageStatus.LISTED, PackageStatus.CONTRACTED])
def test_only_drafts_are_made_ready_by_staff(county_staff, village, collected, status):
    # A listed or contracted package returns to READY only through its listing or contract.
    (asset,) = collected(1)
    package = create(county_staff, village, [asset])
    type(package).objects.filter(pk=package.pk).update(status=status)
    with pytest.raises(InvalidTransition, match="只有编制中的资源包"):
        svc.mark_package_ready(actor=county_staff, package=package)
    package.refresh_from_db()
    assert package.status == status


def test_listed_package_cannot_change_assets_or_dissolve(county_staff, village, collected):
    first, second = collected(2)
    package = create(county_staff, village, [first])
    ResourcePackage.objects.filter(pk=package.pk).update(status=PackageStatus.LISTED)
    with pytest.raises(ConflictError, match="挂牌中"):
        svc.add_package_assets(actor=county_staff, package=package, assets=[second])
    with pytest.raises(ConflictError, match="不能解散"):
        svc.dissolve_package(actor=county_staff, package=package, reason="不要了")
    with pytest.raises(InvalidTransition):
        svc.return_package_to_draft(actor=county_staff, package=package)
    assert package.items.filter(is_open=True).count() == 1


def test_update_package_texts(county_staff, village, collected):
    package = create(county_staff, village, collected(1))
    svc.update_package(
        actor=county_staff, package=package, name="新名称", description="d", suggested_use="康养"
    )
    package.refresh_from_db()
    assert (package.name, package.suggested_use) == ("新名称", "康养")
    with pytest.raises(DomainError) as exc:
        svc.update_package(actor=county_staff, package=package, name="x", suggested_use="长" * 201)
    assert "suggested_use" in exc.value.fields
    package.refresh_from_db()
    assert package.name == "新名称"


def test_dissolve_frees_the_assets(county_staff, village, collected):
    (asset,) = collected(1)
    package = create(county_staff, village, [asset])
    with pytest.raises(DomainError) as exc:
        svc.dissolve_package(actor=county_staff, package=package, reason=" ")
    assert "reason" in exc.value.fields
    svc.dissolve_package(actor=county_staff, package=package, reason="投资方改变意向")
    package.refresh_from_db()
    assert package.status == PackageStatus.DISSOLVED
    assert not package.items.filter(is_open=True).exists() and package.items.count() == 1
    again = create(county_staff, village, [asset], name="重新打包")
    assert again.items.get().asset == asset
    with pytest.raises(InvalidTransition):
        svc.mark_package_ready(actor=county_staff, package=package)


def test_other_county_staff_cannot_edit(county_staff, other_county_staff, village, collected):
    package = create(county_staff, village, collected(1))
    for action in (
        lambda: svc.mark_package_ready(actor=other_county_staff, package=package),
        lambda: svc.dissolve_package(actor=other_county_staff, package=package, reason="x"),
        lambda: svc.update_package(actor=other_county_staff, package=package, name="x"),
    ):
        with pytest.raises(PermissionDeniedError):
            action()
    package.refresh_from_db()
    assert (package.status, package.name) == (PackageStatus.DRAFT, "示范村民宿资源包")


# --- photos -----------------------------------------------------------------------------------


def test_photos_checked_hashed_deduplicated_and_removed(county_staff, village, collected, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    package = create(county_staff, village, collected(1))
    photo = svc.add_package_photo(actor=county_staff, package=package, image=png_file(), caption="全景")
    assert len(photo.sha256) == 64 and (tmp_path / photo.image.name).exists()
    with pytest.raises(ConflictError, match="已上传过"):
        svc.add_package_photo(actor=county_staff, package=package, image=png_file("again.png"))
    fake = SimpleUploadedFile("fake.jpg", b"not really an image" * 10, content_type="image/jpeg")
    with pytest.raises(DomainError) as exc:
        svc.add_package_photo(actor=county_staff, package=package, image=fake)
    assert "image" in exc.value.fields
    pdf = SimpleUploadedFile("doc.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    with pytest.raises(DomainError, match="JPEG"):
        svc.add_package_photo(actor=county_staff, package=package, image=pdf)
    assert PackagePhoto.objects.count() == 1
    with transaction.atomic():
        svc.remove_package_photo(actor=county_staff, photo=photo)
    assert not PackagePhoto.objects.exists()


def test_photo_size_and_count_limits(county_staff, village, collected, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    package = create(county_staff, village, collected(1))
    big = png_file()
    big.size = svc.MAX_PHOTO_BYTES + 1
    with pytest.raises(DomainError, match="10 MB"):
        svc.add_package_photo(actor=county_staff, package=package, image=big)
    monkeypatch.setattr(svc, "MAX_PHOTOS", 2)
    svc.add_package_photo(actor=county_staff, package=package, image=png_file(color=(1, 1, 1)))
    svc.add_package_photo(actor=county_staff, package=package, image=png_file(color=(2, 2, 2)))
    with pytest.raises(ConflictError, match="最多 2 张"):
        svc.add_package_photo(actor=county_staff, package=package, image=png_file(color=(3, 3, 3)))
    assert package.photos.count() == 2


def test_photo_upload_refused_for_investor(investor, county_staff, village, collected):
    package = create(county_staff, village, collected(1))
    with pytest.raises(PermissionDeniedError):
        svc.add_package_photo(actor=investor, package=package, image=png_file())
    assert not PackagePhoto.objects.exists()


# --- summary ----------------------------------------------------------------------------------


def test_summary_numbers(county_staff, village, collected, collection_contract, registered_asset, households):
    a, b = collected(2, end=datetime.date(2036, 1, 1), revenue_model=RevenueModel.SHARE_DIVIDEND)
    c = registered_asset([(households[1], "1")])
    early = collection_contract([c], end=datetime.date(2030, 6, 30))
    make_valuation(a, ["1000.50", "200.25"], year=2024, user=county_staff)
    make_valuation(a, ["3000.10", "0.05"], year=2025, user=county_staff)  # latest year wins
    make_valuation(a, ["99999"], year=2026, accepted=False, user=county_staff)  # not accepted: ignored
    make_valuation(b, ["123.45"], year=2025, user=county_staff)
    package = create(county_staff, village, [a, b, c])

    summary = package_summary(package)
    expected_area = a.area_m2 + b.area_m2 + c.area_m2
    assert summary.area_m2 == expected_area
    assert summary.area_mu == (expected_area * 15 / 10000).quantize(Decimal("0.01"))
    assert summary.area_hectares == (expected_area / 10000).quantize(Decimal("0.0001"))
    assert summary.gep_total == Decimal("3000.15") + Decimal("123.45")
    assert summary.unvalued == [c]
    assert {line.asset.pk: line.gep_year for line in summary.lines} == {a.pk: 2025, b.pk: 2025, c.pk: None}
    assert [x.pk for x in summary.contracts] == [early.pk, a_contract(a).pk]
    assert summary.earliest_term_end == datetime.date(2030, 6, 30)
    assert [t.code for t in summary.resource_types] == ["forest"]


def a_contract(asset):
    return CollectionItem.objects.get(asset=asset, is_open=True).contract


def test_summary_query_count_does_not_grow(county_staff, village, collected, django_assert_max_num_queries):
    assets = collected(6)
    for asset in assets:
        make_valuation(asset, ["10.00", "5.00"], user=county_staff)
    package = create(county_staff, village, assets)
    with django_assert_max_num_queries(3):
        summary = package_summary(package)
    assert summary.gep_total == Decimal("90.00") and summary.asset_count == 6


def test_packages_for_scopes_by_reach(county_staff, other_county_staff, investor, village, collected):
    package = create(county_staff, village, collected(1))
    assert list(packages_for(county_staff)) == [package]
    assert list(packages_for(other_county_staff)) == []
    assert list(packages_for(investor)) == []
    ResourcePackage.objects.filter(pk=package.pk).update(status=PackageStatus.LISTED)
    assert list(packages_for(investor)) == [package]
