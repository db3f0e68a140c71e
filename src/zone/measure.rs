//! Distance from a settlement geometry (point, multipoint, polygon,
//! multipolygon) to the selected border, exactly on the WGS84 ellipsoid.

use geo::{Centroid, Geometry, InteriorPoint, Intersects, Line, MultiPolygon, Point, Polygon};

use super::border::{geometry_type, BorderIndex};
use super::index::{ecef_box, Nearest, SegmentIndex};
use crate::geodesy::LonLat;

/// How a polygon settlement is placed relative to the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolygonMode {
    /// In the zone when any part of the polygon is within the distance.
    #[default]
    AnyPart,
    /// In the zone when its centroid is.
    Centroid,
    /// As `AnyPart`, and the share of its area inside the zone is reported.
    Share,
}

impl std::str::FromStr for PolygonMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "any-part" => Ok(PolygonMode::AnyPart),
            "centroid" => Ok(PolygonMode::Centroid),
            "share" => Ok(PolygonMode::Share),
            _ => Err(format!(
                "unknown polygon mode '{s}': expected any-part, centroid or share"
            )),
        }
    }
}

impl std::fmt::Display for PolygonMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolygonMode::AnyPart => "any-part",
            PolygonMode::Centroid => "centroid",
            PolygonMode::Share => "share",
        })
    }
}

/// What was measured for one settlement.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Exact geodesic distance to the selected border (m): of the point, of
    /// the nearest part (any-part, share) or of the centroid.
    pub distance_m: f64,
    /// The border segment and the nearest border point.
    pub nearest: Nearest,
    /// The point reported as the settlement's lon/lat: the point itself, a
    /// point guaranteed inside a polygon, or the centroid in centroid mode.
    pub representative: LonLat,
}

/// Measure `geometry` against `border`.
///
/// # Errors
/// An unsupported or empty geometry, or an empty border, as a message for the
/// caller to attach to the feature.
pub fn measure(
    border: &BorderIndex,
    geometry: &Geometry<f64>,
    mode: PolygonMode,
) -> Result<Measurement, String> {
    let segments = border.segments();
    let rep = |g: &Geometry<f64>| {
        g.interior_point()
            .map(|p| p.0)
            .ok_or_else(|| "empty geometry".to_string())
    };
    let nearest_point = |p: LonLat| {
        segments
            .nearest(p)
            .ok_or_else(|| "the selected border is empty".to_string())
    };
    let (nearest, representative) = match geometry {
        Geometry::Point(p) => (nearest_point(p.0)?, p.0),
        Geometry::MultiPoint(mp) => {
            let mut best: Option<Nearest> = None;
            for p in &mp.0 {
                let n = nearest_point(p.0)?;
                if best.is_none_or(|b| n.distance_m < b.distance_m) {
                    best = Some(n);
                }
            }
            (best.ok_or("empty MultiPoint")?, rep(geometry)?)
        }
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => {
            let polys: Vec<&Polygon<f64>> = match geometry {
                Geometry::Polygon(p) => vec![p],
                Geometry::MultiPolygon(mp) => mp.0.iter().collect(),
                _ => unreachable!("matched above"),
            };
            if polys.iter().all(|p| p.exterior().0.len() < 4) {
                return Err("empty polygon (an exterior ring needs at least 4 positions)".into());
            }
            if mode == PolygonMode::Centroid {
                let c = geometry.centroid().ok_or("empty polygon")?;
                (nearest_point(c.0)?, c.0)
            } else {
                let mut best: Option<Nearest> = None;
                for p in polys {
                    if let Some(n) = polygon_nearest(segments, p) {
                        if best
                            .is_none_or(|b| (n.distance_m, n.segment) < (b.distance_m, b.segment))
                        {
                            best = Some(n);
                        }
                    }
                }
                (best.ok_or("the selected border is empty")?, rep(geometry)?)
            }
        }
        other => {
            return Err(format!(
                "a settlement must be a Point, MultiPoint, Polygon or MultiPolygon, found {}",
                geometry_type(other)
            ))
        }
    };
    Ok(Measurement {
        distance_m: nearest.distance_m,
        nearest,
        representative,
    })
}

/// Exact distance from a polygon (boundary and interior) to the border
/// segments: zero when the border touches or enters the polygon; otherwise
/// the smaller of the polygon's vertices to the border and the border's
/// vertices to the polygon's edges (the minimum between two non-crossing
/// segments is reached at an end of one of them).
fn polygon_nearest(border: &SegmentIndex, polygon: &Polygon<f64>) -> Option<Nearest> {
    let rings: Vec<&[LonLat]> = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|r| r.0.as_slice())
        .collect();
    // Filter: the nearest border point to any vertex bounds the answer.
    let mut best: Option<Nearest> = None;
    for v in rings.iter().flat_map(|r| r.iter()) {
        let bound = best.map_or(f64::INFINITY, |b| b.distance_m);
        if let Some(n) = border.nearest_within(*v, bound) {
            if n.better_than_opt(&best) {
                best = Some(n);
            }
        }
    }
    let mut best = best?;
    let ring_index = SegmentIndex::build(rings.iter().copied());
    let longest_m = ring_index
        .segments()
        .iter()
        .map(|s| s.geodesic.length_m)
        .fold(0.0, f64::max);
    let (min, max) = ecef_box(rings.iter().flat_map(|r| r.iter().copied()), longest_m);
    for (id, seg) in border.segments_near_box(min, max, best.distance_m) {
        let g = seg.geodesic;
        if polygon.intersects(&Line::new(g.a, g.b)) {
            let foot = if polygon.intersects(&Point(g.a)) {
                g.a
            } else {
                g.b
            };
            return Some(Nearest {
                distance_m: 0.0,
                segment: id,
                foot,
            });
        }
        for v in [g.a, g.b] {
            if let Some(n) = ring_index.nearest_within(v, best.distance_m) {
                let cand = Nearest {
                    distance_m: n.distance_m,
                    segment: id,
                    foot: v,
                };
                if cand.better_than_opt(&Some(best)) {
                    best = cand;
                }
            }
        }
    }
    Some(best)
}

/// Geodesic area (m²) of `polygon` inside `zone`, and of the whole polygon.
pub fn area_inside_m2(geometry: &Geometry<f64>, zone: &MultiPolygon<f64>) -> Option<(f64, f64)> {
    use geo::{BooleanOps, GeodesicArea};
    let mp: MultiPolygon<f64> = match geometry {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        _ => return None,
    };
    let whole = mp.geodesic_area_unsigned();
    let inside = mp.intersection(zone).geodesic_area_unsigned();
    Some((inside, whole))
}
