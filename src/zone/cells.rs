//! Certified cells: a lon/lat quadtree, refined lazily where points fall,
//! whose cells are *proven* to lie wholly inside or wholly outside the zone.
//!
//! A cell is certified from one exact measurement at its centre `c` and a
//! proven bound `r` on how far any point of the cell is from `c`: by the
//! triangle inequality every point `p` of the cell has
//! `d(c) − r ≤ d(p) ≤ d(c) + r`, so the cell is inside the zone when
//! `d(c) + r ≤ width` and outside when `d(c) − r > width` (each with a
//! millimetre to spare for rounding). Cells that straddle the zone's edge are
//! split into four, down to [`MAX_LEVEL`] (≈ 50 m); points in the finest
//! straddling cells are measured exactly. The verdict for a point is a pure
//! function of the point (the cell it falls in), so results never depend on
//! the thread count or on the order of the points.
//!
//! The radius bound: for `p` in a cell with centre `c` (latitude φc) and
//! half-sizes Δλ, Δφ, go from `c` along its parallel to `p`'s longitude, then
//! along the meridian to `p`. The geodesic is never longer than that path, so
//! `d(c, p) ≤ N(φc) cos φc Δλ + M_max Δφ`, where N is the prime-vertical
//! radius of curvature and M_max = a / √(1 − e²) the largest meridional
//! radius of curvature (at the poles).

use std::collections::HashMap;
use std::sync::Mutex;

use super::index::SegmentIndex;
use crate::geodesy::{LonLat, WGS84_A_M, WGS84_F};

/// Size of the coarsest cells (degrees).
pub const LEVEL0_DEG: f64 = 4.0;
/// The finest level: cells of 4° / 2¹³ ≈ 0.00049° (≈ 54 m north–south).
pub const MAX_LEVEL: u32 = 13;
/// Safety margin on both certificates (m).
const MARGIN_M: f64 = 1e-3;
/// Cache shards (lookups from different threads rarely meet on one).
const SHARDS: usize = 64;
/// A shard is cleared beyond this many cells: at most 64 × 16,384 cells of
/// 16 bytes (16 MB) stay cached. Clearing costs time only: the verdicts
/// are the same.
const SHARD_LIMIT: usize = 1 << 14;

/// What the cells say about a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Proven within the width; the point's distance is at most `upper_m`.
    Inside {
        /// Upper bound of the point's distance (m).
        upper_m: f64,
    },
    /// Proven farther than the width.
    Outside,
    /// Near the zone's edge: measure exactly.
    Undecided,
}

/// A certified cell: `upper_m` (the largest distance of any of its points,
/// rounded up to f32) when inside, or one of the two markers below.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CellState(f32);

const OUTSIDE: f32 = -1.0;
const STRADDLES: f32 = -2.0;

/// Multiplicative hashing of the (already well spread) cell keys.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Shard = HashMap<u64, CellState, std::hash::BuildHasherDefault<KeyHasher>>;

/// Certified cells for one border selection and one zone width.
#[derive(Debug)]
pub struct ZoneCells<'a> {
    index: &'a SegmentIndex,
    width_m: f64,
    /// Cells certified so far, shared by all threads.
    shards: Vec<Mutex<Shard>>,
}

/// Largest meridional radius of curvature on WGS84: a / √(1 − e²) (m).
const MAX_MERIDIONAL_RADIUS_M: f64 = 6_399_593.626;

/// Proven bound (m) on the distance from a cell's centre to any point of the
/// cell.
pub fn cell_radius_m(centre_lat_deg: f64, half_lon_deg: f64, half_lat_deg: f64) -> f64 {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let (s, c) = centre_lat_deg.to_radians().sin_cos();
    let n = WGS84_A_M / (1.0 - e2 * s * s).sqrt();
    let parallel = n * c.abs() * half_lon_deg.to_radians();
    let meridian = MAX_MERIDIONAL_RADIUS_M * half_lat_deg.to_radians();
    (parallel + meridian) * (1.0 + 1e-12)
}

fn cell_size_deg(level: u32) -> f64 {
    LEVEL0_DEG / f64::from(1u32 << level)
}

/// The cell of `p` at `level`: its key and its column/row.
fn cell_of(p: LonLat, level: u32) -> (u64, u64, u64) {
    let size = cell_size_deg(level);
    let cols = (360.0 / size) as u64;
    let rows = (180.0 / size) as u64;
    let ix = (((p.x + 180.0) / size).floor() as u64).min(cols - 1);
    let iy = (((p.y + 90.0) / size).floor() as u64).min(rows - 1);
    // 4 bits of level, 30 of column, 30 of row.
    ((u64::from(level) << 60) | (ix << 30) | iy, ix, iy)
}

impl<'a> ZoneCells<'a> {
    /// Cells for `index` (the selected border) and a zone `width_m`.
    pub fn new(index: &'a SegmentIndex, width_m: f64) -> Self {
        ZoneCells {
            index,
            width_m,
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// The verdict for `p` (a valid lon/lat).
    pub fn verdict(&self, p: LonLat) -> Verdict {
        for level in 0..=MAX_LEVEL {
            let (key, ix, iy) = cell_of(p, level);
            let shard = &self.shards[((key ^ (key >> 30)) as usize) % SHARDS];
            let known = shard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .copied();
            // Certified outside the lock: two threads may both certify a
            // cell, and get the same answer.
            let state = known.unwrap_or_else(|| {
                let state = self.certify(level, ix, iy);
                let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
                if shard.len() >= SHARD_LIMIT {
                    shard.clear();
                }
                shard.insert(key, state);
                state
            });
            match state.0 {
                OUTSIDE => return Verdict::Outside,
                STRADDLES => {}
                upper => {
                    return Verdict::Inside {
                        upper_m: f64::from(upper),
                    }
                }
            }
        }
        Verdict::Undecided
    }

    /// Certify one cell from an exact measurement at its centre.
    fn certify(&self, level: u32, ix: u64, iy: u64) -> CellState {
        let size = cell_size_deg(level);
        let centre = LonLat {
            x: -180.0 + (ix as f64 + 0.5) * size,
            y: -90.0 + (iy as f64 + 0.5) * size,
        };
        let r = cell_radius_m(centre.y, size / 2.0, size / 2.0);
        // Only distances up to width + r matter: beyond, the cell is out.
        let reach = self.width_m + r + MARGIN_M;
        match self.index.nearest_within(centre, reach) {
            None => CellState(OUTSIDE),
            Some(n) if n.distance_m + r + MARGIN_M <= self.width_m => {
                // Rounded up: still an upper bound after the cast.
                let upper = (n.distance_m + r + MARGIN_M) as f32;
                CellState(upper.next_up())
            }
            Some(n) if n.distance_m - r - MARGIN_M > self.width_m => CellState(OUTSIDE),
            Some(_) => CellState(STRADDLES),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::{direct, distance_m};
    use geo::Coord;

    #[test]
    fn radius_bounds_every_corner_and_edge_point() {
        // Cells at several latitudes and sizes: the bound holds for a grid
        // of points over the cell (corners and edges included), and is not
        // loose by more than a few percent.
        for &(lat, size) in &[
            (0.25, 0.5),
            (45.0, 4.0),
            (48.1, 0.001),
            (79.0, 2.0),
            (-60.0, 0.25),
        ] {
            let c = Coord { x: 70.0, y: lat };
            let r = cell_radius_m(lat, size / 2.0, size / 2.0);
            let mut worst: f64 = 0.0;
            for i in 0..=20 {
                for j in 0..=20 {
                    let p = Coord {
                        x: c.x - size / 2.0 + size * f64::from(i) / 20.0,
                        y: c.y - size / 2.0 + size * f64::from(j) / 20.0,
                    };
                    worst = worst.max(distance_m(c, p));
                }
            }
            assert!(worst <= r, "lat {lat} size {size}: {worst} > {r}");
            assert!(worst > 0.65 * r, "lat {lat} size {size}: {worst} ≪ {r}");
        }
    }

    #[test]
    fn verdicts_agree_with_exact_distances() {
        // A wiggly line; points scattered around it and a dense set within
        // ±300 m of the 20 km edge (normal offsets from the line).
        let mut line = Vec::new();
        for k in 0..200 {
            let t = f64::from(k) * 0.02;
            line.push(Coord {
                x: 75.0 + t,
                y: 45.0 + 0.1 * (7.0 * t).sin(),
            });
        }
        let idx = SegmentIndex::build([line.as_slice()]);
        let width = 20_000.0;
        let cells = ZoneCells::new(&idx, width);
        let mut pts = Vec::new();
        for i in 0..60 {
            for j in 0..40 {
                pts.push(Coord {
                    x: 73.0 + 0.13 * f64::from(i),
                    y: 43.5 + 0.08 * f64::from(j),
                });
            }
        }
        for (k, v) in line.iter().enumerate().skip(1).step_by(3) {
            let az = crate::geodesy::inverse(line[k - 1], *v).azimuth2_deg;
            for off in [-300.0, -20.0, -0.5, 0.5, 20.0, 300.0] {
                pts.push(direct(*v, az + 90.0, width + off).0);
                pts.push(direct(*v, az - 90.0, width + off).0);
            }
        }
        let (mut inside, mut outside, mut undecided) = (0, 0, 0);
        for p in pts {
            let exact = idx.nearest_brute_force(p).unwrap().distance_m;
            match cells.verdict(p) {
                Verdict::Inside { upper_m } => {
                    assert!(exact <= width && exact <= upper_m, "{p:?}: {exact}");
                    inside += 1;
                }
                Verdict::Outside => {
                    assert!(exact > width, "{p:?}: {exact}");
                    outside += 1;
                }
                Verdict::Undecided => undecided += 1,
            }
        }
        // Most points are decided by the cells; those near the edge are not.
        assert!(
            inside > 300 && outside > 1000,
            "{inside} {outside} {undecided}"
        );
        assert!(undecided > 100, "{undecided}");
    }
}
