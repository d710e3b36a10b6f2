import datetime
import math
import struct

import pytest

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from resources import services, tiles
from resources.demo import load_demo_assets
from resources.models import Asset, Right

from .conftest import X0, Y0, square


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# A minimal reader of Mapbox Vector Tiles (protobuf), enough to list each feature's properties.
def _varint(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(data):
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value


def _packed(data):
    values, i = [], 0
    while i < len(data):
        value, i = _varint(data, i)
        values.append(value)
    return values


def _value(data):
    for field, _, value in _fields(data):
        if field == 1:
            return value.decode()
        if field == 2:
            return struct.unpack("<f", value)[0]
        if field == 3:
            return struct.unpack("<d", value)[0]
        if field in (4, 5):
            return value - (1 << 64) if value >= 1 << 63 else value
        if field == 6:
            return (value >> 1) ^ -(value & 1)
        if field == 7:
            return bool(value)
    return None


def decode_tile(data):
    """{layer name: (extent, [feature properties…])}"""
    layers = {}
    for field, _, layer in _fields(data):
        if field != 3:
            continue
        name, extent, keys, values, features = "", 4096, [], [], []
        for f, _, value in _fields(layer):
            if f == 1:
                name = value.decode()
            elif f == 2:
                features.append(value)
            elif f == 3:
                keys.append(value.decode())
            elif f == 4:
                values.append(_value(value))
            elif f == 5:
                extent = value
        decoded = []
        for feature in features:
            tags = next((_packed(v) for f, _, v in _fields(feature) if f == 2), [])
            decoded.append({keys[k]: values[v] for k, v in zip(tags[::2], tags[1::2], strict=True)})
        layers[name] = (extent, decoded)
    return layers


def codes_in(response):
    assert response.status_code == 200, response.content
    return sorted(f["code"] for f in decode_tile(response.content).get("assets", (0, []))[1])


@pytest.fixture
def parcel(make_asset):
    return make_asset()


def test_tile_contains_the_visible_parcel(client, county_staff, parcel):
    client.force_login(county_staff)
    x, y = tile_of(X0 + 0.0005, Y0 + 0.0005, 16)
    response = client.get(f"/resources/tiles/16/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert response["Cache-Control"] == "private, max-age=60" and "Cookie" in response["Vary"]
    extent, features = decode_tile(response.content)["assets"]
    assert extent == 4096
    assert features == [
        {"id": parcel.pk, "code": parcel.code, "status": "draft", "type": "forest", "type_name": "林地"}
    ]


def test_tile_elsewhere_is_empty_and_out_of_range_is_404(client, county_staff, parcel):
    client.force_login(county_staff)
    x, y = tile_of(100.0, 40.0, 16)
    assert client.get(f"/resources/tiles/16/{x}/{y}.mvt").content == b""
    assert client.get("/resources/tiles/3/9/1.mvt").status_code == 404
    assert client.get("/resources/tiles/23/0/0.mvt").status_code == 404


def test_tiles_respect_the_users_scope(client, bank_officer, parcel):
    client.force_login(bank_officer)
    x, y = tile_of(X0 + 0.0005, Y0 + 0.0005, 16)
    assert client.get(f"/resources/tiles/16/{x}/{y}.mvt").content == b""
    assert Asset.objects.count() == 1


@pytest.fixture
def two_parcels(make_asset, farmland_type, county_staff):
    """A draft forest and, 200 m east, farmland under review: both in one zoom-14 tile."""
    forest = make_asset()
    farmland = make_asset(
        geometry=square(dx=0.002),
        resource_type=farmland_type,
        name="示范水田",
        attributes={"land_class": "0101 水田"},
        status="under_review",
    )
    z = 14
    x, y = tile_of(X0 + 0.0005, Y0 + 0.0005, z)
    assert tile_of(X0 + 0.0025, Y0 + 0.0005, z) == (x, y)
    return forest, farmland, f"/resources/tiles/{z}/{x}/{y}.mvt"


def test_tiles_apply_the_lists_filters(client, county_staff, two_parcels, village):
    forest, farmland, url = two_parcels
    client.force_login(county_staff)
    assert codes_in(client.get(url)) == sorted([forest.code, farmland.code])
    assert codes_in(client.get(url, {"status": "under_review"})) == [farmland.code]
    assert codes_in(client.get(url, {"resource_type": forest.resource_type_id})) == [forest.code]
    assert codes_in(client.get(url, {"q": farmland.code})) == [farmland.code]
    assert codes_in(client.get(url, {"q": "水田", "status": "draft"})) == []
    assert codes_in(client.get(url, {"division": village.pk})) == sorted([forest.code, farmland.code])
    # The list's own parameters (sorting, paging) are not filters and change nothing.
    assert codes_in(client.get(url, {"sort": "-code", "page": "2"})) == sorted([forest.code, farmland.code])


def test_an_invalid_filter_is_a_400_not_everything(client, county_staff, two_parcels):
    _, _, url = two_parcels
    client.force_login(county_staff)
    response = client.get(url, {"status": "planet"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter" and list(body["fields"]) == ["status"]
    # A division outside the user's reach is not a choice either.
    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    assert client.get(url, {"division": qingtian.pk}).status_code == 400
    assert client.get("/resources/map-extent.json", {"resource_type": "x"}).status_code == 400


@pytest.fixture
def outsider(make_member, demo_region):
    """Cooperative staff of 青田县: no reach into 莲都区."""
    elsewhere = Organization.objects.create(
        name="青田县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    return make_member(Role.COOP_STAFF, elsewhere)


def test_out_of_scope_users_get_no_foreign_assets_even_with_filters(
    client, two_parcels, outsider, bank_officer, village
):
    forest, _, url = two_parcels
    for user in (outsider, bank_officer):
        client.force_login(user)
        assert client.get(url).content == b""
        assert client.get(url, {"q": forest.code}).content == b""
        # A bank may name any place in its city (it sees nothing more for it); a county outside
        # the user's reach is not even a choice.
        by_division = client.get(url, {"division": village.pk})
        assert by_division.content == b"" if user == bank_officer else by_division.status_code == 400
        assert client.get("/resources/map-extent.json").json() == {"bbox": None, "count": 0}


def test_a_bank_sees_in_tiles_only_the_asset_it_holds_a_pledge_on(client, county_staff, bank_officer):
    load_demo_assets()
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    others = Asset.objects.exclude(pk=forest.pk)
    z = 12
    x, y = tile_of(X0 + 0.001, Y0 + 0.001, z)
    for asset in Asset.objects.all():
        assert tile_of(asset.geometry.centroid.x, asset.geometry.centroid.y, z) == (x, y)
    url = f"/resources/tiles/{z}/{x}/{y}.mvt"
    client.force_login(county_staff)
    assert len(codes_in(client.get(url))) == 3
    services.add_pledge(
        actor=county_staff,
        right=Right.objects.get(asset=forest, kind="contract"),
        holder=ensure_party(bank_officer.active_memberships[0].organization),
        rank=1,
        secured_amount="300000.00",
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2029, 3, 1),
        source_document="林权质押合同（演示）",
    )
    client.force_login(User.objects.get(pk=bank_officer.pk))
    assert codes_in(client.get(url)) == [forest.code]
    assert codes_in(client.get(url, {"status": forest.status})) == [forest.code]
    assert codes_in(client.get(url, {"q": others[0].code})) == []
    extent = client.get("/resources/map-extent.json").json()
    assert extent == {"bbox": pytest.approx(list(forest.geometry.extent)), "count": 1}


def test_extent_is_of_the_filtered_visible_assets(client, county_staff, two_parcels):
    _, farmland, _ = two_parcels
    client.force_login(county_staff)
    response = client.get("/resources/map-extent.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=60" and "Cookie" in response["Vary"]
    assert response.json() == {
        "bbox": pytest.approx([X0, Y0, X0 + 0.003, Y0 + 0.001]),
        "count": 2,
    }
    filtered = client.get("/resources/map-extent.json", {"status": "under_review"}).json()
    assert filtered == {"bbox": pytest.approx(list(farmland.geometry.extent)), "count": 1}
    assert client.get("/resources/map-extent.json", {"q": "无此资源"}).json() == {"bbox": None, "count": 0}


def test_extent_with_no_assets_at_all(client, county_staff):
    client.force_login(county_staff)
    assert client.get("/resources/map-extent.json").json() == {"bbox": None, "count": 0}


def test_extent_is_one_query(county_staff, two_parcels, django_assert_num_queries):
    visible = tiles.assets_for(county_staff).exclude(geometry=None)
    with django_assert_num_queries(1):
        bbox, count = tiles.extent_of(visible)
    assert count == 2 and bbox == pytest.approx((X0, Y0, X0 + 0.003, Y0 + 0.001))


def test_tile_sql_takes_a_filtered_queryset_and_keeps_the_bbox_narrowing(county_staff, two_parcels):
    _, farmland, url = two_parcels
    z, x, y = (int(part) for part in url.removesuffix(".mvt").split("/")[-3:])
    only_farmland = tiles.assets_for(county_staff).filter(status="under_review")
    sql, _ = tiles.tile_sql(county_staff, z, x, y, queryset=only_farmland)
    assert "&&" in sql.split("visible AS (")[1].split("),\nfeatures")[0]  # the scope reads the index
    tile = tiles.tile_for(county_staff, z, x, y, queryset=only_farmland)
    assert [f["code"] for f in decode_tile(tile)["assets"][1]] == [farmland.code]


def test_list_page_wires_the_map_to_tiles_with_the_filters(client, county_staff, two_parcels):
    client.force_login(county_staff)
    html = client.get(
        "/resources/", {"status": "under_review", "sort": "-code", "page": "1"}
    ).content.decode()
    assert 'data-tile-url="/resources/tiles/{z}/{x}/{y}.mvt?status=under_review"' in html
    assert 'data-extent-url="/resources/map-extent.json?status=under_review"' in html
    assert 'data-asset-url="/resources/assets/{id}/"' in html
    assert html.index("resources/mvt.js") < html.index("resources/asset_map.js")
    assert '<data value="under_review">审核中</data>' in html
    assert 'href="/resources/map.geojson?status=under_review" download' in html and "导出 GeoJSON" in html
    assert "map.geojson" not in client.get("/static/resources/asset_map.js").getvalue().decode()


def test_geojson_export_is_a_filtered_download(client, county_staff, two_parcels):
    _, farmland, _ = two_parcels
    client.force_login(county_staff)
    response = client.get("/resources/map.geojson", {"status": "under_review"})
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"] == 'attachment; filename="assets.geojson"'
    assert [f["properties"]["code"] for f in response.json()["features"]] == [farmland.code]
