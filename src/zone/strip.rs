//! The zone strip: the part of the country within a distance of the selected
//! border, as a polygon for maps and for area shares.
//!
//! # The exact pieces
//! The strip is a union of exact geodesic pieces: for every border segment a
//! band whose long sides are the points at exactly `distance_m` along the
//! geodesic normals (sampled at most every [`DENSIFY_M`] metres), at every
//! vertex the geodesic circle arc that fills the gap on the convex side, and
//! circles at the ends of each part. Every boundary vertex is at the exact
//! geodesic distance; between vertices the boundary is a straight lon/lat
//! edge, sampled densely enough that it strays inward by at most
//! [`ARC_SAGITTA_M`] on arcs and outward by about a millimetre where two
//! pieces' edges cross. The zone *decisions* never use this polygon: they use
//! the exact distances of [`super::measure`](mod@super::measure); the strip is
//! for maps and area shares.
//!
//! # Core and shells (filter → refine)
//! A real border wiggles at every scale, and the union of all those pieces
//! (two per vertex, ~2.5 million arc and offset points for Kazakhstan at
//! 20 km) is mostly interior: 95 % of the arc points lie more than 200 m
//! inside the strip. [`zone_band`] builds the same set from two cheaper
//! parts:
//!
//! * the **core**: the pieces of the border simplified to within δ = 4 % of
//!   the distance (Douglas–Peucker on earth-centred chords of at most
//!   5 km), at the radius d − δ − 1 m, with arcs sampled every 10° at most.
//!   Every point of the simplified line is within δ of the border, so the
//!   core lies inside the strip; every point of the border is within δ of
//!   the simplified line, so the core covers every point within d − s of
//!   the border, s = 2δ + the core's arc sagitta (0.5 % of d) + 5 m
//!   (1.7 km at 20 km);
//! * the **shells**: the outer layer (from d − s − [`SHELL_OVERLAP_M`] to d)
//!   of each exact piece — bands, vertex arcs, half circles behind the ends
//!   of a line — only where it can reach the boundary. A direction of a
//!   vertex's arc, or a side of a short segment's band, is left out when a
//!   vertex of the simplified line (of the same part near it; of any part
//!   near the ends) is provably closer than the piece's own vertex or
//!   segment to every point of that outer layer. Those points then have
//!   another nearest feature, whose piece contains them and is not left out
//!   there (that would need a still closer vertex). The test runs in the
//!   tangent plane at the piece's vertex, with a margin
//!   ([`dominance_margin_m`]) twelve times that model's largest error
//!   against Karney's solutions (tested).
//!
//! The shells keep the exact pieces' outer points bit for bit, so the
//! strip's boundary is that of the exact construction; at 20 km of the
//! Kazakh border the union takes 0.3 million points instead of 2.5.
//! [`zone_band_reference`], the union of every exact piece, is kept as the
//! brute-force reference that the tests compare against. [`zone_strip`]
//! also leaves out the pieces that lie wholly outside the country (about
//! half the shells of a state border) before the union.

use std::ops::RangeInclusive;

use geo::orient::{Direction, Orient};
use geo::{Area, BooleanOps, BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};
use rayon::prelude::*;
use rstar::RTree;

use super::border::Border;
use crate::geodesy::{
    direct, inverse, meridional_radius_m, prime_vertical_radius_m, segment_distance_2, Inverse,
    LonLat, SurfacePoint, MIN_RADIUS_OF_CURVATURE_M,
};

/// Longest stretch of a segment's offset sides between sampled points (m).
pub const DENSIFY_M: f64 = 200.0;
/// Largest inward deviation of a sampled circle arc from the true arc (m).
pub const ARC_SAGITTA_M: f64 = 0.25;
/// Names the construction in the strip cache key: a strip cached by another
/// construction is not reused.
pub const CONSTRUCTION: &str = "core and shells, 1";
/// Radial overlap of the shells with the core (m): pieces that overlap
/// union robustly, pieces that only touch may leave slivers.
pub const SHELL_OVERLAP_M: f64 = 10.0;

/// Simplification tolerance of the core, as a fraction of the distance.
const CORE_TOLERANCE: f64 = 0.04;
/// Arc sagitta of the core, as a fraction of the distance.
const CORE_SAGITTA: f64 = 0.005;
/// Offset-side sampling of the core (m): a straight lon/lat edge this long
/// strays from the offset curve by about 0.1 m.
const CORE_DENSIFY_M: f64 = 2_000.0;
/// Longest chord the simplification may replace a stretch by (m): its
/// geodesic strays from the chord by at most 0.5 m.
const CORE_CHORD_MAX_M: f64 = 5_000.0;
/// Step of a shell's inner arc (degrees) and of its inner band side (m).
const SHELL_INNER_STEP_DEG: f64 = 10.0;
const SHELL_INNER_DENSIFY_M: f64 = 2_000.0;
/// How many simplified vertices on either side of a vertex are tried as
/// dominating it.
const CANDIDATE_WINDOW: usize = 48;
/// Below this distance the strip is built from every exact piece.
const MIN_CORE_DISTANCE_M: f64 = 1_000.0;

/// The arc step (degrees) whose chords stray at most `sagitta_m` inside a
/// circle of radius `distance_m`.
fn arc_step_deg(distance_m: f64, sagitta_m: f64) -> f64 {
    // Chord of angle θ on a circle of radius r strays r (1 − cos(θ/2)) inward.
    let half = (1.0 - (sagitta_m / distance_m).min(1.0)).acos();
    (2.0 * half).to_degrees().clamp(0.05, 10.0)
}

/// The azimuths of a sampled circle arc: clockwise from `from` through
/// `sweep` degrees to `to` (equal to `from + sweep` modulo 360; passed
/// separately so that the end points are bit-identical to the neighbouring
/// pieces' corners and the union leaves no sliver), in `n` equal steps.
#[derive(Debug, Clone, Copy)]
struct ArcGrid {
    from: f64,
    sweep: f64,
    to: f64,
    n: usize,
}

impl ArcGrid {
    fn new(from: f64, sweep: f64, to: f64, step_deg: f64) -> Self {
        ArcGrid {
            from,
            sweep,
            to,
            n: (sweep / step_deg).ceil().max(1.0) as usize,
        }
    }

    /// The full circle.
    fn circle(step_deg: f64) -> Self {
        ArcGrid::new(0.0, 360.0, 0.0, step_deg)
    }

    /// The wedge filling the gap on the convex side of a vertex where the
    /// line arrives with azimuth `a_in` and leaves with `a_out`; it reaches
    /// one step into each neighbouring band. `None` where the line is
    /// straight.
    fn wedge(a_in: f64, a_out: f64, step_deg: f64) -> Option<Self> {
        let turn = (a_out - a_in + 540.0).rem_euclid(360.0) - 180.0;
        if turn.abs() < 1e-9 {
            return None;
        }
        let s = step_deg;
        Some(if turn > 0.0 {
            ArcGrid::new(a_in - 90.0 - s, turn + 2.0 * s, a_out - 90.0 + s, s)
        } else {
            ArcGrid::new(a_out + 90.0 - s, -turn + 2.0 * s, a_in + 90.0 + s, s)
        })
    }

    /// The half circle behind the end of a line whose end segment has the
    /// azimuth `az` there (pointing away from the line), reaching one step
    /// into the band.
    fn end_cap(az: f64, step_deg: f64) -> Self {
        let s = step_deg;
        ArcGrid::new(az - 90.0 - s, 180.0 + 2.0 * s, az + 90.0 + s, s)
    }

    /// Azimuth of sample `k` (degrees).
    fn azimuth(&self, k: usize) -> f64 {
        match k {
            0 => self.from,
            k if k == self.n => self.to,
            k => self.from + self.sweep * k as f64 / self.n as f64,
        }
    }

    /// The samples `ks` at `radius_m` around `centre`.
    fn points(&self, centre: LonLat, radius_m: f64, ks: RangeInclusive<usize>) -> Vec<LonLat> {
        ks.map(|k| direct(centre, self.azimuth(k), radius_m).0)
            .collect()
    }
}

fn ring(mut pts: Vec<LonLat>) -> Polygon<f64> {
    if let Some(&first) = pts.first() {
        pts.push(first);
    }
    Polygon::new(LineString(pts), vec![])
}

/// Points along a segment with the segment's azimuth there, at most
/// `densify_m` apart; the ends are the vertices themselves.
fn along(w0: LonLat, w1: LonLat, inv: &Inverse, densify_m: f64) -> Vec<(LonLat, f64)> {
    let n = (inv.distance_m / densify_m).ceil().max(1.0) as usize;
    (0..=n)
        .map(|k| {
            if k == 0 {
                (w0, inv.azimuth1_deg)
            } else if k == n {
                (w1, inv.azimuth2_deg)
            } else {
                direct(w0, inv.azimuth1_deg, inv.distance_m * k as f64 / n as f64)
            }
        })
        .collect()
}

/// The two sides of a segment, as offsets from its azimuth (degrees).
const LEFT: f64 = -90.0;
const RIGHT: f64 = 90.0;

fn offsets(samples: &[(LonLat, f64)], side: f64, radius_m: f64) -> Vec<LonLat> {
    samples
        .iter()
        .map(|&(p, az)| direct(p, az + side, radius_m).0)
        .collect()
}

fn dedup(coords: &[LonLat]) -> Vec<LonLat> {
    let mut v = coords.to_vec();
    v.dedup();
    v
}

/// The exact pieces of the buffer of one polyline at `radius_m`, each with
/// the index of the vertex it belongs to (a band: its first vertex), in
/// order along the line (cap, band, wedge, band, …, cap), so that
/// neighbours in the list overlap.
fn part_pieces(
    coords: &[LonLat],
    radius_m: f64,
    step_deg: f64,
    densify_m: f64,
) -> Vec<(usize, Polygon<f64>)> {
    let circle = ArcGrid::circle(step_deg);
    let disc = |c: LonLat| ring(circle.points(c, radius_m, 0..=circle.n));
    let mut pieces = vec![(0, disc(coords[0]))];
    if coords.len() == 1 {
        return pieces;
    }
    let mut prev_in_az = f64::NAN;
    for (i, w) in coords.windows(2).enumerate() {
        let inv = inverse(w[0], w[1]);
        if i > 0 {
            if let Some(g) = ArcGrid::wedge(prev_in_az, inv.azimuth1_deg, step_deg) {
                let mut pts = vec![w[0]];
                pts.extend(g.points(w[0], radius_m, 0..=g.n));
                pieces.push((i, ring(pts)));
            }
        }
        prev_in_az = inv.azimuth2_deg;
        let samples = along(w[0], w[1], &inv, densify_m);
        // The band passes through both segment ends: its short sides are then
        // the same straight edges (vertex to offset point) as the wedges',
        // with no sliver between them.
        let mut band = Vec::with_capacity(2 * samples.len() + 2);
        band.push(w[0]);
        band.extend(offsets(&samples, LEFT, radius_m));
        band.push(w[1]);
        let mut right = offsets(&samples, RIGHT, radius_m);
        right.reverse();
        band.extend(right);
        pieces.push((i, ring(band)));
    }
    let last = coords.len() - 1;
    pieces.push((last, disc(coords[last])));
    pieces
}

/// Pieces per block of [`union_all`].
const UNION_BLOCK: usize = 32;

/// Holes smaller than this (square degrees, about a square metre) are
/// slivers the polygon union leaves where pieces meet on the border line,
/// not places beyond the distance.
const SLIVER_DEG2: f64 = 1e-10;

/// Union of `pieces`: blocks of [`UNION_BLOCK`] consecutive pieces (which
/// overlap) merged as balanced binary trees, then all blocks in one sweep
/// (they meet only at their ends). The result does not depend on the number
/// of threads. Oriented per RFC 7946, without sliver holes.
fn union_all(pieces: &[Polygon<f64>]) -> MultiPolygon<f64> {
    let blocks: Vec<MultiPolygon<f64>> = pieces
        .par_chunks(UNION_BLOCK)
        .map(|b| tree_union(b).orient(Direction::Default))
        .collect();
    let mut union = match blocks.len() {
        0 => MultiPolygon(vec![]),
        1 => blocks.into_iter().next().expect("one block"),
        // Consistently oriented: the union is where the winding is positive.
        _ => geo::unary_union(&blocks).orient(Direction::Default),
    };
    let sliver =
        |h: &LineString<f64>| Polygon::new(h.clone(), vec![]).unsigned_area() < SLIVER_DEG2;
    for p in &mut union.0 {
        if p.interiors().iter().any(sliver) {
            let (exterior, holes) =
                std::mem::replace(p, Polygon::new(LineString(vec![]), vec![])).into_inner();
            *p = Polygon::new(exterior, holes.into_iter().filter(|h| !sliver(h)).collect());
        }
    }
    union
}

/// Union of `pieces` as a balanced binary tree over their order: neighbours
/// (which overlap) meet first and every level stays small.
fn tree_union(pieces: &[Polygon<f64>]) -> MultiPolygon<f64> {
    match pieces.len() {
        0 => MultiPolygon(vec![]),
        1 => MultiPolygon(vec![pieces[0].clone()]),
        n => {
            let (a, b) = pieces.split_at(n / 2);
            let (ua, ub) = rayon::join(|| tree_union(a), || tree_union(b));
            ua.union(&ub)
        }
    }
}

/// The set of points within `distance_m` of `border` (both sides), as the
/// union of every exact piece in one binary tree: the brute-force reference
/// of [`zone_band`] and the construction before it (same boundary, about
/// six times slower; may keep sliver holes on the border line). Oriented
/// per RFC 7946.
pub fn zone_band_reference(border: &Border, distance_m: f64) -> MultiPolygon<f64> {
    tree_union(&every_exact_piece(border, distance_m)).orient(Direction::Default)
}

/// Every exact piece of the buffer of `border` at `distance_m`.
fn every_exact_piece(border: &Border, distance_m: f64) -> Vec<Polygon<f64>> {
    let step = arc_step_deg(distance_m, ARC_SAGITTA_M);
    border
        .parts
        .par_iter()
        .flat_map_iter(|p| part_pieces(&dedup(&p.coords), distance_m, step, DENSIFY_M))
        .map(|(_, p)| p)
        .collect()
}

/// The set of points within `distance_m` of `border` (both sides), oriented
/// per RFC 7946 (exterior rings counter-clockwise): the union of the core
/// and the shells (see the module docs).
///
/// # Runtime
/// Dominated by the polygon union of the core's pieces and of the shells
/// that can reach the boundary.
pub fn zone_band(border: &Border, distance_m: f64) -> MultiPolygon<f64> {
    union_all(&band_pieces(border, distance_m, None))
}

/// The zone strip: the part of `country` within `distance_m` of `border`
/// (the same set as `clip_to(&zone_band(border, distance_m), country)`),
/// oriented per RFC 7946. Pieces that lie wholly outside the country are
/// left out of the union: the intersection with the country does not need
/// them, and about half the pieces of a state border are abroad.
pub fn zone_strip(
    border: &Border,
    distance_m: f64,
    country: &MultiPolygon<f64>,
) -> MultiPolygon<f64> {
    let abroad = OutsideMask::new(country);
    let mut pieces = band_pieces(border, distance_m, abroad.as_ref());
    if let Some(abroad) = &abroad {
        pieces.retain(|p| !p.bounding_rect().is_some_and(|r| abroad.holds(&r)));
    }
    clip_to(&union_all(&pieces), country)
}

/// The pieces whose union is the band, in order along each part; shells
/// certainly inside `abroad`'s cells are not even built.
fn band_pieces(
    border: &Border,
    distance_m: f64,
    abroad: Option<&OutsideMask>,
) -> Vec<Polygon<f64>> {
    if distance_m < MIN_CORE_DISTANCE_M {
        return every_exact_piece(border, distance_m);
    }
    let plan = Plan::new(distance_m);
    let parts: Vec<Prepared> = border
        .parts
        .par_iter()
        .map(|p| plan.prepare(dedup(&p.coords)))
        .collect();
    let nearby = RTree::bulk_load(
        parts
            .iter()
            .flat_map(|p| p.keep.iter().map(|&k| p.surface[k].xyz))
            .collect(),
    );
    parts
        .par_iter()
        .flat_map_iter(|p| plan.part(p, &nearby, abroad))
        .collect()
}

/// The cells of a lon/lat grid over a polygon's bounding box that lie
/// certainly outside it: no edge's bounding box touches them and their
/// centre is outside (even–odd crossings, as the polygon operations read
/// the polygon).
struct OutsideMask {
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    outside: Vec<bool>,
}

/// Cells along the longer side of an [`OutsideMask`].
const MASK_CELLS: f64 = 1024.0;

impl OutsideMask {
    fn new(area: &MultiPolygon<f64>) -> Option<Self> {
        let r = area.bounding_rect()?;
        let cell = (r.width().max(r.height()) / MASK_CELLS).max(1e-6);
        let nx = (r.width() / cell).ceil() as usize + 3;
        let ny = (r.height() / cell).ceil() as usize + 3;
        let mut mask = OutsideMask {
            x0: r.min().x - cell,
            y0: r.min().y - cell,
            cell,
            nx,
            ny,
            outside: vec![true; nx * ny],
        };
        let mut touched = vec![false; nx * ny];
        let mut crossings: Vec<Vec<f64>> = vec![Vec::new(); ny];
        let rings = area
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()));
        for ring in rings {
            for l in ring.lines() {
                let (a, b) = (l.start, l.end);
                for j in mask.row(a.y.min(b.y))..=mask.row(a.y.max(b.y)) {
                    for i in mask.col(a.x.min(b.x))..=mask.col(a.x.max(b.x)) {
                        touched[j * nx + i] = true;
                    }
                    let yc = mask.y0 + (j as f64 + 0.5) * cell;
                    if (a.y > yc) != (b.y > yc) {
                        crossings[j].push(a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y));
                    }
                }
            }
        }
        for (j, xs) in crossings.iter_mut().enumerate() {
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                for i in mask.col(pair[0])..=mask.col(pair[1]) {
                    let xc = mask.x0 + (i as f64 + 0.5) * cell;
                    if xc >= pair[0] && xc <= pair[1] {
                        mask.outside[j * nx + i] = false;
                    }
                }
            }
        }
        for (o, t) in mask.outside.iter_mut().zip(&touched) {
            *o &= !t;
        }
        Some(mask)
    }

    /// The column of longitude `x` (clamped to the grid).
    fn col(&self, x: f64) -> usize {
        (((x - self.x0) / self.cell).floor().max(0.0) as usize).min(self.nx - 1)
    }

    /// The row of latitude `y` (clamped to the grid).
    fn row(&self, y: f64) -> usize {
        (((y - self.y0) / self.cell).floor().max(0.0) as usize).min(self.ny - 1)
    }

    /// Whether every point of `r` is certainly outside the polygon.
    fn holds(&self, r: &Rect<f64>) -> bool {
        let (gx1, gy1) = (
            self.x0 + self.nx as f64 * self.cell,
            self.y0 + self.ny as f64 * self.cell,
        );
        if r.max().x < self.x0 || r.min().x > gx1 || r.max().y < self.y0 || r.min().y > gy1 {
            return true;
        }
        (self.row(r.min().y)..=self.row(r.max().y)).all(|j| {
            (self.col(r.min().x)..=self.col(r.max().x)).all(|i| self.outside[j * self.nx + i])
        })
    }
}

/// The margin (m) by which a simplified vertex must be closer than a piece's
/// own feature, in the tangent-plane model, for the piece's outer layer to
/// be left out at `distance_m`. The model's error grows as the cube of the
/// distances involved (up to about 2.5 d) over the square of the earth's
/// radius: measured against Karney's solutions at every latitude, it stays
/// below 0.17 (2.5 d)³ / R², 0.5 m at 20 km. The margin is twelve times
/// that, plus a metre (7.2 m at 20 km).
pub fn dominance_margin_m(distance_m: f64) -> f64 {
    let reach = 2.5 * distance_m;
    1.0 + 2.0 * reach.powi(3) / (MIN_RADIUS_OF_CURVATURE_M * MIN_RADIUS_OF_CURVATURE_M)
}

/// A lon/lat box that surely holds every point at `r0_m..=r1_m` metres from
/// `centre` in the azimuths `az0..=az1` (degrees clockwise from north,
/// `az1 ≥ az0`): the extremes of the east and north offsets, scaled by the
/// radii of curvature at the centre, widened by a margin well above that
/// local scale's error (tested against Karney's solutions). `None` within
/// 15° of a pole or across the antimeridian.
fn sector_box(centre: LonLat, az0: f64, az1: f64, r0_m: f64, r1_m: f64) -> Option<Rect<f64>> {
    if centre.y.abs() > 75.0 {
        return None;
    }
    let mut azimuths = vec![az0, az1];
    let mut k = (az0 / 90.0).ceil();
    while k * 90.0 < az1 {
        azimuths.push(k * 90.0);
        k += 1.0;
    }
    let (mut e0, mut e1, mut n0, mut n1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for az in azimuths {
        let (sa, ca) = az.to_radians().sin_cos();
        for r in [r0_m, r1_m] {
            e0 = e0.min(r * sa);
            e1 = e1.max(r * sa);
            n0 = n0.min(r * ca);
            n1 = n1.max(r * ca);
        }
    }
    let lat = centre.y.to_radians();
    let n_radius = prime_vertical_radius_m(lat.sin());
    let m_radius = meridional_radius_m(lat.sin());
    let margin = 50.0 + 3.0 * r1_m * r1_m / MIN_RADIUS_OF_CURVATURE_M * (1.0 + lat.tan().abs());
    let dlat = |m: f64| (m / m_radius).to_degrees();
    let dlon = |m: f64| (m / (n_radius * lat.cos())).to_degrees();
    let (west, east) = (centre.x + dlon(e0 - margin), centre.x + dlon(e1 + margin));
    if west < -180.0 || east > 180.0 {
        // Across the antimeridian the points' longitudes wrap.
        return None;
    }
    Some(Rect::new(
        Coord {
            x: west,
            y: centre.y + dlat(n0 - margin),
        },
        Coord {
            x: east,
            y: centre.y + dlat(n1 + margin),
        },
    ))
}

/// A lon/lat box that surely holds one side of a short segment's band
/// between `r0_m` and `r1_m` from it: the boxes of its two end normals
/// ([`sector_box`]) together. `None` where either is.
fn side_box(w: &[LonLat], inv: &Inverse, side: f64, r0_m: f64, r1_m: f64) -> Option<Rect<f64>> {
    let a = sector_box(
        w[0],
        inv.azimuth1_deg + side,
        inv.azimuth1_deg + side,
        r0_m,
        r1_m,
    )?;
    let b = sector_box(
        w[1],
        inv.azimuth2_deg + side,
        inv.azimuth2_deg + side,
        r0_m,
        r1_m,
    )?;
    Some(Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    ))
}

/// One polyline of the border, ready for the core-and-shells construction.
struct Prepared {
    coords: Vec<LonLat>,
    surface: Vec<SurfacePoint>,
    /// The vertices of the simplified line (indices into `coords`).
    keep: Vec<usize>,
}

/// The radii and steps of the core-and-shells construction at one distance.
#[derive(Debug, Clone, Copy)]
struct Plan {
    distance_m: f64,
    step_deg: f64,
    /// Simplification tolerance δ (m).
    tolerance_m: f64,
    core_radius_m: f64,
    core_step_deg: f64,
    /// The shells must cover the points farther than this from the border.
    covered_below_m: f64,
    shell_inner_m: f64,
    margin_m: f64,
}

impl Plan {
    fn new(distance_m: f64) -> Self {
        let tolerance_m = CORE_TOLERANCE * distance_m;
        let core_radius_m = distance_m - tolerance_m - 1.0;
        let core_sagitta_m = CORE_SAGITTA * distance_m;
        // The core contains every point within core_radius − sagitta (less
        // ~0.1 m of lon/lat edges) of the simplified line, hence within
        // that less δ of the border.
        let covered_below_m = core_radius_m - core_sagitta_m - tolerance_m - 4.0;
        Plan {
            distance_m,
            step_deg: arc_step_deg(distance_m, ARC_SAGITTA_M),
            tolerance_m,
            core_radius_m,
            core_step_deg: arc_step_deg(core_radius_m, core_sagitta_m),
            covered_below_m,
            shell_inner_m: covered_below_m - SHELL_OVERLAP_M,
            margin_m: dominance_margin_m(distance_m),
        }
    }

    /// One polyline (duplicate vertices removed) made ready: its surface
    /// points and the vertices kept by the simplification.
    fn prepare(&self, coords: Vec<LonLat>) -> Prepared {
        let surface: Vec<SurfacePoint> = coords.iter().map(|&c| SurfacePoint::new(c)).collect();
        let keep = simplify(&surface, self.tolerance_m - 2.0, CORE_CHORD_MAX_M);
        Prepared {
            coords,
            surface,
            keep,
        }
    }

    /// The core pieces and the shells of one polyline, in order along it.
    /// `nearby` finds the simplified vertices of every part within reach of
    /// a point (for the ends of the line, where other parts meet it).
    fn part(
        &self,
        part: &Prepared,
        nearby: &RTree<[f64; 3]>,
        abroad: Option<&OutsideMask>,
    ) -> Vec<Polygon<f64>> {
        let Prepared { coords, keep, .. } = part;
        if coords.len() == 1 {
            // A circle: its exact piece.
            return part_pieces(coords, self.distance_m, self.step_deg, DENSIFY_M)
                .into_iter()
                .map(|(_, p)| p)
                .collect();
        }
        let simplified: Vec<LonLat> = keep.iter().map(|&k| coords[k]).collect();
        let mut pieces: Vec<(usize, Polygon<f64>)> = part_pieces(
            &simplified,
            self.core_radius_m,
            self.core_step_deg,
            CORE_DENSIFY_M,
        )
        .into_iter()
        .map(|(k, p)| (keep[k], p))
        .collect();
        pieces.extend(self.shells(part, nearby, abroad));
        // Stable: at one vertex the core piece comes first.
        pieces.sort_by_key(|(k, _)| *k);
        pieces.into_iter().map(|(_, p)| p).collect()
    }

    /// The simplified vertices of the same part near vertex `i` along the
    /// line, tried as dominating it.
    fn along_line<'a>(part: &'a Prepared, i: usize) -> impl Iterator<Item = &'a [f64; 3]> + 'a {
        let pos = part.keep.partition_point(|&k| k < i);
        let lo = pos.saturating_sub(CANDIDATE_WINDOW);
        let hi = (pos + CANDIDATE_WINDOW).min(part.keep.len());
        part.keep[lo..hi]
            .iter()
            .filter(move |&&k| k != i)
            .map(move |&k| &part.surface[k].xyz)
    }

    fn shells(
        &self,
        part: &Prepared,
        nearby: &RTree<[f64; 3]>,
        abroad: Option<&OutsideMask>,
    ) -> Vec<(usize, Polygon<f64>)> {
        let Prepared {
            coords, surface, ..
        } = part;
        let d = self.distance_m;
        let last = coords.len() - 1;
        let mut shells = Vec::new();
        let arc_shells =
            |shells: &mut Vec<(usize, Polygon<f64>)>,
             i: usize,
             grid: ArcGrid,
             candidates: &mut dyn Iterator<Item = &[f64; 3]>| {
                for ks in exposed_samples(&grid, &surface[i], candidates, self) {
                    let a0 = grid.azimuth(*ks.start());
                    let span = grid.sweep * (ks.end() - ks.start()) as f64 / grid.n as f64;
                    let sector =
                        sector_box(coords[i], a0, a0 + span.max(0.0), self.shell_inner_m, d);
                    if sector.is_some_and(|b| abroad.is_some_and(|m| m.holds(&b))) {
                        continue;
                    }
                    shells.extend(
                        self.arc_shell(coords[i], &grid, ks)
                            .into_iter()
                            .map(|p| (i, p)),
                    );
                }
            };
        // Within reach of an end: any vertex of any part (chords are never
        // longer than geodesics, so the query misses none).
        let reach = 2.0 * d + self.margin_m;
        let around = |i: usize| {
            nearby
                .locate_within_distance(surface[i].xyz, reach * reach)
                .filter(move |x| **x != surface[i].xyz)
        };
        let invs: Vec<Inverse> = coords.windows(2).map(|w| inverse(w[0], w[1])).collect();
        arc_shells(
            &mut shells,
            0,
            ArcGrid::end_cap(invs[0].azimuth1_deg + 180.0, self.step_deg),
            &mut around(0),
        );
        for (i, w) in coords.windows(2).enumerate() {
            let inv = &invs[i];
            if i > 0 {
                if let Some(g) =
                    ArcGrid::wedge(invs[i - 1].azimuth2_deg, inv.azimuth1_deg, self.step_deg)
                {
                    arc_shells(&mut shells, i, g, &mut Self::along_line(part, i));
                }
            }
            let end = surface[i].east_north(&surface[i + 1].xyz);
            let short = inv.distance_m <= d / 2.0;
            let open: Vec<f64> = [LEFT, RIGHT]
                .into_iter()
                .filter(|&side| {
                    !short
                        || !(side_dominated(
                            end,
                            side,
                            Self::along_line(part, i),
                            &surface[i],
                            self,
                        ) || abroad.is_some_and(|m| {
                            side_box(w, inv, side, self.shell_inner_m, d)
                                .is_some_and(|b| m.holds(&b))
                        }))
                })
                .collect();
            if open.is_empty() {
                continue;
            }
            let samples = along(w[0], w[1], inv, DENSIFY_M);
            let every = ((SHELL_INNER_DENSIFY_M / DENSIFY_M) as usize).max(1);
            let inner_samples: Vec<(LonLat, f64)> = samples
                .iter()
                .enumerate()
                .filter(|(k, _)| k % every == 0 || *k == samples.len() - 1)
                .map(|(_, s)| *s)
                .collect();
            for side in open {
                let mut pts = offsets(&samples, side, d);
                let mut inner = offsets(&inner_samples, side, self.shell_inner_m);
                inner.reverse();
                pts.extend(inner);
                shells.push((i, ring(pts)));
            }
        }
        arc_shells(
            &mut shells,
            last,
            ArcGrid::end_cap(invs[last - 1].azimuth2_deg, self.step_deg),
            &mut around(last),
        );
        shells
    }

    /// The shell of samples `ks` of an arc around `centre`: the outer arc at
    /// the distance, the inner one at the shell's inner radius; split so
    /// that no piece turns through more than half a circle.
    fn arc_shell(
        &self,
        centre: LonLat,
        grid: &ArcGrid,
        ks: RangeInclusive<usize>,
    ) -> Vec<Polygon<f64>> {
        let (k0, k1) = (*ks.start(), *ks.end());
        let per_piece = ((180.0 / (grid.sweep / grid.n as f64)).floor() as usize).max(1);
        let mut out = Vec::new();
        let mut a = k0;
        loop {
            let b = (a + per_piece).min(k1);
            let mut pts = grid.points(centre, self.distance_m, a..=b);
            let (az_a, az_b) = (grid.azimuth(a), grid.azimuth(b));
            let span = grid.sweep * (b - a) as f64 / grid.n as f64;
            let m = (span / SHELL_INNER_STEP_DEG).ceil().max(1.0) as usize;
            pts.extend((0..=m).rev().map(|j| {
                let az = match j {
                    0 => az_a,
                    j if j == m => az_b,
                    j => az_a + span * j as f64 / m as f64,
                };
                direct(centre, az, self.shell_inner_m).0
            }));
            out.push(ring(pts));
            if b == k1 {
                return out;
            }
            // The next piece starts one step back: neighbours overlap.
            a = b - 1;
        }
    }
}

/// The tangent-plane model of the dominance test: `w` (east, north, m) is a
/// vertex relative to the piece's vertex; the azimuths (degrees, clockwise
/// from north) whose ray points at every radius from `radius_m` outwards are
/// closer to `w` by more than `margin_m` than to the piece's vertex, as an
/// interval centred on the azimuth of `w`; `None` when there are none.
///
/// `within` (the unit vector of an azimuth and the cosine and sine of an
/// angle up to 90°) skips the trigonometry when the interval cannot reach
/// within that angle of that azimuth.
fn dominated_azimuths(
    w: [f64; 2],
    radius_m: f64,
    margin_m: f64,
    within: Option<([f64; 2], f64, f64)>,
) -> Option<(f64, f64)> {
    // |r u − w| < r − μ  ⇔  u·w > (|w|² − μ²) / 2r + μ, which holds for
    // every larger r once it holds at r.
    let rho = (w[0] * w[0] + w[1] * w[1]).sqrt();
    if rho <= margin_m {
        return None;
    }
    let c = (rho * rho - margin_m * margin_m) / (2.0 * radius_m) + margin_m;
    if c >= rho {
        return None;
    }
    let cos_half = c / rho;
    if let Some((u, cos_h, sin_h)) = within {
        // The angle φ between w and u is below half + h iff
        // cos φ > cos(half + h) (both angles within [0°, 180°]).
        let cos_phi = (w[0] * u[0] + w[1] * u[1]) / rho;
        let sin_half = (1.0 - cos_half * cos_half).max(0.0).sqrt();
        if cos_phi <= cos_half * cos_h - sin_half * sin_h {
            return None;
        }
    }
    Some((w[0].atan2(w[1]).to_degrees(), cos_half.acos().to_degrees()))
}

/// The runs of samples of `grid` (around `centre`) that a shell must cover:
/// every direction not dominated by one of `candidates`, rounded outward to
/// the samples.
fn exposed_samples(
    grid: &ArcGrid,
    centre: &SurfacePoint,
    candidates: &mut dyn Iterator<Item = &[f64; 3]>,
    plan: &Plan,
) -> Vec<RangeInclusive<usize>> {
    let mut dominated: Vec<(f64, f64)> = Vec::new();
    let h = grid.sweep / 2.0;
    let within = (h < 90.0).then(|| {
        let (sin_c, cos_c) = (grid.from + h).to_radians().sin_cos();
        let (sin_h, cos_h) = h.to_radians().sin_cos();
        ([sin_c, cos_c], cos_h, sin_h)
    });
    for c in candidates {
        let w = centre.east_north(c);
        if let Some((az, half)) = dominated_azimuths(w, plan.covered_below_m, plan.margin_m, within)
        {
            let t = (az - grid.from).rem_euclid(360.0);
            for shift in [-360.0, 0.0, 360.0] {
                let (lo, hi) = (
                    (t + shift - half).max(0.0),
                    (t + shift + half).min(grid.sweep),
                );
                if lo < hi {
                    dominated.push((lo, hi));
                }
            }
        }
    }
    dominated.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The exposed intervals: the gaps between the merged dominated ones.
    let mut exposed: Vec<(f64, f64)> = Vec::new();
    let mut reached = 0.0f64;
    for (lo, hi) in dominated {
        if lo > reached {
            exposed.push((reached, lo));
        }
        reached = reached.max(hi);
    }
    if reached < grid.sweep {
        exposed.push((reached, grid.sweep));
    }
    let dt = grid.sweep / grid.n as f64;
    let mut runs: Vec<RangeInclusive<usize>> = Vec::new();
    for (lo, hi) in exposed {
        let k0 = (lo / dt).floor() as usize;
        let k1 = ((hi / dt).ceil() as usize).min(grid.n);
        match runs.last_mut() {
            Some(r) if k0 <= *r.end() => *r = *r.start()..=k1.max(*r.end()),
            _ => runs.push(k0..=k1),
        }
    }
    runs
}

/// Whether one side of a segment's band (`end`: the segment's far vertex in
/// the tangent plane at its first vertex `start`) is dominated, between the
/// radius the shells must cover and the distance, by one candidate: the test
/// runs on the corners of that rectangle, and the set of points closer to a
/// point by a margin than to a line is convex.
fn side_dominated<'a>(
    end: [f64; 2],
    side: f64,
    mut candidates: impl Iterator<Item = &'a [f64; 3]>,
    start: &SurfacePoint,
    plan: &Plan,
) -> bool {
    let len = (end[0] * end[0] + end[1] * end[1]).sqrt();
    if len == 0.0 {
        return false;
    }
    let u = [end[0] / len, end[1] / len];
    // East/north: left of travel is the direction turned counter-clockwise.
    let n = if side == LEFT {
        [-u[1], u[0]]
    } else {
        [u[1], -u[0]]
    };
    let (r0, r1) = (plan.covered_below_m, plan.distance_m);
    let corners = [
        ([r0 * n[0], r0 * n[1]], r0),
        ([r1 * n[0], r1 * n[1]], r1),
        ([end[0] + r0 * n[0], end[1] + r0 * n[1]], r0),
        ([end[0] + r1 * n[0], end[1] + r1 * n[1]], r1),
    ];
    candidates.any(|c| {
        let w = start.east_north(c);
        corners.iter().all(|(q, r)| {
            let (dx, dy) = (q[0] - w[0], q[1] - w[1]);
            let reach = r - plan.margin_m;
            dx * dx + dy * dy < reach * reach
        })
    })
}

/// Douglas–Peucker on earth-centred coordinates: the indices of the vertices
/// kept so that every dropped vertex is within `tolerance_m` of the chord
/// that replaces it, and no chord is longer than `max_chord_m` (unless it is
/// one original segment). The first and last vertices are always kept.
fn simplify(points: &[SurfacePoint], tolerance_m: f64, max_chord_m: f64) -> Vec<usize> {
    let n = points.len();
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0, n - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (pa, pb) = (points[a].xyz, points[b].xyz);
        let ab = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
        let len2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
        let (mut worst, mut at) = (-1.0, a + 1);
        for (i, p) in points.iter().enumerate().take(b).skip(a + 1) {
            let d2 = segment_distance_2(&p.xyz, &pa, &ab, len2);
            if d2 > worst {
                worst = d2;
                at = i;
            }
        }
        if worst > tolerance_m * tolerance_m || len2 > max_chord_m * max_chord_m {
            keep[at] = true;
            stack.push((a, at));
            stack.push((at, b));
        }
    }
    (0..n).filter(|&i| keep[i]).collect()
}

/// The part of `band` inside `country`, oriented per RFC 7946.
pub fn clip_to(band: &MultiPolygon<f64>, country: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    country.intersection(band).orient(Direction::Default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::distance_m;
    use crate::test_rand::{rand01, random_walk};
    use crate::zone::border::BorderPart;
    use crate::zone::index::SegmentIndex;
    use geo::{Contains, Coord, Intersects, Point};
    use std::path::Path;

    fn kazakh_border() -> Border {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/kz/border_lines.geojson");
        Border::read(&path, "neighbour").unwrap()
    }

    fn kazakh_country() -> MultiPolygon<f64> {
        crate::jobs::zone::read_area(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/kz/country.geojson"),
        )
        .unwrap()
    }

    fn rings(m: &MultiPolygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
        m.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    }

    #[test]
    fn simplified_line_stays_within_the_tolerance() {
        let mut seed = 11;
        for case in 0..20 {
            // Wiggly lines of 2,000 vertices ~100–300 m apart at varied
            // latitudes; tolerance 40–400 m as in the core (δ less 2 m).
            let lat = -60.0 + 6.0 * case as f64;
            let line = random_walk(
                &mut seed,
                2_000,
                (40.0, lat),
                (0.0005, 0.002),
                (0.0015, 0.5),
            );
            let tolerance_m = 40.0 + 18.0 * case as f64;
            let surface: Vec<SurfacePoint> = line.iter().map(|&c| SurfacePoint::new(c)).collect();
            let keep = simplify(&surface, tolerance_m - 2.0, CORE_CHORD_MAX_M);
            assert!(keep.len() < line.len() / 2, "{case}: kept {}", keep.len());
            let simplified: Vec<LonLat> = keep.iter().map(|&k| line[k]).collect();
            let original = SegmentIndex::build([line.as_slice()]);
            let reduced = SegmentIndex::build([simplified.as_slice()]);
            // Both ways, by exact geodesic distances: every vertex of the
            // line near the simplified line, and every point of the
            // simplified line (sampled every 20 m) near the line.
            for &c in &line {
                let d = reduced.nearest(c).unwrap().distance_m;
                assert!(d <= tolerance_m - 1.0, "{case}: vertex {d} m off");
            }
            for w in simplified.windows(2) {
                let inv = inverse(w[0], w[1]);
                assert!(inv.distance_m <= CORE_CHORD_MAX_M + 1.0 || keep.len() == line.len());
                for (p, _) in along(w[0], w[1], &inv, 20.0) {
                    let d = original.nearest(p).unwrap().distance_m;
                    assert!(d <= tolerance_m - 1.0, "{case}: chord point {d} m off");
                }
            }
        }
    }

    /// Probes around `border` at known exact distances: inside the band
    /// below d − 0.3 m (the arc sagitta and a margin), outside beyond
    /// d + 0.01 m.
    fn probe(band: &MultiPolygon<f64>, border: &Border, distance_m: f64, probes: usize, seed: u64) {
        let index = crate::zone::BorderIndex::build(border);
        let vertices: Vec<LonLat> = border
            .parts
            .iter()
            .flat_map(|p| p.coords.iter().copied())
            .collect();
        let mut s = seed;
        let (mut inside, mut outside) = (0, 0);
        for k in 0..probes {
            let v = vertices[(rand01(&mut s) * vertices.len() as f64) as usize];
            let r = if k % 2 == 0 {
                distance_m - 1_000.0 + 4_000.0 * rand01(&mut s)
            } else {
                distance_m * rand01(&mut s)
            };
            let p = direct(v, 360.0 * rand01(&mut s), r).0;
            let d = index.nearest(p).unwrap().distance_m;
            if d < distance_m - 0.3 {
                assert!(
                    band.contains(&Point(p)),
                    "{p:?} at {d} m is not in the band"
                );
                inside += 1;
            } else if d > distance_m + 0.01 {
                assert!(!band.contains(&Point(p)), "{p:?} at {d} m is in the band");
                outside += 1;
            }
        }
        assert!(
            inside > probes / 2 && outside > probes / 100,
            "{inside} / {outside}"
        );
    }

    /// `zone_band` against the union of every exact piece: every vertex of
    /// every ring at the exact distance (on an arc or offset point, or where
    /// two edges cross: at most the arc sagitta inside, a few millimetres
    /// outside; no sliver hole), the same area to 10⁻⁷, what is in one only
    /// fitting in a 0.25 m seam along the boundary (2·10⁻⁵ deg² ≈ 0.2 km²;
    /// one missing piece would be square kilometres), and probes at known
    /// distances on the right side.
    fn check_against_reference(border: &Border, distance_m: f64, probes: usize, seed: u64) {
        let index = crate::zone::BorderIndex::build(border);
        let band = zone_band(border, distance_m);
        let reference = zone_band_reference(border, distance_m);
        for ring in rings(&band) {
            for c in &ring.0 {
                let d = index.nearest(*c).unwrap().distance_m - distance_m;
                assert!(
                    (-0.26..0.005).contains(&d),
                    "{distance_m}: vertex {c:?} at {d} m"
                );
            }
        }
        let (a, b) = (band.unsigned_area(), reference.unsigned_area());
        assert!(((a - b) / b).abs() < 1e-7, "{distance_m}: {a} vs {b}");
        let apart = band.xor(&reference).unsigned_area();
        assert!(apart < 2e-5, "{distance_m}: {apart} deg² apart");
        probe(&band, border, distance_m, probes, seed);
    }

    #[test]
    fn zone_band_is_the_reference_band_on_the_kazakh_border() {
        let border = kazakh_border();
        for distance_m in [20_000.0, 10_000.0] {
            check_against_reference(&border, distance_m, 1_000, distance_m as u64);
        }
    }

    #[test]
    fn odd_parts_give_the_reference_band() {
        // A closed ring (an enclave's border), one segment, a line that
        // doubles back on itself, and a long straight segment.
        let mut s = 3;
        let ring: Vec<LonLat> = (0..=60)
            .map(|k| {
                let a = (k % 60) as f64 * 6.0;
                let r = 0.05 + 0.01 * rand01(&mut s);
                let (sa, ca) = a.to_radians().sin_cos();
                Coord {
                    x: 70.0 + r * ca / 0.7,
                    y: 45.0 + r * sa,
                }
            })
            .collect();
        let mut ring = ring;
        ring[60] = ring[0];
        let parts = vec![
            ring,
            vec![Coord { x: 72.0, y: 45.0 }, Coord { x: 72.05, y: 45.02 }],
            vec![
                Coord { x: 73.0, y: 45.0 },
                Coord { x: 73.2, y: 45.0 },
                Coord { x: 73.0, y: 45.001 },
            ],
            vec![Coord { x: 74.0, y: 44.0 }, Coord { x: 75.5, y: 45.5 }],
        ];
        let border = Border {
            parts: parts
                .into_iter()
                .enumerate()
                .map(|(feature, coords)| BorderPart {
                    neighbour: "X".into(),
                    coords,
                    feature,
                })
                .collect(),
        };
        for distance_m in [5_000.0, 20_000.0] {
            check_against_reference(&border, distance_m, 400, 9);
        }
    }

    #[test]
    fn zone_strip_is_the_band_inside_the_country() {
        let border = kazakh_border();
        let country = kazakh_country();
        for neighbours in [vec!["CHN".to_string()], vec![]] {
            let selected = if neighbours.is_empty() {
                border.clone()
            } else {
                border.select(&neighbours, Path::new("border")).unwrap()
            };
            let strip = zone_strip(&selected, 20_000.0, &country);
            let clipped = clip_to(&zone_band(&selected, 20_000.0), &country);
            let (a, b) = (strip.unsigned_area(), clipped.unsigned_area());
            assert!(((a - b) / b).abs() < 1e-7, "{neighbours:?}: {a} vs {b}");
            assert!(strip.xor(&clipped).unsigned_area() < 1e-5, "{neighbours:?}");
        }
    }

    #[test]
    fn sector_box_holds_the_sector() {
        // Karney's points of random sectors (up to 50 km, half a circle, at
        // every latitude the box is made for) all fall inside the box.
        let mut s = 17;
        for _ in 0..3_000 {
            let centre = Coord {
                x: 360.0 * rand01(&mut s) - 180.0,
                y: 150.0 * rand01(&mut s) - 75.0,
            };
            let r1 = 1_000.0 + 49_000.0 * rand01(&mut s);
            let r0 = r1 * (0.8 + 0.2 * rand01(&mut s));
            let az0 = 720.0 * rand01(&mut s) - 360.0;
            let az1 = az0 + 180.0 * rand01(&mut s);
            let Some(b) = sector_box(centre, az0, az1, r0, r1) else {
                assert!(centre.x.abs() > 170.0);
                continue;
            };
            for k in 0..=8 {
                for r in [r0, 0.5 * (r0 + r1), r1] {
                    let p = direct(centre, az0 + (az1 - az0) * k as f64 / 8.0, r).0;
                    assert!(
                        b.min().x <= p.x
                            && p.x <= b.max().x
                            && b.min().y <= p.y
                            && p.y <= b.max().y,
                        "{p:?} outside {b:?} ({centre:?}, {az0}..{az1}, {r0}..{r1})"
                    );
                }
            }
        }
        assert!(sector_box(Coord { x: 0.0, y: 80.0 }, 0.0, 10.0, 1.0, 2.0).is_none());
    }

    #[test]
    fn outside_mask_claims_only_boxes_outside_the_polygon() {
        let country = kazakh_country();
        let mask = OutsideMask::new(&country).unwrap();
        let r = country.bounding_rect().unwrap();
        let mut s = 5;
        let mut claimed = 0;
        for _ in 0..4_000 {
            let size = 0.001 * 500f64.powf(rand01(&mut s));
            let x = r.min().x - 1.0 + (r.width() + 2.0) * rand01(&mut s);
            let y = r.min().y - 1.0 + (r.height() + 2.0) * rand01(&mut s);
            let b = Rect::new(
                Coord { x, y },
                Coord {
                    x: x + size,
                    y: y + size,
                },
            );
            if mask.holds(&b) {
                claimed += 1;
                assert!(!country.intersects(&b.to_polygon()), "{b:?}");
            }
        }
        // It does claim something: most of the bounding box is abroad.
        assert!(claimed > 1_000, "{claimed}");
    }

    /// The largest error (m) of the tangent-plane model against Karney's
    /// solutions, over random cases at every latitude: the distance from a
    /// point at radius r ≤ d of a vertex (arcs) or on the normal of a segment
    /// up to d/2 long (bands) to another vertex up to 2.5 d away.
    fn model_error_m(d: f64, cases: usize, seed: u64) -> f64 {
        let mut s = seed;
        let mut worst = 0.0f64;
        for _ in 0..cases {
            let v = Coord {
                x: 360.0 * rand01(&mut s) - 180.0,
                y: 170.0 * rand01(&mut s) - 85.0,
            };
            let sv = SurfacePoint::new(v);
            let other = direct(v, 360.0 * rand01(&mut s), 2.5 * d * rand01(&mut s)).0;
            let w = sv.east_north(&SurfacePoint::new(other).xyz);
            let r = d * (0.5 + 0.5 * rand01(&mut s));
            // Arc: the point at r along azimuth a.
            let a = 360.0 * rand01(&mut s);
            let q = direct(v, a, r).0;
            let (sa, ca) = a.to_radians().sin_cos();
            let model = (r * sa - w[0]).hypot(r * ca - w[1]);
            worst = worst.max((model - distance_m(q, other)).abs());
            // Band: the point at r on the left normal, t along a segment.
            let len = 0.5 * d * rand01(&mut s);
            let t = len * rand01(&mut s);
            let end = direct(v, a, len).0;
            let (x, az) = direct(v, a, t);
            let q = direct(x, az + LEFT, r).0;
            let e = sv.east_north(&SurfacePoint::new(end).xyz);
            let el = e[0].hypot(e[1]);
            let (u, n) = if el > 0.0 {
                ([e[0] / el, e[1] / el], [-e[1] / el, e[0] / el])
            } else {
                ([sa, ca], [-ca, sa])
            };
            let m = [t * u[0] + r * n[0], t * u[1] + r * n[1]];
            let model = (m[0] - w[0]).hypot(m[1] - w[1]);
            worst = worst.max((model - distance_m(q, other)).abs());
        }
        worst
    }

    #[test]
    fn dominance_margin_covers_the_model_error() {
        for (i, d) in [1_000.0, 5_000.0, 20_000.0, 50_000.0, 100_000.0, 300_000.0]
            .into_iter()
            .enumerate()
        {
            let err = model_error_m(d, 20_000, 7 + i as u64);
            let reach = 2.5 * d;
            let ratio =
                err / (reach.powi(3) / (MIN_RADIUS_OF_CURVATURE_M * MIN_RADIUS_OF_CURVATURE_M));
            eprintln!(
                "d {d}: model error {err:.4} m, ratio {ratio:.3}, margin {:.2}",
                dominance_margin_m(d)
            );
            assert!(err * 10.0 < dominance_margin_m(d), "{d}: {err}");
        }
    }

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
