"""Point-in-polygon for district boundaries (GeoJSON Polygon/MultiPolygon), vectorised with numpy.

No shapely: a bounding-box prefilter picks candidate districts per point, then an even-odd ray
test runs only against the boundary edges that share the point's horizontal band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from triage.ingest.errors import IngestError

# Edges per band aimed for when slicing a district into horizontal bands: small enough that a
# point tests a few dozen edges, large enough that the band tables stay small.
EDGES_PER_BAND = 12
MAX_BANDS = 512
# Upper bound on (point, edge) pairs tested at once, to keep memory flat for huge batches.
MAX_PAIRS = 4_000_000


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


class DistrictLocator:
    """Finds which district contains each point; built once per ingest run, reused per batch."""

    def __init__(self, ids: Sequence[int], geometries: Sequence[Mapping[str, Any]]) -> None:
        if len(ids) != len(geometries):
            raise ValueError("ids and geometries differ in length")
        self.ids = np.asarray(ids, dtype=np.int64)
        n = len(ids)
        self.bbox = np.zeros((n, 4))  # minx, miny, maxx, maxy
        band_lo: list[float] = []
        band_height: list[float] = []
        band_count: list[int] = []
        band_offset: list[int] = []
        edges: list[np.ndarray] = []
        edge_rows: list[np.ndarray] = []  # CSR: band -> edge indices, concatenated
        band_ptr: list[np.ndarray] = []
        edge_base = 0
        band_base = 0
        row_base = 0
        for d, geometry in enumerate(geometries):
            rings = _rings(geometry)
            segs = np.concatenate(
                [np.hstack([ring, np.roll(ring, -1, axis=0)]) for ring in rings]
            )  # x1, y1, x2, y2 per edge; np.roll closes each ring
            segs = segs[segs[:, 1] != segs[:, 3]]  # horizontal edges never cross a horizontal ray
            allpts = np.concatenate(rings)
            self.bbox[d] = [*allpts.min(axis=0), *allpts.max(axis=0)]
            miny, maxy = self.bbox[d, 1], self.bbox[d, 3]
            bands = int(min(MAX_BANDS, max(1, len(segs) // EDGES_PER_BAND)))
            height = (maxy - miny) / bands or 1.0
            lo_band = np.clip(((np.minimum(segs[:, 1], segs[:, 3]) - miny) / height), 0, bands - 1)
            hi_band = np.clip(((np.maximum(segs[:, 1], segs[:, 3]) - miny) / height), 0, bands - 1)
            lo_band = lo_band.astype(np.int64)
            hi_band = hi_band.astype(np.int64)
            span = hi_band - lo_band + 1
            edge_idx = np.repeat(np.arange(len(segs)), span)
            starts = np.repeat(lo_band, span)
            within = np.arange(len(edge_idx)) - np.repeat(np.cumsum(span) - span, span)
            band_of = starts + within
            order = np.argsort(band_of, kind="stable")
            counts = np.bincount(band_of, minlength=bands)
            ptr = np.concatenate([[0], np.cumsum(counts)])
            edges.append(segs)
            edge_rows.append(edge_idx[order] + edge_base)
            band_ptr.append(ptr[:-1] + row_base)
            row_base += len(edge_idx)
            band_lo.append(miny)
            band_height.append(height)
            band_count.append(bands)
            band_offset.append(band_base)
            edge_base += len(segs)
            band_base += bands
        self.edges = np.concatenate(edges) if edges else np.zeros((0, 4))
        self.edge_rows = np.concatenate(edge_rows) if edge_rows else np.zeros(0, np.int64)
        starts_all = np.concatenate(band_ptr) if band_ptr else np.zeros(0, np.int64)
        self.band_start = starts_all.astype(np.int64)
        self.band_end = np.append(self.band_start[1:], len(self.edge_rows)).astype(np.int64)
        self.band_lo = np.asarray(band_lo)
        self.band_height = np.asarray(band_height)
        self.band_count = np.asarray(band_count, dtype=np.int64)
        self.band_offset = np.asarray(band_offset, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """District id per point, or -1 where no district contains it (or the point is NaN).

        ``lon`` and ``lat`` are float arrays of equal length; where districts overlap, the
        first one given to the constructor wins.
        """
        x = np.asarray(lon, dtype=float)
        y = np.asarray(lat, dtype=float)
        result = np.full(len(x), -1, dtype=np.int64)
        if len(self.ids) == 0 or len(x) == 0:
            return result
        valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        step = max(1, MAX_PAIRS // max(1, 64 * len(self.ids)))
        for start in range(0, len(valid), step):
            chunk = valid[start : start + step]
            result[chunk] = self._locate(x[chunk], y[chunk])
        return result

    def _locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        box = self.bbox
        hit = (
            (x[:, None] >= box[None, :, 0])
            & (x[:, None] <= box[None, :, 2])
            & (y[:, None] >= box[None, :, 1])
            & (y[:, None] <= box[None, :, 3])
        )
        point_idx, district_idx = np.nonzero(hit)
        found = np.full(len(x), -1, dtype=np.int64)
        if len(point_idx) == 0:
            return found
        px = x[point_idx]
        py = y[point_idx]
        band = (py - self.band_lo[district_idx]) / self.band_height[district_idx]
        band = np.clip(band.astype(np.int64), 0, self.band_count[district_idx] - 1)
        global_band = self.band_offset[district_idx] + band
        lo = self.band_start[global_band]
        hi = self.band_end[global_band]
        span = hi - lo
        pair = np.repeat(np.arange(len(point_idx)), span)
        offset = np.arange(len(pair)) - np.repeat(np.cumsum(span) - span, span)
        seg = self.edges[self.edge_rows[np.repeat(lo, span) + offset]]
        qx = px[pair]
        qy = py[pair]
        x1, y1, x2, y2 = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
        straddles = (y1 > qy) != (y2 > qy)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = x1 + (qy - y1) * (x2 - x1) / (y2 - y1)
        crossings = straddles & (qx < cross_x)
        inside = (np.bincount(pair, weights=crossings, minlength=len(point_idx)) % 2) == 1
        # Candidates come out ordered by point then district, so the first hit per point is
        # the lowest district index: reverse-assign so earlier districts overwrite later ones.
        hits = np.flatnonzero(inside)[::-1]
        found[point_idx[hits]] = self.ids[district_idx[hits]]
        return found


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
