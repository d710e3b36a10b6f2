import math

import pytest

from resources.models import Asset

from .conftest import X0, Y0


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def parcel(make_asset):
    return make_asset()


def test_tile_contains_the_visible_parcel(client, county_staff, parcel):
    client.force_login(county_staff)
    x, y = tile_of(X0 + 0.0005, Y0 + 0.0005, 16)
    response = client.get(f"/resources/tiles/16/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert len(response.content) > 20
    assert parcel.code.encode() in response.content  # the feature's attributes are in the tile


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
