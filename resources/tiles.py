"""Mapbox vector tiles of the assets a user may see, made by PostGIS (ST_AsMVT), so that a map of
a million parcels only ever moves the few hundred that fall in one tile.

The asset map on the list page draws these tiles (resources/static/resources/asset_map.js) with
the list's filters in the querystring; `map_assets` binds those filters once for the tile, the
extent and the GeoJSON export, so all three show the same assets as the table."""

import math

from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext as _

from .filters import AssetFilter
from .selectors import assets_for

MAX_ZOOM = 22

_HEAD = "WITH bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS tile), visible AS ("
_TAIL = """),
features AS (
    SELECT ST_AsMVTGeom(ST_Transform(a.geometry, 3857), bounds.tile, 4096, 64, true) AS geom,
           a.id, a.code, a.status, t.code AS type, t.name AS type_name
    FROM resources_asset a
    JOIN resources_resourcetype t ON t.id = a.resource_type_id
    CROSS JOIN bounds
    WHERE a.geometry && ST_Transform(bounds.tile, 4490)
      AND a.id IN (SELECT id FROM visible)
)
SELECT ST_AsMVT(features.*, 'assets', 4096, 'geom') FROM features WHERE geom IS NOT NULL"""


def map_assets(request):
    """The user's assets that have a geometry, filtered by the request's querystring with the list
    page's AssetFilter, and the bound filterset (check `filterset.is_valid()` before using the
    queryset: an invalid filter must not silently widen to “everything”)."""
    visible = assets_for(request.user).exclude(geometry=None)
    filterset = AssetFilter(request.GET, queryset=visible, request=request)  # bound even when empty
    return (filterset.qs if filterset.is_valid() else visible.none()), filterset


def invalid_filter_error(filterset):
    """The API's error body for a querystring the AssetFilter rejects."""
    fields = {
        name: [e["message"] for e in errors] for name, errors in filterset.errors.get_json_data().items()
    }
    return {"code": "invalid_filter", "detail": _("筛选条件有误，请修改后重试。"), "fields": fields}


def extent_of(queryset):
    """(west, south, east, north) in degrees of the assets' geometries, or None when there are
    none, and how many there are; one aggregate query (ST_Extent + count)."""
    summary = queryset.order_by().aggregate(extent=Extent("geometry"), count=Count("pk"))
    return summary["extent"], summary["count"]


def tile_bounds(z, x, y):
    """The tile as a lon/lat rectangle (inverse Web Mercator), to let the scope query use the index."""
    n = 2**z

    def lon(tx):
        return tx / n * 360 - 180

    def lat(ty):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return Polygon.from_bbox((lon(x), lat(y + 1), lon(x + 1), lat(y)))


def tile_sql(user, z, x, y, queryset=None):
    """SQL and its parameters (after z, x, y) for one tile: the user's scope is the same queryset
    the lists use, narrowed to the tile's rectangle so that PostgreSQL reads only that corner of
    the spatial index.

    `queryset`, when given, replaces `assets_for(user)` (e.g. the list's filters applied to it); it
    must already be restricted to the user, since it is used as is."""
    bounds = tile_bounds(z, x, y)
    bounds.srid = 4490
    scoped = assets_for(user) if queryset is None else queryset
    visible = scoped.filter(geometry__bboverlaps=bounds).order_by().values("id")
    visible_sql, visible_params = visible.query.sql_with_params()
    return _HEAD + visible_sql + _TAIL, list(visible_params)


def tile_for(user, z, x, y, queryset=None):
    """The tile's bytes (possibly empty), or None when z/x/y do not name a tile. `queryset` as in
    `tile_sql`."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        return None
    sql, params = tile_sql(user, z, x, y, queryset)
    with connection.cursor() as cursor:
        cursor.execute(sql, [z, x, y, *params])
        (tile,) = cursor.fetchone()
    return bytes(tile or b"")
