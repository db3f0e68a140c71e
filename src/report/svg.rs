//! The report map: a small, dependency-free SVG renderer for the country
//! outline, zone strips, settlements, border crossings and hub candidates.
//!
//! # Projection
//! Equirectangular (plate carrée) with a standard parallel at the middle
//! latitude φ₀ of the drawn extent (for Kazakhstan, 40.6–55.4° N, φ₀ ≈ 48° N):
//!
//! ```text
//! x_px = left_px + (lon − lon_min) · cos φ₀ · k
//! y_px = top_px  + (lat_max − lat) · k
//! ```
//!
//! where `k` is pixels per degree of latitude, chosen so the extent fills the
//! map width. The map is true to scale along the parallel φ₀; the scale bar
//! is computed there on the WGS84 ellipsoid (parallel radius N(φ₀) cos φ₀), so
//! it is exact at φ₀. Elsewhere the east–west scale is off by
//! cos φ / cos φ₀ (about ±15 % at the north and south edges of Kazakhstan):
//! good enough to look at, never used to measure — every reported distance
//! comes from the exact geodesic computation.
//!
//! # Simplification
//! Rings are projected first and simplified in screen space: vertices closer
//! than [`MapOptions::simplify_px`] to the previous kept vertex are dropped,
//! then Ramer–Douglas–Peucker with the same tolerance, then coordinates are
//! rounded to 0.1 px. A drawn edge stays within about twice the tolerance of
//! the true outline, and the vertex count is bounded by the ring's length in
//! pixels divided by the tolerance, whatever the input resolution. Rings
//! smaller than [`MapOptions::min_ring_px`] (tiny islands and lakes) are
//! left out.
//!
//! # Determinism
//! Output depends only on the input: pixel values are written with one
//! decimal from integer tenths, no clock, no hash-map order.

use std::fmt::Write as _;
use std::path::Path;

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Rect, Simplify};

use super::html::escape;
use crate::error::Result;
use crate::io::atomic::OutputSet;

/// How a settlement stands relative to a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PointStatus {
    /// Outside every zone.
    Outside,
    /// Outside the zone but close to its edge (for review).
    NearLine,
    /// In the zone: eligible.
    Eligible,
}

impl PointStatus {
    /// The CSS class (`eligible`, `near-line`, `outside`).
    pub fn class(self) -> &'static str {
        match self {
            PointStatus::Eligible => "eligible",
            PointStatus::NearLine => "near-line",
            PointStatus::Outside => "outside",
        }
    }

    /// The legend text.
    pub fn label(self) -> &'static str {
        match self {
            PointStatus::Eligible => "settlement in zone",
            PointStatus::NearLine => "settlement near the zone edge",
            PointStatus::Outside => "settlement outside",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            PointStatus::Eligible => "#1a9850",
            PointStatus::NearLine => "#f28e2b",
            PointStatus::Outside => "#8c8c8c",
        }
    }
}

/// One point on the map (settlement, crossing or hub).
#[derive(Debug, Clone, PartialEq)]
pub struct MapPoint {
    /// Longitude (degrees, WGS84).
    pub lon: f64,
    /// Latitude (degrees, WGS84).
    pub lat: f64,
    /// Name, shown in the tooltip (and next to crossings and hubs).
    pub label: String,
    /// More tooltip text after the name, e.g. `"12.345 km to the border (CHN)"`.
    pub detail: String,
    /// Colour class of a settlement (ignored for crossings and hubs).
    pub status: PointStatus,
    /// Circle radius of a settlement (px); see [`MapPoint::radius_for_population`].
    pub radius_px: f64,
    /// Rank of a hub candidate (1 = best), drawn next to its star.
    pub rank: Option<u32>,
    /// Record id, written as `data-id` so that the map links to the tables.
    pub id: String,
}

impl MapPoint {
    /// A point with a name, status `Outside`, radius 2.5 px and no extras.
    pub fn new(lon: f64, lat: f64, label: impl Into<String>) -> Self {
        MapPoint {
            lon,
            lat,
            label: label.into(),
            detail: String::new(),
            status: PointStatus::Outside,
            radius_px: 2.5,
            rank: None,
            id: String::new(),
        }
    }

    /// A circle radius (px) growing with the square root of population
    /// (area ∝ population): 2 px for none, 9 px for 1 million, capped at 12.
    pub fn radius_for_population(population: f64) -> f64 {
        if !population.is_finite() || population <= 0.0 {
            return 2.0;
        }
        (2.0 + 7.0 * (population / 1.0e6).sqrt()).min(12.0)
    }

    fn tooltip(&self) -> String {
        if self.detail.is_empty() {
            self.label.clone()
        } else {
            format!("{} — {}", self.label, self.detail)
        }
    }
}

/// A zone strip of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneLayer {
    /// Scenario name, shown in the legend and tooltip.
    pub scenario: String,
    /// The strip (lon/lat).
    pub area: MultiPolygon<f64>,
}

/// Everything drawn on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapLayers {
    /// Title drawn above the map.
    pub title: String,
    /// Country outline (lon/lat); its extent fixes the map extent.
    pub country: MultiPolygon<f64>,
    /// Zone strips, drawn semi-transparent in this order, one colour each.
    pub zones: Vec<ZoneLayer>,
    /// Settlements, circles coloured by status.
    pub settlements: Vec<MapPoint>,
    /// Border crossings, diamonds with their name.
    pub crossings: Vec<MapPoint>,
    /// Hub candidates, stars with rank and name.
    pub hubs: Vec<MapPoint>,
}

/// Drawing parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapOptions {
    /// Width of the whole SVG (px); the height follows from the extent.
    pub width_px: f64,
    /// Margin around the map (px).
    pub margin_px: f64,
    /// Simplification tolerance (px).
    pub simplify_px: f64,
    /// Rings (islands, lakes, strip fragments) whose projected bounding box
    /// is smaller than this in both directions are left out (px).
    pub min_ring_px: f64,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            width_px: 1000.0,
            margin_px: 20.0,
            simplify_px: 0.5,
            min_ring_px: 2.0,
        }
    }
}

/// Height of the title band (px).
pub const TITLE_PX: f64 = 36.0;

/// The extent drawn when there is nothing to fit (Kazakhstan).
pub const DEFAULT_EXTENT: [f64; 4] = [46.0, 40.0, 88.0, 56.0];

/// Zone colours, by scenario order (then repeated).
pub const ZONE_COLOURS: [&str; 6] = [
    "#d7301f", "#2c7fb8", "#fdb827", "#7b3294", "#1b9e77", "#e7298a",
];

/// The map projection (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Western edge of the extent (degrees).
    pub lon_min: f64,
    /// Northern edge of the extent (degrees).
    pub lat_max: f64,
    /// Standard parallel φ₀ (degrees): the middle of the extent's latitudes.
    pub lat0_deg: f64,
    /// Pixels per degree of latitude.
    pub px_per_deg_lat: f64,
    /// Pixel x of `lon_min`.
    pub left_px: f64,
    /// Pixel y of `lat_max`.
    pub top_px: f64,
    /// Width of the extent (px).
    pub width_px: f64,
    /// Height of the extent (px).
    pub height_px: f64,
}

impl Projection {
    /// Fit the lon/lat rectangle `extent` to `width_px` pixels, its
    /// north-west corner at (`left_px`, `top_px`).
    pub fn fit(extent: Rect<f64>, width_px: f64, left_px: f64, top_px: f64) -> Projection {
        let (min, max) = (extent.min(), extent.max());
        let lat0_deg = 0.5 * (min.y + max.y);
        let cos0 = lat0_deg.to_radians().cos();
        let span_x_deg = ((max.x - min.x) * cos0).max(1e-9);
        let px_per_deg_lat = width_px / span_x_deg;
        Projection {
            lon_min: min.x,
            lat_max: max.y,
            lat0_deg,
            px_per_deg_lat,
            left_px,
            top_px,
            width_px,
            height_px: (max.y - min.y) * px_per_deg_lat,
        }
    }

    /// Pixel position (x right, y down) of a lon/lat position (degrees).
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let cos0 = self.lat0_deg.to_radians().cos();
        (
            self.left_px + (lon - self.lon_min) * cos0 * self.px_per_deg_lat,
            self.top_px + (self.lat_max - lat) * self.px_per_deg_lat,
        )
    }

    /// Lon/lat (degrees) of a pixel position; the inverse of [`Projection::project`].
    pub fn unproject(&self, x_px: f64, y_px: f64) -> (f64, f64) {
        let cos0 = self.lat0_deg.to_radians().cos();
        (
            self.lon_min + (x_px - self.left_px) / (cos0 * self.px_per_deg_lat),
            self.lat_max - (y_px - self.top_px) / self.px_per_deg_lat,
        )
    }

    /// Ground metres per pixel along the standard parallel, on the WGS84
    /// ellipsoid: N(φ₀) · cos φ₀ · (π/180) / (cos φ₀ · k) = N(φ₀) · (π/180) / k.
    pub fn metres_per_px(&self) -> f64 {
        let n = crate::geodesy::prime_vertical_radius_m(self.lat0_deg.to_radians().sin());
        n * std::f64::consts::PI / 180.0 / self.px_per_deg_lat
    }

    /// A scale bar of a round length (1, 2 or 5 × 10ⁿ m) no longer than
    /// `max_px`.
    pub fn scale_bar(&self, max_px: f64) -> ScaleBar {
        let mpp = self.metres_per_px();
        let max_m = max_px * mpp;
        let mut length_m = 1.0;
        if max_m.is_finite() && max_m >= 1.0 {
            let p = 10f64.powf(max_m.log10().floor());
            for m in [1.0, 2.0, 5.0, 10.0] {
                if m * p <= max_m * (1.0 + 1e-12) {
                    length_m = m * p;
                }
            }
        }
        ScaleBar {
            length_m,
            length_px: length_m / mpp,
        }
    }
}

/// A scale bar: a round ground length and its pixel length at φ₀.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleBar {
    /// Ground length (m).
    pub length_m: f64,
    /// Drawn length (px).
    pub length_px: f64,
}

impl ScaleBar {
    /// The label, e.g. `"500 km"` or `"200 m"`.
    pub fn label(&self) -> String {
        if self.length_m >= 1000.0 {
            format!("{} km", fmt_num(self.length_m / 1000.0))
        } else {
            format!("{} m", fmt_num(self.length_m))
        }
    }
}

/// A number without trailing zeros (at most 3 decimals).
fn fmt_num(v: f64) -> String {
    super::table::Cell::Number(v).display()
}

/// A pixel value with one decimal, without a trailing `.0` and never `-0`.
pub fn fmt_px(v: f64) -> String {
    fmt_tenths(to_tenths(v))
}

fn to_tenths(v: f64) -> i64 {
    if v.is_finite() {
        (v * 10.0).round().clamp(-1e15, 1e15) as i64
    } else {
        0
    }
}

fn fmt_tenths(q: i64) -> String {
    let sign = if q < 0 { "-" } else { "" };
    let a = q.unsigned_abs();
    if a.is_multiple_of(10) {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// Project and simplify one ring (see the module docs): the kept vertices in
/// integer tenths of a pixel, without the closing repeat; empty when the
/// ring's bounding box is smaller than `min_extent_px` both ways.
pub fn simplify_ring_px(
    proj: &Projection,
    ring: &LineString<f64>,
    tolerance_px: f64,
    min_extent_px: f64,
) -> Vec<(i64, i64)> {
    let tol2 = tolerance_px * tolerance_px;
    let mut pts: Vec<Coord<f64>> = Vec::new();
    let n = ring.0.len();
    for (i, c) in ring.0.iter().enumerate() {
        if !(c.x.is_finite() && c.y.is_finite()) {
            continue;
        }
        let (x, y) = proj.project(c.x, c.y);
        let p = Coord { x, y };
        match pts.last() {
            Some(q) if i + 1 < n && (p.x - q.x).powi(2) + (p.y - q.y).powi(2) < tol2 => {}
            _ => pts.push(p),
        }
    }
    if pts.len() < 3 {
        return Vec::new();
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &pts {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    }
    if x1 - x0 < min_extent_px && y1 - y0 < min_extent_px {
        return Vec::new();
    }
    let simplified = LineString(pts).simplify(tolerance_px);
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(simplified.0.len());
    for c in &simplified.0 {
        let q = (to_tenths(c.x), to_tenths(c.y));
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    if out.len() < 3 {
        return Vec::new();
    }
    out
}

/// SVG path data of a MultiPolygon (rings as `M … z`, relative `l`
/// segments), and its vertex count, simplified with `opts.simplify_px` and
/// `opts.min_ring_px`. Draw with `fill-rule="evenodd"`.
pub fn multipolygon_path(
    proj: &Projection,
    mp: &MultiPolygon<f64>,
    opts: &MapOptions,
) -> (String, usize) {
    let (tolerance_px, min_px) = (opts.simplify_px, opts.min_ring_px);
    let mut d = String::new();
    let mut vertices = 0;
    for poly in &mp.0 {
        let ext = simplify_ring_px(proj, poly.exterior(), tolerance_px, min_px);
        if ext.is_empty() {
            continue;
        }
        for ring in std::iter::once(ext).chain(
            poly.interiors()
                .iter()
                .map(|r| simplify_ring_px(proj, r, tolerance_px, min_px)),
        ) {
            if ring.is_empty() {
                continue;
            }
            vertices += ring.len();
            let (mut px, mut py) = ring[0];
            let _ = write!(d, "M{} {}l", fmt_tenths(px), fmt_tenths(py));
            for (k, &(x, y)) in ring[1..].iter().enumerate() {
                let sep = if k == 0 { "" } else { " " };
                let _ = write!(d, "{sep}{} {}", fmt_tenths(x - px), fmt_tenths(y - py));
                (px, py) = (x, y);
            }
            d.push('z');
        }
    }
    (d, vertices)
}

fn extent(layers: &MapLayers) -> Rect<f64> {
    if let Some(r) = layers.country.bounding_rect() {
        if r.width() > 0.0 && r.height() > 0.0 {
            return r;
        }
    }
    let mut coords: Vec<Coord<f64>> = Vec::new();
    for z in &layers.zones {
        if let Some(r) = z.area.bounding_rect() {
            coords.extend([r.min(), r.max()]);
        }
    }
    for p in layers
        .settlements
        .iter()
        .chain(&layers.crossings)
        .chain(&layers.hubs)
    {
        if p.lon.is_finite() && p.lat.is_finite() {
            coords.push(Coord { x: p.lon, y: p.lat });
        }
    }
    match LineString(coords).bounding_rect() {
        Some(r) if r.width() > 0.0 && r.height() > 0.0 => r,
        Some(r) => Rect::new(
            Coord {
                x: r.min().x - 0.5,
                y: r.min().y - 0.5,
            },
            Coord {
                x: r.max().x + 0.5,
                y: r.max().y + 0.5,
            },
        ),
        None => Rect::new(
            Coord {
                x: DEFAULT_EXTENT[0],
                y: DEFAULT_EXTENT[1],
            },
            Coord {
                x: DEFAULT_EXTENT[2],
                y: DEFAULT_EXTENT[3],
            },
        ),
    }
}

/// The projection [`render_svg`] uses for `layers`.
pub fn projection_for(layers: &MapLayers, opts: &MapOptions) -> Projection {
    let width = (opts.width_px - 2.0 * opts.margin_px).max(10.0);
    Projection::fit(
        extent(layers),
        width,
        opts.margin_px,
        TITLE_PX + opts.margin_px,
    )
}

/// Five-pointed star path centred on (x, y), outer radius r (px).
fn star_path(x: f64, y: f64, r: f64) -> String {
    let mut d = String::new();
    for k in 0..10 {
        let rr = if k % 2 == 0 { r } else { r * 0.45 };
        let a = std::f64::consts::PI * (k as f64) / 5.0;
        let (px, py) = (x + rr * a.sin(), y - rr * a.cos());
        let _ = write!(
            d,
            "{}{} {}",
            if k == 0 { "M" } else { "L" },
            fmt_px(px),
            fmt_px(py)
        );
    }
    d.push('z');
    d
}

fn diamond_path(x: f64, y: f64, r: f64) -> String {
    format!(
        "M{} {}L{} {}L{} {}L{} {}z",
        fmt_px(x),
        fmt_px(y - r),
        fmt_px(x + r),
        fmt_px(y),
        fmt_px(x),
        fmt_px(y + r),
        fmt_px(x - r),
        fmt_px(y)
    )
}

fn finite(p: &MapPoint) -> bool {
    p.lon.is_finite() && p.lat.is_finite()
}

const FONT: &str = "DejaVu Sans, Noto Sans, Arial, sans-serif";

/// Render the map as a standalone SVG document (also valid inline in HTML).
///
/// The root is `<svg id="map" class="bz-map">`; groups `#country`, `#zones`,
/// `#settlements`, `#crossings`, `#hubs`, `#legend`, `#scale-bar`; every
/// feature has a `<title>` tooltip and a class (`settlement eligible`,
/// `zone zone-0`, `crossing`, `hub`). All text is escaped.
pub fn render_svg(layers: &MapLayers, opts: &MapOptions) -> String {
    let proj = projection_for(layers, opts);
    let m = opts.margin_px;
    let width = opts.width_px;

    // Legend entries: (kind, index/status, text).
    let mut legend: Vec<(String, String)> = Vec::new(); // (symbol svg at origin, text)
    for (i, z) in layers.zones.iter().enumerate() {
        let c = ZONE_COLOURS[i % ZONE_COLOURS.len()];
        legend.push((
            format!(
                r#"<rect x="0" y="-6" width="16" height="12" fill="{c}" fill-opacity="0.4" stroke="{c}" stroke-width="1"/>"#
            ),
            format!("zone: {}", z.scenario),
        ));
    }
    for status in [
        PointStatus::Eligible,
        PointStatus::NearLine,
        PointStatus::Outside,
    ] {
        if layers.settlements.iter().any(|s| s.status == status) {
            legend.push((
                format!(
                    r##"<circle cx="8" cy="0" r="4" fill="{}" stroke="#ffffff" stroke-width="0.6"/>"##,
                    status.colour()
                ),
                status.label().to_string(),
            ));
        }
    }
    if !layers.crossings.is_empty() {
        legend.push((
            format!(
                r##"<path d="{}" fill="#111111" stroke="#ffffff" stroke-width="1"/>"##,
                diamond_path(8.0, 0.0, 5.5)
            ),
            "border crossing".into(),
        ));
    }
    if !layers.hubs.is_empty() {
        legend.push((
            format!(
                r##"<path d="{}" fill="#ffd400" stroke="#5a4500" stroke-width="0.8"/>"##,
                star_path(8.0, 0.0, 7.0)
            ),
            "hub candidate (rank)".into(),
        ));
    }
    let col_w = 240.0;
    let row_h = 20.0;
    let scale_w = 220.0;
    let cols = (((width - 2.0 * m - scale_w) / col_w).floor() as usize).max(1);
    let rows = legend.len().div_ceil(cols).max(2);
    let legend_top = proj.top_px + proj.height_px + 16.0;
    let height = legend_top + rows as f64 * row_h + m;

    let mut s = String::with_capacity(1 << 16);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="map" class="bz-map" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="map-title" font-family="{FONT}">"#,
        w = fmt_px(width),
        h = fmt_px(height),
    );
    let _ = write!(
        s,
        r#"<title id="map-title">{}</title>"#,
        escape(&layers.title)
    );
    let _ = write!(
        s,
        r##"<rect class="background" x="0" y="0" width="{}" height="{}" fill="#f4f7fa"/>"##,
        fmt_px(width),
        fmt_px(height)
    );
    let _ = write!(
        s,
        r##"<text class="map-title" x="{}" y="{}" font-size="18" font-weight="bold" fill="#222222">{}</text>"##,
        fmt_px(m),
        fmt_px(TITLE_PX - 6.0),
        escape(&layers.title)
    );

    // Country.
    let (d, _) = multipolygon_path(&proj, &layers.country, opts);
    s.push_str(r#"<g id="country">"#);
    if !d.is_empty() {
        let _ = write!(
            s,
            r##"<path class="country" d="{d}" fill="#fbf8f0" stroke="#4d4d4d" stroke-width="0.8" stroke-linejoin="round" fill-rule="evenodd"/>"##
        );
    }
    s.push_str("</g>");

    // Zones.
    s.push_str(r#"<g id="zones">"#);
    for (i, z) in layers.zones.iter().enumerate() {
        let c = ZONE_COLOURS[i % ZONE_COLOURS.len()];
        let (d, _) = multipolygon_path(&proj, &z.area, opts);
        if d.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            r#"<path class="zone zone-{i}" data-scenario="{sc}" d="{d}" fill="{c}" fill-opacity="0.35" stroke="{c}" stroke-opacity="0.8" stroke-width="0.6" fill-rule="evenodd"><title>zone: {sc}</title></path>"#,
            sc = escape(&z.scenario),
        );
    }
    s.push_str("</g>");

    // Settlements: outside first, eligible on top; within a status larger
    // circles first so that small ones stay visible.
    s.push_str(r#"<g id="settlements">"#);
    for status in [
        PointStatus::Outside,
        PointStatus::NearLine,
        PointStatus::Eligible,
    ] {
        let mut pts: Vec<&MapPoint> = layers
            .settlements
            .iter()
            .filter(|p| p.status == status && finite(p))
            .collect();
        if pts.is_empty() {
            continue;
        }
        pts.sort_by(|a, b| b.radius_px.total_cmp(&a.radius_px));
        let _ = write!(
            s,
            r##"<g class="settlements {}" fill="{}" stroke="{}" stroke-width="{}">"##,
            status.class(),
            status.colour(),
            if status == PointStatus::Outside {
                "#ffffff"
            } else {
                "#1b1b1b"
            },
            if status == PointStatus::Outside {
                "0.5"
            } else {
                "0.8"
            },
        );
        // Settlements in or near the zone are what the map is about: never
        // smaller than 3.5 px.
        let min_r = if status == PointStatus::Outside {
            0.0
        } else {
            3.5
        };
        for p in pts {
            let (x, y) = proj.project(p.lon, p.lat);
            let r = if p.radius_px.is_finite() && p.radius_px > 0.0 {
                p.radius_px
            } else {
                2.5
            }
            .max(min_r);
            let _ = write!(
                s,
                r#"<circle class="settlement {}"{} cx="{}" cy="{}" r="{}"><title>{}</title></circle>"#,
                status.class(),
                data_id(&p.id),
                fmt_px(x),
                fmt_px(y),
                fmt_px(r),
                escape(&p.tooltip())
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</g>");

    // Labels of hubs (by rank) then crossings, placed greedily so that
    // they overlap neither each other nor the symbols.
    let crossings: Vec<&MapPoint> = layers.crossings.iter().filter(|p| finite(p)).collect();
    let mut hubs: Vec<&MapPoint> = layers.hubs.iter().filter(|p| finite(p)).collect();
    hubs.sort_by_key(|p| p.rank.unwrap_or(u32::MAX));
    let hub_text = |p: &MapPoint| match p.rank {
        Some(r) => format!("{r}. {}", p.label),
        None => p.label.clone(),
    };
    let mut placer = LabelPlacer::new(m, proj.top_px - m / 2.0, width - m, legend_top - 4.0);
    for p in &hubs {
        let (x, y) = proj.project(p.lon, p.lat);
        placer.obstacle(x, y, 8.0);
    }
    for p in &crossings {
        let (x, y) = proj.project(p.lon, p.lat);
        placer.obstacle(x, y, 5.5);
    }
    let hub_labels: Vec<String> = hubs
        .iter()
        .map(|p| {
            let (x, y) = proj.project(p.lon, p.lat);
            placer.place(x, y, 9.0, &hub_text(p), 11.0)
        })
        .collect();
    let crossing_labels: Vec<String> = crossings
        .iter()
        .map(|p| {
            let (x, y) = proj.project(p.lon, p.lat);
            placer.place(x, y, 7.0, &p.label, 10.0)
        })
        .collect();

    // Crossings.
    s.push_str(r#"<g id="crossings">"#);
    for (p, pos) in crossings.iter().zip(&crossing_labels) {
        let (x, y) = proj.project(p.lon, p.lat);
        let _ = write!(
            s,
            r##"<g class="crossing"{}><title>{}</title><path d="{}" fill="#111111" stroke="#ffffff" stroke-width="1"/><text{pos} font-size="10" fill="#111111" stroke="#ffffff" stroke-width="2.5" paint-order="stroke">{}</text></g>"##,
            data_id(&p.id),
            escape(&p.tooltip()),
            diamond_path(x, y, 5.5),
            escape(&p.label)
        );
    }
    s.push_str("</g>");

    // Hubs, best rank drawn last (on top).
    s.push_str(r#"<g id="hubs">"#);
    for (p, pos) in hubs.iter().zip(&hub_labels).rev() {
        let (x, y) = proj.project(p.lon, p.lat);
        let _ = write!(
            s,
            r##"<g class="hub"{}{}><title>{}</title><path d="{}" fill="#ffd400" stroke="#5a4500" stroke-width="0.8"/><text{pos} font-size="11" font-weight="bold" fill="#3d2f00" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text></g>"##,
            data_id(&p.id),
            p.rank
                .map(|r| format!(r#" data-rank="{r}""#))
                .unwrap_or_default(),
            escape(&p.tooltip()),
            star_path(x, y, 8.0),
            escape(&hub_text(p))
        );
    }
    s.push_str("</g>");

    // Scale bar, bottom left under the map.
    let bar = proj.scale_bar(scale_w - 40.0);
    let (bx, by) = (m, legend_top + 4.0);
    let half = bar.length_px / 2.0;
    let _ = write!(
        s,
        r##"<g id="scale-bar" data-length-m="{lm}" data-length-px="{lp}"><rect x="{x0}" y="{y0}" width="{hw}" height="5" fill="#222222"/><rect x="{x1}" y="{y0}" width="{hw}" height="5" fill="#ffffff" stroke="#222222" stroke-width="0.8"/><rect class="scale-bar-outline" x="{x0}" y="{y0}" width="{lp}" height="5" fill="none" stroke="#222222" stroke-width="0.8"/><text x="{x0}" y="{ty}" font-size="10" fill="#222222">0</text><text x="{x2}" y="{ty}" font-size="10" fill="#222222" text-anchor="end">{label}</text><text x="{x0}" y="{ty2}" font-size="9" fill="#555555">scale true at {lat0}° N</text></g>"##,
        lm = fmt_num(bar.length_m),
        lp = fmt_num(bar.length_px),
        x0 = fmt_px(bx),
        y0 = fmt_px(by),
        hw = fmt_num(half),
        x1 = fmt_num(bx + half),
        x2 = fmt_num(bx + bar.length_px),
        ty = fmt_px(by + 17.0),
        ty2 = fmt_px(by + 29.0),
        label = escape(&bar.label()),
        lat0 = fmt_num((proj.lat0_deg * 10.0).round() / 10.0),
    );

    // Legend.
    s.push_str(r##"<g id="legend" font-size="11" fill="#222222">"##);
    for (k, (symbol, text)) in legend.iter().enumerate() {
        let (row, col) = (k / cols, k % cols);
        let x = m + scale_w + col as f64 * col_w;
        let y = legend_top + 6.0 + row as f64 * row_h;
        let _ = write!(
            s,
            r#"<g class="legend-item" transform="translate({} {})">{symbol}<text x="24" y="4">{}</text></g>"#,
            fmt_px(x),
            fmt_px(y),
            escape(text)
        );
    }
    s.push_str("</g></svg>");
    s
}

/// Render the map and write it as a standalone `.svg` file at `path`
/// through `out`, with an XML declaration.
///
/// # Errors
/// An unwritable file.
pub fn write_svg(
    out: &mut OutputSet,
    path: &Path,
    layers: &MapLayers,
    opts: &MapOptions,
) -> Result<()> {
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    doc.push_str(&render_svg(layers, opts));
    doc.push('\n');
    out.write_bytes(path, doc.as_bytes())
}

/// Greedy label placement: each label goes to the first of right, left,
/// above, below (then the right, overlapping) of its symbol whose box stays
/// inside the frame and clear of the boxes placed so far. Text widths are
/// estimated (0.62 em per character), which is enough to avoid most clashes.
struct LabelPlacer {
    frame: [f64; 4],
    boxes: Vec<[f64; 4]>,
}

impl LabelPlacer {
    fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        LabelPlacer {
            frame: [x0, y0, x1, y1],
            boxes: Vec::new(),
        }
    }

    fn obstacle(&mut self, x: f64, y: f64, r: f64) {
        self.boxes.push([x - r, y - r, x + r, y + r]);
    }

    /// The ` x=".." y=".."[ text-anchor=".."]` attributes of the label.
    fn place(&mut self, x: f64, y: f64, gap_px: f64, text: &str, font_px: f64) -> String {
        let w = text.chars().count() as f64 * font_px * 0.62;
        let h = font_px;
        // (box, baseline x, baseline y, anchor)
        let candidates = [
            (
                [x + gap_px, y - h / 2.0, x + gap_px + w, y + h / 2.0],
                x + gap_px,
                y + 0.35 * h,
                "start",
            ),
            (
                [x - gap_px - w, y - h / 2.0, x - gap_px, y + h / 2.0],
                x - gap_px,
                y + 0.35 * h,
                "end",
            ),
            (
                [x - w / 2.0, y - gap_px - h, x + w / 2.0, y - gap_px],
                x,
                y - gap_px - 0.15 * h,
                "middle",
            ),
            (
                [x - w / 2.0, y + gap_px, x + w / 2.0, y + gap_px + h],
                x,
                y + gap_px + 0.85 * h,
                "middle",
            ),
        ];
        let [fx0, fy0, fx1, fy1] = self.frame;
        let fits = |b: &[f64; 4]| b[0] >= fx0 && b[1] >= fy0 && b[2] <= fx1 && b[3] <= fy1;
        let clear = |b: &[f64; 4]| {
            self.boxes
                .iter()
                .all(|o| b[2] <= o[0] || b[0] >= o[2] || b[3] <= o[1] || b[1] >= o[3])
        };
        let chosen = candidates
            .iter()
            .find(|c| fits(&c.0) && clear(&c.0))
            .or_else(|| candidates.iter().find(|c| fits(&c.0)))
            .unwrap_or(&candidates[0]);
        self.boxes.push(chosen.0);
        let anchor = if chosen.3 == "start" {
            String::new()
        } else {
            format!(r#" text-anchor="{}""#, chosen.3)
        };
        format!(
            r#" x="{}" y="{}"{anchor}"#,
            fmt_px(chosen.1),
            fmt_px(chosen.2)
        )
    }
}

fn data_id(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!(r#" data-id="{}""#, escape(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn fmt_px_is_stable() {
        assert_eq!(fmt_px(12.34), "12.3");
        assert_eq!(fmt_px(12.0), "12");
        assert_eq!(fmt_px(-0.04), "0");
        assert_eq!(fmt_px(-1.25), "-1.3");
        assert_eq!(fmt_px(f64::NAN), "0");
    }

    #[test]
    fn tiny_rings_are_dropped_and_closed_rings_not_repeated() {
        let proj = Projection::fit(
            Rect::new(Coord { x: 60.0, y: 40.0 }, Coord { x: 70.0, y: 50.0 }),
            960.0,
            20.0,
            20.0,
        );
        let tiny = polygon![(x: 65.0, y: 45.0), (x: 65.001, y: 45.0), (x: 65.001, y: 45.001)];
        assert!(simplify_ring_px(&proj, tiny.exterior(), 0.5, 1.0).is_empty());
        let sq = polygon![(x: 61.0, y: 41.0), (x: 62.0, y: 41.0), (x: 62.0, y: 42.0), (x: 61.0, y: 42.0)];
        let r = simplify_ring_px(&proj, sq.exterior(), 0.5, 1.0);
        assert_eq!(r.len(), 4, "{r:?}");
        let (d, n) = multipolygon_path(&proj, &MultiPolygon(vec![sq]), &MapOptions::default());
        assert_eq!(n, 4);
        assert!(d.starts_with('M') && d.ends_with('z'), "{d}");
    }

    #[test]
    fn scale_bar_is_round() {
        let proj = Projection::fit(
            Rect::new(Coord { x: 46.0, y: 40.0 }, Coord { x: 88.0, y: 56.0 }),
            960.0,
            20.0,
            20.0,
        );
        let bar = proj.scale_bar(180.0);
        assert!(bar.length_px <= 180.0 && bar.length_px > 180.0 / 2.5);
        assert_eq!(bar.label(), "500 km");
    }
}
