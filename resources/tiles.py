"""Mapbox vector tiles of the assets a user may see, made by PostGIS (ST_AsMVT), so that a map of
a million parcels only ever moves the few hundred that fall in one tile."""

import math

from django.contrib.gis.geos import Polygon
from django.db import connection

from .selectors import assets_for

MAX_ZOOM = 22

_HEAD = "WITH bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS tile), visible AS ("
_TAIL = """),
features AS (
    SELECT ST_AsMVTGeom(ST_Transform(a.geometry, 3857), bounds.tile, 4096, 64, true) AS geom,
           a.id, a.code, a.status, t.code AS type
    FROM resources_asset a
    JOIN resources_resourcetype t ON t.id = a.resource_type_id
    CROSS JOIN bounds
    WHERE a.geometry && ST_Transform(bounds.tile, 4490)
      AND a.id IN (SELECT id FROM visible)
)
SELECT ST_AsMVT(features.*, 'assets', 4096, 'geom') FROM features WHERE geom IS NOT NULL"""


def tile_bounds(z, x, y):
    """The tile as a lon/lat rectangle (inverse Web Mercator), to let the scope query use the index."""
    n = 2**z

    def lon(tx):
        return tx / n * 360 - 180

    def lat(ty):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return Polygon.from_bbox((lon(x), lat(y + 1), lon(x + 1), lat(y)))


def tile_sql(user, z, x, y):
    """SQL and its parameters (after z, x, y) for one tile: the user's scope is the same queryset
    the lists use, narrowed to the tile's rectangle so that PostgreSQL reads only that corner of
    the spatial index."""
    bounds = tile_bounds(z, x, y)
    bounds.srid = 4490
    visible = assets_for(user).filter(geometry__bboverlaps=bounds).values("id")
    visible_sql, visible_params = visible.query.sql_with_params()
    return _HEAD + visible_sql + _TAIL, list(visible_params)


def tile_for(user, z, x, y):
    """The tile's bytes (possibly empty), or None when z/x/y do not name a tile."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        return None
    sql, params = tile_sql(user, z, x, y)
    with connection.cursor() as cursor:
        cursor.execute(sql, [z, x, y, *params])
        (tile,) = cursor.fetchone()
    return bytes(tile or b"")
