from decimal import Decimal

import pytest

from resources import services
from resources.models import Asset, AssetStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from .conftest import square


def test_area_is_computed_by_postgis_in_a_projected_crs(make_asset):
    asset = make_asset()
    # 0.001° lon × 0.001° lat at 28.45°N: 97.95 m × 110.87 m ≈ 10,860 m².
    assert Decimal("10800") < asset.area_m2 < Decimal("10900")
    assert asset.area_mu == (asset.area_m2 / (Decimal(10000) / 15)).quantize(Decimal("0.01"))
    assert asset.code.startswith("ZY331102199201")
    assert asset.status == AssetStatus.DRAFT


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "超出中国范围"),
        (
            "SRID=4490;POLYGON((119.92 28.45, 119.93 28.46, 119.93 28.45, 119.92 28.46, 119.92 28.45))",
            "空间范围无效",
        ),
        ("SRID=4490;POINT(119.92 28.45)", "须为面"),
        ("not a geometry", "无法解析"),
        ("SRID=3857;POLYGON((0 0, 1 0, 1 1, 0 0))", "CGCS2000"),
    ],
)
def test_bad_geometry_is_refused_and_nothing_is_written(make_asset, geometry, message):
    with pytest.raises(DomainError, match=message):
        make_asset(geometry=geometry)
    assert not Asset.objects.exists()


def test_attributes_follow_the_type_schema(make_asset):
    with pytest.raises(DomainError) as excinfo:
        make_asset(attributes={"dominant_species": "杉木", "age_class": "老龄林", "canopy_density": 1.5})
    fields = excinfo.value.fields
    assert "龄组" in fields["attributes.age_class"][0]
    assert "郁闭度" in fields["attributes.canopy_density"][0]
    with pytest.raises(DomainError) as excinfo:
        make_asset(attributes={})
    assert "attributes.dominant_species" in excinfo.value.fields
    assert not Asset.objects.exists()


def test_transition_map_is_enforced(make_asset, county_staff):
    asset = make_asset()
    with pytest.raises(InvalidTransition, match=r"草稿.*已登记"):
        services.transition_asset(actor=county_staff, asset=asset, to_status="registered")
    services.transition_asset(actor=county_staff, asset=asset, to_status="under_review")
    services.transition_asset(actor=county_staff, asset=asset, to_status="in_public_notice")
    services.transition_asset(actor=county_staff, asset=asset, to_status="registered")
    asset.refresh_from_db()
    assert asset.status == AssetStatus.REGISTERED
    history = [e.status for e in Asset.pgh_event_model.objects.filter(pgh_obj_id=asset.pk).order_by("pgh_id")]
    assert history == ["draft", "under_review", "in_public_notice", "registered"]


def test_village_clerk_drafts_but_cannot_review(village, forest_type, demo_region):
    from directory.models import User

    clerk = User.objects.get(username="village_clerk")
    asset = services.create_asset(
        actor=clerk,
        resource_type=forest_type,
        division=village,
        name="村集体林",
        geometry=square(),
        attributes={"dominant_species": "毛竹", "age_class": "成熟林"},
    )
    services.transition_asset(actor=clerk, asset=asset, to_status="under_review")
    with pytest.raises(PermissionDeniedError):
        services.transition_asset(actor=clerk, asset=asset, to_status="in_public_notice")


def test_overlap_with_an_active_asset_of_the_same_group_is_refused(make_asset, county_staff, farmland_type):
    first = make_asset(status="under_review")
    second = make_asset(
        geometry=square(dx=0.0005), resource_type=farmland_type, attributes={"land_class": "0101"}
    )
    with pytest.raises(ConflictError) as excinfo:
        services.transition_asset(actor=county_staff, asset=second, to_status="under_review")
    assert first.code in str(excinfo.value.detail) and "平方米" in str(excinfo.value.detail)
    overlap = Decimal(excinfo.value.fields["geometry"][0].split(": ")[1].split(" ")[0])
    assert Decimal("5300") < overlap < Decimal("5560")  # half of the 10,860 m² square
    second.refresh_from_db()
    assert second.status == AssetStatus.DRAFT


def test_touching_parcels_and_other_groups_do_not_conflict(make_asset, county_staff, catalog):
    from resources.models import ResourceType

    make_asset(status="under_review")
    neighbour = make_asset(geometry=square(dx=0.001))  # shares an edge only
    services.transition_asset(actor=county_staff, asset=neighbour, to_status="under_review")
    carbon = ResourceType.objects.get(code="forest_carbon")  # no overlap group: may lie over forest
    pool = make_asset(resource_type=carbon, attributes={"methodology": "CCER-14-001-V01"})
    services.transition_asset(actor=county_staff, asset=pool, to_status="under_review")
    assert Asset.objects.filter(status="under_review").count() == 3


def test_outsiders_cannot_create_assets(village, forest_type, bank_officer):
    with pytest.raises(PermissionDeniedError):
        services.create_asset(
            actor=bank_officer,
            resource_type=forest_type,
            division=village,
            name="x",
            geometry=square(),
            attributes={"dominant_species": "杉木", "age_class": "中龄林"},
        )
