//! Exact measurement on the WGS84 ellipsoid.
//!
//! Everything here takes lon/lat in degrees (WGS84, `x` = longitude,
//! `y` = latitude, as in GeoJSON) and returns metres. Distances are
//! ellipsoidal geodesics computed with Karney's algorithms (GeographicLib,
//! through `geographiclib-rs`), accurate to about 15 nanometres.
//!
//! A *geodesic segment* is the shortest path on the ellipsoid between two
//! vertices; this is how borderzone interprets every edge of a border, road or
//! polygon. [`GeodesicSegment::nearest`] finds the exact closest point of such a
//! segment to a point.

use std::sync::OnceLock;

use geo::Coord;
use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};

/// WGS84 semi-major axis (m).
pub const WGS84_A_M: f64 = 6_378_137.0;
/// WGS84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// WGS84 first eccentricity squared, e² = f (2 − f).
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);
/// Mean earth radius R1 = (2a + b) / 3 (m), used only for first guesses and
/// never for a reported value.
pub const MEAN_RADIUS_M: f64 = 6_371_008.771_415;
/// The smallest radius of curvature anywhere on the WGS84 ellipsoid: the
/// meridional radius at the equator, a(1 − e²) (m). No geodesic curves more
/// sharply than 1 / this, which bounds how far a geodesic segment strays from
/// its chord.
pub const MIN_RADIUS_OF_CURVATURE_M: f64 = 6_335_439.327;

/// A lon/lat position in degrees (x = lon, y = lat).
pub type LonLat = Coord<f64>;

/// The shared WGS84 geodesic solver.
pub fn wgs84() -> &'static Geodesic {
    static G: OnceLock<Geodesic> = OnceLock::new();
    G.get_or_init(Geodesic::wgs84)
}

/// Geodesic distance between two points (m).
pub fn distance_m(a: LonLat, b: LonLat) -> f64 {
    wgs84().inverse(a.y, a.x, b.y, b.x)
}

/// Result of the inverse problem between two points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inverse {
    /// Geodesic distance (m).
    pub distance_m: f64,
    /// Azimuth at the first point, degrees clockwise from north.
    pub azimuth1_deg: f64,
    /// Forward azimuth at the second point, degrees clockwise from north.
    pub azimuth2_deg: f64,
}

/// Solve the inverse problem from `a` to `b`.
pub fn inverse(a: LonLat, b: LonLat) -> Inverse {
    let (s12, azi1, azi2, _a12): (f64, f64, f64, f64) = wgs84().inverse(a.y, a.x, b.y, b.x);
    Inverse {
        distance_m: s12,
        azimuth1_deg: azi1,
        azimuth2_deg: azi2,
    }
}

/// Solve the direct problem: the point `distance_m` from `from` along
/// azimuth `azimuth_deg`, and the forward azimuth there (degrees).
pub fn direct(from: LonLat, azimuth_deg: f64, distance_m: f64) -> (LonLat, f64) {
    let (lat, lon, azi2): (f64, f64, f64) = wgs84().direct(from.y, from.x, azimuth_deg, distance_m);
    (Coord { x: lon, y: lat }, azi2)
}

/// Earth-centred, earth-fixed coordinates (m) of a point on the ellipsoid
/// surface (height 0).
pub fn ecef(p: LonLat) -> [f64; 3] {
    SurfacePoint::new(p).xyz
}

/// Longest chord (m) for which [`short_line_m`] gives the geodesic length.
pub const SHORT_LINE_MAX_M: f64 = 10_000.0;

/// A point on the ellipsoid surface with what [`short_line_m`] needs: its
/// ECEF position and the sine / cosine of its latitude and longitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurfacePoint {
    /// ECEF position (m), as [`ecef`].
    pub xyz: [f64; 3],
    sin_lat: f64,
    cos_lat: f64,
    sin_lon: f64,
    cos_lon: f64,
}

impl SurfacePoint {
    /// The surface point at `p`.
    pub fn new(p: LonLat) -> Self {
        let (sin_lat, cos_lat) = p.y.to_radians().sin_cos();
        let (sin_lon, cos_lon) = p.x.to_radians().sin_cos();
        let n = prime_vertical_radius_m(sin_lat);
        SurfacePoint {
            xyz: [
                n * cos_lat * cos_lon,
                n * cos_lat * sin_lon,
                n * (1.0 - WGS84_E2) * sin_lat,
            ],
            sin_lat,
            cos_lat,
            sin_lon,
            cos_lon,
        }
    }

    /// The east and north components (m) of the chord from this point to
    /// `xyz` (ECEF): its orthographic projection on the tangent plane here.
    #[inline]
    pub fn east_north(&self, xyz: &[f64; 3]) -> [f64; 2] {
        let d = [
            xyz[0] - self.xyz[0],
            xyz[1] - self.xyz[1],
            xyz[2] - self.xyz[2],
        ];
        [
            -self.sin_lon * d[0] + self.cos_lon * d[1],
            -self.sin_lat * (self.cos_lon * d[0] + self.sin_lon * d[1]) + self.cos_lat * d[2],
        ]
    }
}

/// The geodesic distance (m) between two surface points from their chord,
/// when the chord is at most [`SHORT_LINE_MAX_M`]; `None` beyond (use
/// [`distance_m`]).
///
/// A curve of length s whose curvature is κ has the chord
/// c = s − κ²s³/24 + O(κκ′s⁴); a geodesic's curvature is the normal
/// curvature of the ellipsoid in its direction, κ = cos²α/M + sin²α/N
/// (Euler; M, N the principal radii, α the azimuth). So
/// s = c + κ²c³/24, with κ taken at the first point in the chord's
/// direction. The neglected terms (the variation of κ along the line, the
/// geodesic's torsion) are below 10⁻⁷ m at 10 km and shrink as s⁴: the
/// result agrees with Karney's inverse ([`distance_m`]) to within its own
/// accuracy on short lines (tested against it), for about a twentieth of
/// the cost — which matters for the millions of segments of a road network.
pub fn short_line_m(a: &SurfacePoint, b: &SurfacePoint) -> Option<f64> {
    let d = [
        b.xyz[0] - a.xyz[0],
        b.xyz[1] - a.xyz[1],
        b.xyz[2] - a.xyz[2],
    ];
    let c2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    if c2 > SHORT_LINE_MAX_M * SHORT_LINE_MAX_M {
        return None;
    }
    let [east, north] = a.east_north(&b.xyz);
    let h2 = east * east + north * north;
    let e2 = WGS84_E2;
    let w2 = 1.0 - e2 * a.sin_lat * a.sin_lat;
    // 1/M = w³ / (a (1 − e²)), 1/N = w / a.
    let inv_n = w2.sqrt() / WGS84_A_M;
    let inv_m = inv_n * w2 / (1.0 - e2);
    let kappa = if h2 > 0.0 {
        (north * north * inv_m + east * east * inv_n) / h2
    } else {
        inv_n
    };
    Some(c2.sqrt() * (1.0 + kappa * kappa * c2 / 24.0))
}

/// An upper bound (m) on how far any point of a geodesic of length
/// `length_m` lies from the chord joining its ends, with a margin for
/// floating-point error. Used to pad bounding boxes so that a box distance is
/// a true lower bound of the geodesic distance.
pub fn chord_sagitta_bound_m(length_m: f64) -> f64 {
    // A curve of length L whose curvature never exceeds k stays within
    // k L² / 8 of its chord (for k L ≤ 1, which holds for any segment shorter
    // than ~6,000 km). Doubled, plus a millimetre, for safety.
    2.0 * length_m * length_m / (8.0 * MIN_RADIUS_OF_CURVATURE_M) + 1e-3
}

/// The straight-line (chord) distance (m) between two ECEF points.
#[inline]
pub fn chord_m(u: &[f64; 3], v: &[f64; 3]) -> f64 {
    let d = [u[0] - v[0], u[1] - v[1], u[2] - v[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// The squared straight-line distance (m²) from `q` to the segment from
/// `a` to `a + ab` (ECEF; `len2` = |ab|², 0 for a segment of one point).
#[inline]
pub fn segment_distance_2(q: &[f64; 3], a: &[f64; 3], ab: &[f64; 3], len2: f64) -> f64 {
    let aq = [q[0] - a[0], q[1] - a[1], q[2] - a[2]];
    let t = if len2 > 0.0 {
        ((aq[0] * ab[0] + aq[1] * ab[1] + aq[2] * ab[2]) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let e = [aq[0] - t * ab[0], aq[1] - t * ab[1], aq[2] - t * ab[2]];
    e[0] * e[0] + e[1] * e[1] + e[2] * e[2]
}

/// An upper bound (m) on the geodesic distance between two points of the
/// ellipsoid whose chord (straight-line distance) is `chord_m`.
///
/// A geodesic is a space curve whose curvature is the normal curvature of
/// the surface along it, never more than 1 / [`MIN_RADIUS_OF_CURVATURE_M`].
/// By Schur's comparison theorem, a curve of length s whose curvature never
/// exceeds that of a circular arc of the same length (convex, s ≤ πR) has
/// a chord at least as long as the arc's: c ≥ 2R sin(s / 2R), so
/// s ≤ 2R asin(c / 2R). A relative 10⁻¹² and a micrometre cover the
/// rounding. At 20 km it exceeds the geodesic by at most 8.3 mm (c³/24R²).
/// Infinite for chords beyond 10,000 km, so that s ≤ πR holds with room to
/// spare (such a chord subtends at most 2 asin(c / 2b) ≈ 104° at the
/// centre, and the geodesic is then under 12,000 km; πR is 19,903 km).
pub fn geodesic_upper_bound_from_chord_m(chord_m: f64) -> f64 {
    const R: f64 = MIN_RADIUS_OF_CURVATURE_M;
    if chord_m > 10_000_000.0 {
        return f64::INFINITY;
    }
    let half = chord_m / (2.0 * R);
    2.0 * R * half.asin() * (1.0 + 1e-12) + 1e-6
}

/// The ECEF box (min, max corners, m) of the geodesic segment of length
/// `length_m` between the surface points `a` and `b` (ECEF), padded by
/// [`chord_sagitta_bound_m`]: the straight-line distance from any point to
/// this box never exceeds the geodesic distance to the segment.
pub fn padded_chord_box(a: [f64; 3], b: [f64; 3], length_m: f64) -> ([f64; 3], [f64; 3]) {
    let pad = chord_sagitta_bound_m(length_m);
    (
        [0, 1, 2].map(|k| a[k].min(b[k]) - pad),
        [0, 1, 2].map(|k| a[k].max(b[k]) + pad),
    )
}

/// The prime-vertical radius of curvature N = a / √(1 − e² sin²φ) (m) at
/// the latitude whose sine is `sin_lat`.
pub fn prime_vertical_radius_m(sin_lat: f64) -> f64 {
    WGS84_A_M / (1.0 - WGS84_E2 * sin_lat * sin_lat).sqrt()
}

/// The meridional radius of curvature M = N (1 − e²) / (1 − e² sin²φ) (m)
/// at the latitude whose sine is `sin_lat`.
pub fn meridional_radius_m(sin_lat: f64) -> f64 {
    prime_vertical_radius_m(sin_lat) * (1.0 - WGS84_E2) / (1.0 - WGS84_E2 * sin_lat * sin_lat)
}

/// Whether a lon/lat pair is a finite WGS84 position.
pub fn is_valid_lonlat(p: LonLat) -> bool {
    p.x.is_finite()
        && p.y.is_finite()
        && (-180.0..=180.0).contains(&p.x)
        && (-90.0..=90.0).contains(&p.y)
}

/// Radius (m) of the inscribed balls of [`TangentBall`]: the smallest
/// radius of curvature of the ellipsoid, a millimetre less so that rounding
/// in placing a ball's centre cannot push it outside.
const TANGENT_BALL_RADIUS_M: f64 = MIN_RADIUS_OF_CURVATURE_M - 1e-3;

/// The angle (radians) between two vectors, accurate also for small angles.
#[inline]
fn angle_between(u: &[f64; 3], v: &[f64; 3]) -> f64 {
    let c = cross(u, v);
    dot(&c, &c).sqrt().atan2(dot(u, v))
}

/// A lower bound of asin(x) for 0 ≤ x ≤ 1: its Maclaurin series to x⁷,
/// whose terms are all positive (so any truncation is below the sum). Within
/// 10⁻⁶ of it up to x = 0.3 (an angle of 0.3 radians, 1,900 km on the
/// earth), for a fraction of the cost of the function.
#[inline]
fn asin_lower_bound(x: f64) -> f64 {
    let x2 = x * x;
    x * (1.0 + x2 * (1.0 / 6.0 + x2 * (3.0 / 40.0 + x2 * (5.0 / 112.0))))
}

/// A lower bound (radians) of the angle between the unit vector `u` and
/// `v`: asin of its sine, [`asin_lower_bound`], when the angle is acute;
/// the angle itself otherwise.
#[inline]
fn angle_lower_bound(u: &[f64; 3], v: &[f64; 3]) -> f64 {
    if dot(u, v) <= 0.0 {
        return angle_between(u, v);
    }
    let c = cross(u, v);
    asin_lower_bound((dot(&c, &c) / dot(v, v)).sqrt().min(1.0))
}

#[inline]
fn cross(u: &[f64; 3], v: &[f64; 3]) -> [f64; 3] {
    [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]
}

#[inline]
fn dot(u: &[f64; 3], v: &[f64; 3]) -> f64 {
    u[0] * v[0] + u[1] * v[1] + u[2] * v[2]
}

/// Cheap, tight, proven lower bounds of geodesic distances from one surface
/// point p, without solving a geodesic.
///
/// No principal radius of curvature of the ellipsoid is below
/// ρ = [`MIN_RADIUS_OF_CURVATURE_M`] = b²/a, so by Blaschke's rolling
/// theorem the ball of radius ρ tangent to the surface from inside at p
/// (centre o = p − ρ n, n the outward normal at p) lies inside the
/// ellipsoid. Every surface path from p to a point X therefore runs outside
/// that ball, and the nearest-point projection onto a ball (1-Lipschitz, as
/// onto any convex set) maps it to a path on the ball's sphere, from p to
/// the projection of X, no longer than itself. So the geodesic
/// s(p, X) ≥ ρ · ∠(p − o, X − o).
///
/// Unlike the chord (loose by s³/24R², about a kilometre at 1,000 km) or the
/// angle seen from the earth's centre on the sphere of radius b (loose by up
/// to 0.3 %), the ball osculates the ellipsoid at p to within the spread
/// of its radii of curvature: at 1,000 km the bound is within 40 m of the
/// geodesic over Kazakhstan (tested against Karney's inverse).
#[derive(Debug, Clone, Copy)]
pub struct TangentBall {
    /// The ball's centre o (ECEF, m).
    centre: [f64; 3],
    /// The outward unit normal n at p: the direction from o to p.
    up: [f64; 3],
}

impl TangentBall {
    /// The ball tangent at `p`.
    pub fn at(p: &SurfacePoint) -> Self {
        let up = [p.cos_lat * p.cos_lon, p.cos_lat * p.sin_lon, p.sin_lat];
        TangentBall {
            centre: [0, 1, 2].map(|k| p.xyz[k] - TANGENT_BALL_RADIUS_M * up[k]),
            up,
        }
    }

    /// A lower bound of the angle at the ball's centre from p to the point
    /// `x` (ECEF).
    #[inline]
    fn angle_to(&self, x: &[f64; 3]) -> f64 {
        let v = [0, 1, 2].map(|k| x[k] - self.centre[k]);
        angle_lower_bound(&self.up, &v)
    }

    /// ρ times `angle`, less what rounding could have added (a relative
    /// 10⁻⁹ and a millimetre).
    #[inline]
    fn metres(angle: f64) -> f64 {
        (TANGENT_BALL_RADIUS_M * angle * (1.0 - 1e-9) - 1e-3).max(0.0)
    }

    /// A lower bound (m) of the geodesic distance from p to the surface
    /// point `x` (ECEF).
    #[inline]
    pub fn lower_bound_m(&self, x: &[f64; 3]) -> f64 {
        Self::metres(self.angle_to(x))
    }

    /// A lower bound (m) of the geodesic distance from p to any surface
    /// point within `pad_m` of the straight segment from `a` to `b` (ECEF):
    /// for a geodesic segment between `a` and `b` with its sagitta bound
    /// ([`chord_sagitta_bound_m`]) as `pad_m`, a lower bound of the distance
    /// to the segment.
    ///
    /// The directions from o to the chord's points sweep the great-circle
    /// arc between the directions to its ends; the smallest angle from n to
    /// that arc is n's angle to the arc's plane when n projects inside the
    /// arc, else its angle to the nearer end. A point X within `pad_m` of a
    /// chord point Y (itself at least ρ − `pad_m` from o, as X is at least
    /// ρ) is seen from o at most asin(pad / (ρ − pad)) away from Y.
    #[inline]
    pub fn chord_lower_bound_m(&self, a: &[f64; 3], b: &[f64; 3], pad_m: f64) -> f64 {
        let va = [0, 1, 2].map(|k| a[k] - self.centre[k]);
        let vb = [0, 1, 2].map(|k| b[k] - self.centre[k]);
        let normal = cross(&va, &vb);
        let n2 = dot(&normal, &normal);
        let u = &self.up;
        let within_arc =
            n2 > 0.0 && dot(&cross(&va, u), &normal) >= 0.0 && dot(&cross(u, &vb), &normal) >= 0.0;
        // (Lower bounds of the angles: see `angle_lower_bound`.)
        let angle = if within_arc {
            asin_lower_bound((dot(u, &normal).abs() / n2.sqrt()).min(1.0))
        } else {
            angle_lower_bound(u, &va).min(angle_lower_bound(u, &vb))
        };
        let pad_angle = (pad_m / (TANGENT_BALL_RADIUS_M - pad_m)).min(1.0).asin();
        Self::metres(angle - pad_angle)
    }
}

/// The closest point of a geodesic segment to a query point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentHit {
    /// Geodesic distance from the query point to the segment (m).
    pub distance_m: f64,
    /// Distance of the closest point from the segment's start, along it (m).
    pub along_m: f64,
    /// The closest point.
    pub foot: LonLat,
}

/// A geodesic segment between two vertices, with its length and initial
/// azimuth precomputed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeodesicSegment {
    /// Start vertex.
    pub a: LonLat,
    /// End vertex.
    pub b: LonLat,
    /// Geodesic length (m).
    pub length_m: f64,
    /// Azimuth of the segment at `a` (degrees).
    pub azimuth_a_deg: f64,
    /// Forward azimuth of the segment at `b` (degrees).
    pub azimuth_b_deg: f64,
}

/// Convergence tolerance of the foot-point iteration: the last step along
/// the segment is at most this (m) or [`FOOT_TOLERANCE_REL`] × the distance.
/// The distance is stationary at the foot: a foot off by δ changes it by
/// about δ² / 2d, so the relative tolerance keeps the distance error below
/// 10⁻¹² of the distance (1 µm at 1,000 km) while saving the iterations that
/// would only pin the foot down to 0.1 µm.
const FOOT_TOLERANCE_M: f64 = 1e-7;
const FOOT_TOLERANCE_REL: f64 = 1e-6;
const MAX_NEWTON_STEPS: usize = 40;

impl GeodesicSegment {
    /// The geodesic segment from `a` to `b`.
    pub fn new(a: LonLat, b: LonLat) -> Self {
        let inv = inverse(a, b);
        GeodesicSegment {
            a,
            b,
            length_m: inv.distance_m,
            azimuth_a_deg: inv.azimuth1_deg,
            azimuth_b_deg: inv.azimuth2_deg,
        }
    }

    /// The point `along_m` metres from `a` and the segment's azimuth there
    /// (the vertices themselves at either end).
    pub fn position(&self, along_m: f64) -> (LonLat, f64) {
        if along_m <= 0.0 {
            return (self.a, self.azimuth_a_deg);
        }
        if along_m >= self.length_m {
            return (self.b, self.azimuth_b_deg);
        }
        direct(self.a, self.azimuth_a_deg, along_m)
    }

    /// The exact closest point of this segment to `p`.
    ///
    /// Newton-like iteration on the position of the foot of the perpendicular
    /// geodesic from `p` (the step uses spherical trigonometry for the
    /// along-track offset; at the solution the step vanishes, so the sphere
    /// only affects the speed of convergence, not the result), clamped to the
    /// segment. Falls back to a golden-section search if the iteration does
    /// not settle. Typically 2–3 inverse solutions.
    pub fn nearest(&self, p: LonLat) -> SegmentHit {
        self.nearest_from(p, inverse(self.a, p))
    }

    /// As [`Self::nearest`], given the inverse solution from `a` to `p`
    /// (when the caller has it already).
    pub fn nearest_from(&self, p: LonLat, from_a: Inverse) -> SegmentHit {
        if self.length_m == 0.0 || from_a.distance_m == 0.0 {
            return SegmentHit {
                distance_m: from_a.distance_m,
                along_m: 0.0,
                foot: self.a,
            };
        }
        let mut s = 0.0;
        let mut d = from_a.distance_m;
        let mut azi_to_p = from_a.azimuth1_deg;
        let mut azi_line = self.azimuth_a_deg;
        let mut foot = self.a;
        for _ in 0..MAX_NEWTON_STEPS {
            let step = along_track_m(d, azi_to_p - azi_line);
            let next = (s + step).clamp(0.0, self.length_m);
            if (next - s).abs() <= FOOT_TOLERANCE_M.max(FOOT_TOLERANCE_REL * d) {
                return SegmentHit {
                    distance_m: d,
                    along_m: s,
                    foot,
                };
            }
            s = next;
            let (x, azi_x) = self.position(s);
            let inv = inverse(x, p);
            foot = x;
            d = inv.distance_m;
            if d == 0.0 {
                return SegmentHit {
                    distance_m: 0.0,
                    along_m: s,
                    foot,
                };
            }
            azi_to_p = inv.azimuth1_deg;
            azi_line = azi_x;
        }
        self.golden_section(p)
    }

    /// A lower bound (m) of the distance from a point p to this segment,
    /// given the inverse solution `from_a` from the start `a` to p.
    ///
    /// Within πρ/2 of p (ρ = [`MIN_RADIUS_OF_CURVATURE_M`]: 9,950 km) the
    /// distance from p is convex along any geodesic: the ellipsoid's
    /// Gaussian curvature is at most 1/ρ², so by the Sturm (Rauch)
    /// comparison its Hessian is at least that of the sphere of radius ρ,
    /// (1/ρ) cot(d/ρ) ≥ 0 across the direction to p. The distance along the
    /// segment is then at least its tangent line at `a`: d_a − s cos θ, θ
    /// the angle at `a` between the segment and the geodesic to p, so at
    /// least d_a − length · max(cos θ, 0) over the segment. Farther away
    /// (or for a segment reaching that far) it is the triangle inequality,
    /// d_a − length. A millimetre less for rounding either way.
    pub fn convex_lower_bound_m(&self, from_a: &Inverse) -> f64 {
        const CONVEX_WITHIN_M: f64 = 9_000_000.0;
        let d_a = from_a.distance_m;
        let along = if d_a + self.length_m < CONVEX_WITHIN_M {
            let cos = (from_a.azimuth1_deg - self.azimuth_a_deg)
                .to_radians()
                .cos();
            self.length_m * cos.max(0.0)
        } else {
            self.length_m
        };
        d_a - along - 1e-3
    }

    /// Slow, safe minimisation of the distance along the segment.
    fn golden_section(&self, p: LonLat) -> SegmentHit {
        let f = |s: f64| {
            let (x, _) = self.position(s);
            (distance_m(x, p), x)
        };
        let phi = (5f64.sqrt() - 1.0) / 2.0;
        let (mut lo, mut hi) = (0.0, self.length_m);
        let mut x1 = hi - phi * (hi - lo);
        let mut x2 = lo + phi * (hi - lo);
        let (mut f1, mut f2) = (f(x1).0, f(x2).0);
        while hi - lo > FOOT_TOLERANCE_M {
            if f1 < f2 {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - phi * (hi - lo);
                f1 = f(x1).0;
            } else {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + phi * (hi - lo);
                f2 = f(x2).0;
            }
        }
        let mut best = {
            let s = (lo + hi) / 2.0;
            let (d, x) = f(s);
            SegmentHit {
                distance_m: d,
                along_m: s,
                foot: x,
            }
        };
        for s in [0.0, self.length_m] {
            let (d, x) = f(s);
            if d < best.distance_m {
                best = SegmentHit {
                    distance_m: d,
                    along_m: s,
                    foot: x,
                };
            }
        }
        best
    }
}

/// Along-track offset (m) from a point of a geodesic to the foot of the
/// perpendicular from a point at distance `d_m` and relative bearing
/// `angle_deg`, on the mean sphere: tan(s/R) = tan(d/R) cos θ.
fn along_track_m(d_m: f64, angle_deg: f64) -> f64 {
    let sigma = d_m / MEAN_RADIUS_M;
    MEAN_RADIUS_M * (sigma.sin() * angle_deg.to_radians().cos()).atan2(sigma.cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> LonLat {
        Coord { x, y }
    }

    /// Dense sampling along the segment: an independent brute-force minimum.
    fn brute_nearest(seg: &GeodesicSegment, p: LonLat, samples: usize) -> f64 {
        let mut best = f64::INFINITY;
        let mut best_i = 0;
        for i in 0..=samples {
            let s = seg.length_m * i as f64 / samples as f64;
            let d = distance_m(seg.position(s).0, p);
            if d < best {
                best = d;
                best_i = i;
            }
        }
        // Refine around the best sample by a fine scan.
        let step = seg.length_m / samples as f64;
        let lo = (best_i as f64 - 1.0).max(0.0) * step;
        for j in 0..=2000 {
            let s = (lo + 2.0 * step * j as f64 / 2000.0).min(seg.length_m);
            best = best.min(distance_m(seg.position(s).0, p));
        }
        best
    }

    /// A geodesic from a random point at any latitude, in a random
    /// direction, of length `length(u)` for a uniform `u`: its ends and
    /// length.
    fn random_line(state: &mut u64, length: impl Fn(f64) -> f64) -> (LonLat, LonLat, f64) {
        let mut rnd = || crate::test_rand::rand01(state);
        let lat = -89.99 + 179.98 * rnd();
        let lon = -180.0 + 360.0 * rnd();
        let az = 360.0 * rnd();
        let s = length(rnd());
        let a = c(lon, lat);
        (a, direct(a, az, s).0, s)
    }

    #[test]
    fn short_lines_from_the_chord_agree_with_karney() {
        // GeographicLib's inverse (Karney, accurate to ~15 nm) is the
        // reference: random points at every latitude, lines from 1 mm to
        // the 10 km limit in every direction.
        let mut state = 7u64;
        let mut worst: f64 = 0.0;
        for i in 0..200_000 {
            let (a, b, s) = random_line(&mut state, |u| 10f64.powf(-3.0 + 7.0 * u).min(9_990.0));
            let want = distance_m(a, b);
            let got = short_line_m(&SurfacePoint::new(a), &SurfacePoint::new(b))
                .unwrap_or_else(|| panic!("case {i}: {s} m is short"));
            worst = worst.max((got - want).abs());
        }
        assert!(worst < 2e-8, "worst {worst} m");
        // Beyond the limit: no answer (the caller uses Karney).
        let a = c(70.0, 45.0);
        let b = direct(a, 30.0, 10_050.0).0;
        assert_eq!(
            short_line_m(&SurfacePoint::new(a), &SurfacePoint::new(b)),
            None
        );
        assert_eq!(SurfacePoint::new(a).xyz, ecef(a));
    }

    #[test]
    fn chord_bounds_bracket_karney() {
        // The chord is never longer than the geodesic (Karney's inverse,
        // the reference), and the bound from the chord never shorter: random
        // lines of 1 m to 10,000 km at every latitude and azimuth. Along a
        // meridian at the equator (the sharpest curvature) the bound is
        // tight to the c³/24R² term.
        let mut state = 11u64;
        let mut slack_20km: f64 = 0.0;
        for i in 0..100_000 {
            let (a, b, s) = random_line(&mut state, |u| 10f64.powf(7.0 * u));
            let want = distance_m(a, b);
            let chord = chord_m(&ecef(a), &ecef(b));
            let upper = geodesic_upper_bound_from_chord_m(chord);
            assert!(
                chord <= want + 1e-6,
                "case {i}: chord {chord} > geodesic {want}"
            );
            assert!(
                upper >= want,
                "case {i}: bound {upper} < geodesic {want} ({s} m)"
            );
            if (19_000.0..21_000.0).contains(&want) {
                slack_20km = slack_20km.max(upper - want);
            }
        }
        assert!(slack_20km < 0.01, "slack at 20 km {slack_20km} m");
        // The sharpest case: due north from the equator. The geodesic is
        // the meridian ellipse, curving at 1/R right at the start.
        let a = c(30.0, 0.0);
        for s in [1_000.0, 20_000.0, 300_000.0] {
            let b = direct(a, 0.0, s).0;
            let chord = chord_m(&ecef(a), &ecef(b));
            let upper = geodesic_upper_bound_from_chord_m(chord);
            assert!(upper >= s && upper - s < 1e-3 * s, "{s}: {upper}");
        }
    }

    #[test]
    fn geographiclib_reference_distance() {
        // Los Angeles to Tallinn: 9,094,718.72751138 m (GeographicLib's
        // documented example, confirmed with Python geographiclib 2.x).
        let d = distance_m(c(-118.2884237, 34.095925), c(24.7341649, 59.4323439));
        assert!((d - 9_094_718.727_511_38).abs() < 1e-6, "{d}");
    }

    #[test]
    fn nearest_matches_dense_scan() {
        let segs = [
            GeodesicSegment::new(c(80.0, 44.0), c(80.5, 44.3)),
            GeodesicSegment::new(c(82.77422, 46.63673), c(82.77323, 46.62701)),
            GeodesicSegment::new(c(55.0, 41.0), c(56.0, 45.0)),
        ];
        let pts = [
            c(80.2, 44.3),
            c(79.0, 43.0),
            c(82.9, 46.63),
            c(56.5, 43.0),
            c(80.25, 44.15),
        ];
        for seg in &segs {
            for &p in &pts {
                let fast = seg.nearest(p).distance_m;
                let slow = brute_nearest(seg, p, 400);
                assert!(fast <= slow + 1e-6, "fast {fast} slow {slow}");
                assert!(slow - fast < 1e-3, "fast {fast} slow {slow}");
            }
        }
    }

    #[test]
    fn point_on_segment_is_zero() {
        let seg = GeodesicSegment::new(c(70.0, 50.0), c(71.0, 50.5));
        let (mid, _) = seg.position(seg.length_m / 3.0);
        assert!(seg.nearest(mid).distance_m < 1e-6);
    }

    /// The chord's shortfall from a geodesic of length `d` on a sphere of
    /// radius ρ: d³ / 24ρ².
    fn chord_shortfall_m(d: f64) -> f64 {
        d.powi(3) / (24.0 * MIN_RADIUS_OF_CURVATURE_M.powi(2))
    }

    #[test]
    fn tangent_balls_lie_inside_the_ellipsoid() {
        // Blaschke's rolling theorem, checked by brute force: for tangent
        // points from pole to pole, no surface point of a 0.5° grid (and of
        // a 0.002° grid within a degree of the tangent point) is nearer the
        // ball's centre than its radius.
        let surface = |lon: f64, lat: f64| ecef(c(lon, lat));
        for k in 0..=24 {
            let tangent = c(37.0 * f64::from(k) - 180.0, -90.0 + 7.5 * f64::from(k));
            let ball = TangentBall::at(&SurfacePoint::new(tangent));
            let gap = |x: [f64; 3]| chord_m(&x, &ball.centre) - TANGENT_BALL_RADIUS_M;
            let mut nearest = f64::INFINITY;
            for i in 0..=360 {
                for j in 0..720 {
                    let (lat, lon) = (-90.0 + 0.5 * f64::from(i), -180.0 + 0.5 * f64::from(j));
                    nearest = nearest.min(gap(surface(lon, lat)));
                }
            }
            for i in -500..=500 {
                for j in -500..=500 {
                    let lat = (tangent.y + 0.002 * f64::from(i)).clamp(-90.0, 90.0);
                    nearest = nearest.min(gap(surface(tangent.x + 0.002 * f64::from(j), lat)));
                }
            }
            assert!(nearest >= -1e-6, "{tangent:?}: {nearest} m inside the ball");
        }
        // Not vacuous: at the equator the meridian curves with radius ρ, so
        // a ball a kilometre larger, tangent there, pokes out north and south.
        let p = SurfacePoint::new(c(70.0, 0.0));
        let up = [p.cos_lat * p.cos_lon, p.cos_lat * p.sin_lon, p.sin_lat];
        let r = MIN_RADIUS_OF_CURVATURE_M + 1000.0;
        let centre = [0, 1, 2].map(|k| p.xyz[k] - r * up[k]);
        assert!(chord_m(&ecef(c(70.0, 5.0)), &centre) < r);
    }

    #[test]
    fn tangent_ball_bounds_the_geodesic_from_below_and_tightly() {
        let mut s = 5u64;
        // Anywhere on the earth, at any distance: never above Karney's.
        for _ in 0..20_000 {
            let mut r = || crate::test_rand::rand01(&mut s);
            let p = c(-180.0 + 360.0 * r(), -90.0 + 180.0 * r());
            let q = c(-180.0 + 360.0 * r(), -90.0 + 180.0 * r());
            let lb = TangentBall::at(&SurfacePoint::new(p)).lower_bound_m(&ecef(q));
            assert!(lb <= distance_m(p, q), "{p:?} {q:?}");
        }
        // Over Kazakhstan and its neighbours, up to 2,500 km: at least ten
        // times tighter than the chord (which is a kilometre short at
        // 1,000 km), and within 40 m at 1,000 km.
        for _ in 0..20_000 {
            let mut r = || crate::test_rand::rand01(&mut s);
            let p = c(46.0 + 44.0 * r(), 35.0 + 21.0 * r());
            let q = c(46.0 + 44.0 * r(), 35.0 + 21.0 * r());
            let d = distance_m(p, q);
            let lb = TangentBall::at(&SurfacePoint::new(p)).lower_bound_m(&ecef(q));
            assert!(lb <= d, "{p:?} {q:?}");
            if d <= 2_500_000.0 {
                assert!(
                    d - lb <= chord_shortfall_m(d) / 10.0 + 1.0,
                    "{p:?} {q:?}: {lb} {d}"
                );
            }
            if d <= 1_000_000.0 {
                assert!(d - lb <= 40.0, "{p:?} {q:?}: {lb} {d}");
            }
        }
        // A point is no distance from itself.
        let p = c(80.0, 45.0);
        assert_eq!(
            TangentBall::at(&SurfacePoint::new(p)).lower_bound_m(&ecef(p)),
            0.0
        );
    }

    #[test]
    fn tangent_ball_bounds_segment_distances_from_below() {
        // Segments up to 30 km anywhere, points up to 5,000 km away in any
        // direction: below the exact distance (dense scan), and up to
        // 2,500 km within the ball's looseness and the two pads of it.
        let mut s = 9u64;
        for i in 0..3_000 {
            let (a, b, length) = random_line(&mut s, |u| 1.0 + 30_000.0 * u);
            let mut r = || crate::test_rand::rand01(&mut s);
            let from = if r() < 0.5 { a } else { b };
            let p = direct(from, 360.0 * r(), 5_000_000.0 * r() * r()).0;
            let seg = GeodesicSegment::new(a, b);
            let exact = if i < 300 {
                brute_nearest(&seg, p, 200)
            } else {
                seg.nearest(p).distance_m
            };
            let lb = TangentBall::at(&SurfacePoint::new(p)).chord_lower_bound_m(
                &ecef(a),
                &ecef(b),
                chord_sagitta_bound_m(length),
            );
            assert!(lb <= exact, "{a:?} {b:?} {p:?}: {lb} > {exact}");
            if exact <= 2_500_000.0 {
                let slack =
                    chord_shortfall_m(exact) / 10.0 + 2.0 * chord_sagitta_bound_m(length) + 1.0;
                assert!(exact - lb <= slack, "{a:?} {b:?} {p:?}: {lb} ≪ {exact}");
            }
        }
    }

    #[test]
    fn convex_bound_is_below_the_segment_distance() {
        // Segments up to 50 km, points up to 9,000 km away: below the dense
        // scan's minimum; equal to the distance to `a` (less a millimetre)
        // when the segment leads away from p (within the convex range).
        let mut s = 13u64;
        let mut tighter = 0;
        for _ in 0..1_000 {
            let (a, b, length) = random_line(&mut s, |u| 10.0 + 50_000.0 * u);
            let mut r = || crate::test_rand::rand01(&mut s);
            let p = direct(a, 360.0 * r(), 9_000_000.0 * r()).0;
            let seg = GeodesicSegment::new(a, b);
            let from_a = inverse(a, p);
            let lb = seg.convex_lower_bound_m(&from_a);
            let exact = brute_nearest(&seg, p, 200);
            assert!(lb <= exact, "{a:?} {b:?} {p:?}: {lb} > {exact}");
            let cos = (from_a.azimuth1_deg - seg.azimuth_a_deg).to_radians().cos();
            if cos <= 0.0 && from_a.distance_m + length < 9_000_000.0 {
                assert!(exact - lb <= 1.001e-3, "{a:?} {b:?} {p:?}: {lb} {exact}");
            }
            if lb > from_a.distance_m - length + 1.0 {
                tighter += 1;
            }
        }
        // Tighter than the triangle inequality whenever the segment is
        // not aimed straight at p: nearly always.
        assert!(tighter > 900, "{tighter}");
    }

    #[test]
    fn asin_lower_bound_is_below_asin_and_close() {
        for i in 0..=100_000 {
            let x = f64::from(i) / 100_000.0;
            let lb = asin_lower_bound(x);
            // (Below the true asin; the library's may be an ulp under it.)
            assert!(lb <= x.asin() * (1.0 + 4.0 * f64::EPSILON), "{x}");
            if x <= 0.3 {
                assert!(x.asin() - lb <= 1e-6, "{x}");
            }
        }
    }

    #[test]
    fn ecef_chord_is_lower_bound() {
        let a = c(70.0, 50.0);
        let b = c(70.3, 50.2);
        let chord = chord_m(&ecef(a), &ecef(b));
        let geo = distance_m(a, b);
        // The gap grows as d³ / (24 R²): about 3 cm at 31 km.
        assert!(
            chord <= geo && geo - chord < 0.05,
            "chord {chord} geodesic {geo}"
        );
    }
}
