"""Point-in-polygon for district boundaries (GeoJSON Polygon/MultiPolygon) with shapely 2.

A ``DistrictLocator`` holds the boundaries in an STRtree; ``locate`` places a whole batch of
points with one vectorised tree query (bounding boxes) and one vectorised prepared-geometry test
of the candidate (point, district) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from triage.ingest.errors import IngestError

# Points per tree query: bounds the (point, district) pair arrays of a huge batch.
LOCATE_CHUNK = 500_000
POLYGONAL = ("Polygon", "MultiPolygon")


def _rings(geometry: Mapping[str, Any]) -> list[np.ndarray]:
    """Every ring (outer boundaries and holes) of a Polygon or MultiPolygon as (n, 2) arrays."""
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates
    else:
        raise IngestError(f"A district boundary must be a Polygon or MultiPolygon, not {kind!r}.")
    rings = []
    try:
        for polygon in polygons or []:
            for ring in polygon:
                points = np.asarray(ring, dtype=float)[:, :2]
                if len(points) >= 3:
                    rings.append(points)
    except (TypeError, ValueError, IndexError):
        raise IngestError("A district boundary has malformed coordinates.") from None
    if not rings:
        raise IngestError("A district boundary has no ring with at least three points.")
    return rings


def polygon_from_geojson(geometry: Mapping[str, Any]) -> shapely.Geometry:
    """A valid shapely (Multi)Polygon from a GeoJSON geometry, or ``IngestError`` saying why.

    An invalid ring (a self-touching or bow-tie boundary, common in real files) is repaired
    with ``shapely.make_valid``, keeping only its polygonal parts.
    """
    _rings(geometry)  # the type and coordinate checks, with our messages
    try:
        polygon = shape(geometry)
    except (TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        raise IngestError(f"A district boundary has malformed coordinates ({exc}).") from None
    if polygon.is_empty:
        raise IngestError("A district boundary is empty.")
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
        if polygon.geom_type == "GeometryCollection":
            parts = [g for g in polygon.geoms if g.geom_type in POLYGONAL]
            polygon = shapely.union_all(parts) if parts else shapely.Polygon()
        if polygon.is_empty or polygon.geom_type not in POLYGONAL:
            raise IngestError("A district boundary encloses no area once repaired.")
    return polygon


class DistrictLocator:
    """Finds which district contains each point; built once per ingest run, reused per batch."""

    def __init__(self, ids: Sequence[int], geometries: Sequence[Mapping[str, Any]]) -> None:
        if len(ids) != len(geometries):
            raise ValueError("ids and geometries differ in length")
        self.ids = np.asarray(ids, dtype=np.int64)
        self.polygons = np.array([polygon_from_geojson(g) for g in geometries], dtype=object)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """District id per point, or -1 where no district contains it (or the point is NaN).

        ``lon`` and ``lat`` are float arrays of equal length. A point on a boundary counts as
        inside; where districts overlap (or share that boundary), the first one given to the
        constructor wins.
        """
        x = np.asarray(lon, dtype=float)
        y = np.asarray(lat, dtype=float)
        result = np.full(len(x), -1, dtype=np.int64)
        if len(self.ids) == 0 or len(x) == 0:
            return result
        valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        for start in range(0, len(valid), LOCATE_CHUNK):
            chunk = valid[start : start + LOCATE_CHUNK]
            px, py = x[chunk], y[chunk]
            # The tree's query with a predicate re-tests each pair without the prepared index
            # (about 20 times slower on real boundaries), so it only gives bounding-box
            # candidates here and the prepared polygons answer ``intersects_xy`` per pair.
            point_idx, district_idx = self.tree.query(shapely.points(px, py))
            inside = shapely.intersects_xy(
                self.polygons[district_idx], px[point_idx], py[point_idx]
            )
            point_idx, district_idx = point_idx[inside], district_idx[inside]
            if len(point_idx) == 0:
                continue
            # Lowest district index per point: sort pairs by (point, district), keep the first.
            order = np.lexsort((district_idx, point_idx))
            point_idx, district_idx = point_idx[order], district_idx[order]
            first = np.ones(len(point_idx), dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            result[chunk[point_idx[first]]] = self.ids[district_idx[first]]
        return result


def locator_from_feature_collection(
    collection: Mapping[str, Any], code_property: str
) -> tuple[list[str], DistrictLocator]:
    """Codes (from ``code_property``) and a locator for every feature of a FeatureCollection.

    Locator ids are positions in the returned code list.
    """
    features = collection.get("features") if isinstance(collection, Mapping) else None
    if not isinstance(features, list) or not features:
        raise IngestError("The boundary file is not a GeoJSON FeatureCollection with features.")
    codes: list[str] = []
    geometries: list[Mapping[str, Any]] = []
    for feature in features:
        properties = feature.get("properties") or {}
        codes.append(str(properties.get(code_property, len(codes))))
        geometries.append(feature.get("geometry") or {})
    return codes, DistrictLocator(list(range(len(codes))), geometries)
