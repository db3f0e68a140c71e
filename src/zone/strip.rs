//! The zone strip: the part of the country within a distance of the selected
//! border, as a polygon for maps and for area shares.
//!
//! Built as the union of exact geodesic pieces: for every border segment a
//! band whose long sides are the points at exactly `distance_m` along the
//! geodesic normals (sampled at most every [`DENSIFY_M`] metres), and at every
//! vertex the geodesic circle arc that fills the gap on the convex side
//! (full circles at the ends of each part). Every boundary vertex is at the
//! exact geodesic distance; between vertices the boundary is a straight
//! lon/lat edge, sampled densely enough that it strays inward by at most
//! [`ARC_SAGITTA_M`] on arcs and outward by about a millimetre where two
//! bands' edges cross. The zone *decisions* never use this polygon: they use
//! the exact distances of [`super::measure`](mod@super::measure); the strip is for maps and
//! area shares.

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use super::border::Border;
use crate::geodesy::{direct, inverse, LonLat};

/// Longest stretch of a segment's offset sides between sampled points (m).
pub const DENSIFY_M: f64 = 200.0;
/// Largest inward deviation of a sampled circle arc from the true arc (m).
pub const ARC_SAGITTA_M: f64 = 0.25;

fn arc_step_deg(distance_m: f64) -> f64 {
    // Chord of angle θ on a circle of radius r strays r (1 − cos(θ/2)) inward.
    let half = (1.0 - (ARC_SAGITTA_M / distance_m).min(1.0)).acos();
    (2.0 * half).to_degrees().clamp(0.05, 10.0)
}

/// Points at `radius_m` around `centre`, clockwise from azimuth `from_deg`
/// through `sweep_deg` degrees to azimuth `to_deg` (equal to `from_deg +
/// sweep_deg` modulo 360; passed separately so that the end points are
/// bit-identical to the neighbouring pieces' corners and the union leaves
/// no sliver).
fn arc(
    centre: LonLat,
    radius_m: f64,
    from_deg: f64,
    sweep_deg: f64,
    to_deg: f64,
    step_deg: f64,
) -> Vec<LonLat> {
    let n = (sweep_deg / step_deg).ceil().max(1.0) as usize;
    (0..=n)
        .map(|k| {
            let az = match k {
                0 => from_deg,
                k if k == n => to_deg,
                k => from_deg + sweep_deg * k as f64 / n as f64,
            };
            direct(centre, az, radius_m).0
        })
        .collect()
}

fn ring(mut pts: Vec<LonLat>) -> Polygon<f64> {
    if let Some(&first) = pts.first() {
        pts.push(first);
    }
    Polygon::new(LineString(pts), vec![])
}

/// The circle sector filling the gap on the convex side of vertex `v`,
/// where a segment arriving with azimuth `a_in` leaves with `a_out`.
fn wedge(v: LonLat, a_in: f64, a_out: f64, distance_m: f64, step_deg: f64) -> Option<Polygon<f64>> {
    let turn = (a_out - a_in + 540.0).rem_euclid(360.0) - 180.0;
    if turn.abs() < 1e-9 {
        return None;
    }
    // The wedge reaches one arc step into each neighbouring band: pieces
    // that overlap union robustly, pieces that only share an edge may not.
    let arc_pts = if turn > 0.0 {
        let from = a_in - 90.0 - step_deg;
        arc(
            v,
            distance_m,
            from,
            turn + 2.0 * step_deg,
            a_out - 90.0 + step_deg,
            step_deg,
        )
    } else {
        let from = a_out + 90.0 - step_deg;
        arc(
            v,
            distance_m,
            from,
            -turn + 2.0 * step_deg,
            a_in + 90.0 + step_deg,
            step_deg,
        )
    };
    let mut pts = vec![v];
    pts.extend(arc_pts);
    Some(ring(pts))
}

/// Union of `pieces` as a balanced binary tree over their order: neighbours
/// (which overlap) meet first, every level stays small, and the result does
/// not depend on the number of threads.
fn tree_union(pieces: &[MultiPolygon<f64>]) -> MultiPolygon<f64> {
    match pieces.len() {
        0 => MultiPolygon(vec![]),
        1 => pieces[0].clone(),
        n => {
            let (a, b) = pieces.split_at(n / 2);
            let (ua, ub) = rayon::join(|| tree_union(a), || tree_union(b));
            ua.union(&ub)
        }
    }
}

/// The pieces whose union is the buffer of one polyline.
fn part_pieces(coords: &[LonLat], distance_m: f64, step_deg: f64) -> Vec<Polygon<f64>> {
    let coords: Vec<LonLat> = {
        let mut v: Vec<LonLat> = coords.to_vec();
        v.dedup();
        v
    };
    let mut pieces = Vec::new();
    if coords.len() == 1 {
        pieces.push(ring(arc(coords[0], distance_m, 0.0, 360.0, 0.0, step_deg)));
        return pieces;
    }
    // Pieces in order along the line (cap, band, wedge, band, …, cap), so
    // that neighbours in the list overlap and the tree union below stays
    // small at every level.
    pieces.push(ring(arc(coords[0], distance_m, 0.0, 360.0, 0.0, step_deg)));
    let mut prev_in_az = f64::NAN;
    for (i, w) in coords.windows(2).enumerate() {
        let inv = inverse(w[0], w[1]);
        if i > 0 {
            if let Some(wedge) = wedge(w[0], prev_in_az, inv.azimuth1_deg, distance_m, step_deg) {
                pieces.push(wedge);
            }
        }
        prev_in_az = inv.azimuth2_deg;
        let n = (inv.distance_m / DENSIFY_M).ceil().max(1.0) as usize;
        let mut left = Vec::with_capacity(n + 1);
        let mut right = Vec::with_capacity(n + 1);
        for k in 0..=n {
            let (p, az) = if k == 0 {
                (w[0], inv.azimuth1_deg)
            } else if k == n {
                (w[1], inv.azimuth2_deg)
            } else {
                direct(w[0], inv.azimuth1_deg, inv.distance_m * k as f64 / n as f64)
            };
            left.push(direct(p, az - 90.0, distance_m).0);
            right.push(direct(p, az + 90.0, distance_m).0);
        }
        // The band passes through both segment ends: its short sides are then
        // the same straight edges (vertex to offset point) as the wedges',
        // with no sliver between them.
        right.reverse();
        let mut band = Vec::with_capacity(2 * n + 4);
        band.push(w[0]);
        band.extend(left);
        band.push(w[1]);
        band.extend(right);
        pieces.push(ring(band));
    }
    pieces.push(ring(arc(
        coords[coords.len() - 1],
        distance_m,
        0.0,
        360.0,
        0.0,
        step_deg,
    )));
    pieces
}

/// The set of points within `distance_m` of `border` (both sides), oriented
/// per RFC 7946 (exterior rings counter-clockwise).
///
/// # Runtime
/// Dominated by the polygon union of about two pieces per border vertex.
pub fn zone_band(border: &Border, distance_m: f64) -> MultiPolygon<f64> {
    let step = arc_step_deg(distance_m);
    let pieces: Vec<MultiPolygon<f64>> = border
        .parts
        .par_iter()
        .flat_map_iter(|p| part_pieces(&p.coords, distance_m, step))
        .map(|p| MultiPolygon(vec![p]))
        .collect();
    tree_union(&pieces).orient(Direction::Default)
}

/// The part of `band` inside `country`, oriented per RFC 7946.
pub fn clip_to(band: &MultiPolygon<f64>, country: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    country.intersection(band).orient(Direction::Default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::distance_m;
    use crate::zone::border::BorderPart;
    use crate::zone::index::SegmentIndex;
    use geo::{Contains, Coord, Point};

    #[test]
    fn strip_boundary_is_at_the_distance() {
        let coords = vec![
            Coord { x: 80.0, y: 44.0 },
            Coord { x: 80.3, y: 44.1 },
            Coord { x: 80.5, y: 44.6 },
            Coord { x: 81.2, y: 44.5 },
        ];
        let border = Border {
            parts: vec![BorderPart {
                neighbour: "CHN".into(),
                coords: coords.clone(),
                feature: 0,
            }],
        };
        let strip = zone_band(&border, 20_000.0);
        let idx = SegmentIndex::build([coords.as_slice()]);
        // Every boundary vertex of the strip is at 20 km: exactly where it
        // was computed, at most the arc sampling budget inward where two
        // pieces' edges cross.
        let mut n = 0;
        for poly in &strip.0 {
            for c in poly.exterior().0.iter() {
                let d = idx.nearest(*c).unwrap().distance_m;
                assert!(
                    d < 20_000.0 + 2e-3 && d > 20_000.0 - ARC_SAGITTA_M,
                    "{d} at {c:?}"
                );
                n += 1;
            }
        }
        assert!(n > 50);
        // Behind the first vertex: 19.9 km is inside, 20.1 km outside.
        let probe_in = direct(coords[0], 180.0, 19_900.0).0;
        let probe_out = direct(coords[0], 180.0, 20_100.0).0;
        assert!((distance_m(coords[0], probe_in) - 19_900.0).abs() < 1e-6);
        assert!(strip.contains(&Point(probe_in)));
        assert!(!strip.contains(&Point(probe_out)));
    }
}
