//! `borderzone zone`: which settlements lie within N km of the border.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::{CoordsIter, Geometry, MultiPolygon};
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Error, Location, Result};
use crate::io::atomic::OutputSet;
use crate::io::{prefetch_chunks, read_layer, ReadOptions};
use crate::report::layers::{
    write_polygon_layer, DecidedBy, FormattedRows, SettlementLayout, SettlementWriter, ZoneResult,
};
use crate::rules::tax_regime::{decide, Eligibility};
use crate::settlement::{DuplicateIds, Extent, IdentityFields, LayerCheck, Settlement};
use crate::zone::cells::{Verdict, ZoneCells};
use crate::zone::measure::area_inside_m2;
use crate::zone::strip::{clip_to, zone_band};
use crate::zone::strip_cache::StripCache;
use crate::zone::{measure, Border, BorderIndex, PolygonMode};

/// Settlements measured per parallel batch: bounds memory while streaming.
pub const CHUNK: usize = 16_384;
/// Rows formatted per parallel task.
const FORMAT_ROWS: usize = 512;

/// Which settlements get an exact border distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Distances {
    /// Every settlement (the default).
    #[default]
    All,
    /// Settlements in the zone; the others are proven outside by certified
    /// cells where possible and get no distance.
    Zone,
    /// None: membership only, proven by certified cells or, near the zone's
    /// edge, by an exact distance that is not reported.
    None,
}

impl std::str::FromStr for Distances {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "all" => Ok(Distances::All),
            "zone" => Ok(Distances::Zone),
            "none" => Ok(Distances::None),
            _ => Err(format!(
                "unknown distances choice '{s}': expected all, zone or none"
            )),
        }
    }
}

impl std::fmt::Display for Distances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Distances::All => "all",
            Distances::Zone => "zone",
            Distances::None => "none",
        })
    }
}

/// Inputs and parameters of a zone run.
#[derive(Debug, Clone)]
pub struct ZoneOptions {
    /// Border layer.
    pub border: PathBuf,
    /// Attribute of the border layer naming the neighbour.
    pub neighbour_field: String,
    /// Neighbours to keep (empty: the whole border).
    pub neighbours: Vec<String>,
    /// Settlements layer.
    pub settlements: PathBuf,
    /// CSV column names.
    pub read: ReadOptions,
    /// Id and name attributes.
    pub identity: IdentityFields,
    /// Zone width (m).
    pub distance_m: f64,
    /// Polygon rule.
    pub polygon_mode: PolygonMode,
    /// Which settlements get an exact distance.
    pub distances: Distances,
    /// Write `settlements.geojson` (the CSV is always written).
    pub geojson: bool,
    /// Country outline for the zone strip layer.
    pub country: Option<PathBuf>,
    /// Output folder.
    pub out_dir: PathBuf,
}

/// What a zone run did.
#[derive(Debug, Clone, Default)]
pub struct ZoneSummary {
    /// Settlements read.
    pub settlements: usize,
    /// Settlements in the zone.
    pub in_zone: usize,
    /// In-zone settlements by nearest neighbour.
    pub in_zone_by_neighbour: BTreeMap<String, usize>,
    /// Border segments indexed.
    pub border_segments: usize,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Wall time (s).
    pub elapsed_s: f64,
    /// Warnings about the inputs (also logged): settlements far outside the
    /// country or border, missing names, self-intersecting polygons…
    pub warnings: Vec<String>,
}

/// Where settlements are expected: the country outline's box when there is
/// one, else the whole border's (all neighbours), padded.
pub fn expected_extent(country: Option<&MultiPolygon<f64>>, border: &Border) -> Option<Extent> {
    match country {
        Some(c) => Extent::around(c.coords_iter(), true),
        None => Extent::around(
            border.parts.iter().flat_map(|p| p.coords.iter().copied()),
            false,
        ),
    }
}

/// Read a country (or any area) layer as one MultiPolygon.
///
/// # Errors
/// Unreadable file, a feature that is not a polygon, an empty layer.
pub fn read_area(path: &Path) -> Result<MultiPolygon<f64>> {
    let mut polys = Vec::new();
    for f in read_layer(path, &ReadOptions::default())? {
        let f = f?;
        match f.geometry {
            Geometry::Polygon(p) => polys.push(p),
            Geometry::MultiPolygon(mp) => polys.extend(mp.0),
            other => {
                return Err(Error::invalid(
                    Location::feature(path, f.index),
                    format!(
                        "expected a Polygon or MultiPolygon, found {}",
                        crate::zone::border::geometry_type(&other)
                    ),
                ))
            }
        }
    }
    if polys.is_empty() {
        return Err(Error::invalid(
            Location::file(path),
            "the layer has no polygon",
        ));
    }
    Ok(MultiPolygon(polys))
}

/// Validate a zone width.
pub fn check_distance_m(distance_m: f64) -> Result<()> {
    if !(distance_m.is_finite() && distance_m > 0.0 && distance_m <= 1_000_000.0) {
        return Err(Error::config(format!(
            "zone width must be a positive number of kilometres up to 1000, got {} km",
            distance_m / 1000.0
        )));
    }
    Ok(())
}

/// Classify one settlement.
pub fn classify(
    border: &BorderIndex,
    s: &Settlement,
    distance_m: f64,
    mode: PolygonMode,
    strip: Option<&MultiPolygon<f64>>,
    path: &Path,
) -> Result<ZoneResult> {
    let m = measure(border, &s.feature.geometry, mode)
        .map_err(|msg| Error::invalid(Location::feature(path, s.feature.index), msg))?;
    let zone_share = match (mode, strip) {
        (PolygonMode::Share, Some(z)) => {
            area_inside_m2(&s.feature.geometry, z).map(|(inside, whole)| {
                if whole > 0.0 {
                    (inside / whole).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
        }
        _ => None,
    };
    Ok(ZoneResult {
        nearest_neighbour: border.neighbour_of(m.nearest.segment).to_string(),
        in_zone: decide(m.distance_m, distance_m, 0.0) == Eligibility::Eligible,
        zone_share,
        representative: m.representative,
        decided_by: DecidedBy::Exact,
        measurement: Some(m),
    })
}

/// Classify a point settlement through the certified cells when fewer
/// distances than all are asked for; `None` for other geometries (they are
/// measured exactly by [`classify`]).
///
/// The membership is exactly that of [`classify`]: cells only decide what
/// they prove, and every other point gets the exact distance (reported or
/// not, per `distances`).
pub fn classify_certified(
    border: &BorderIndex,
    cells: &ZoneCells<'_>,
    s: &Settlement,
    distance_m: f64,
    distances: Distances,
) -> Option<ZoneResult> {
    let Geometry::Point(p) = &s.feature.geometry else {
        return None;
    };
    let p = p.0;
    let unmeasured = |in_zone: bool| ZoneResult {
        measurement: None,
        representative: p,
        decided_by: DecidedBy::Cell,
        nearest_neighbour: String::new(),
        in_zone,
        zone_share: None,
    };
    let measured = |n: crate::zone::index::Nearest, decided_by: DecidedBy| ZoneResult {
        nearest_neighbour: border.neighbour_of(n.segment).to_string(),
        in_zone: decide(n.distance_m, distance_m, 0.0) == Eligibility::Eligible,
        measurement: Some(crate::zone::Measurement {
            distance_m: n.distance_m,
            nearest: n,
            representative: p,
        }),
        representative: p,
        decided_by,
        zone_share: None,
    };
    Some(match cells.verdict(p) {
        Verdict::Outside => unmeasured(false),
        Verdict::Inside { .. } if distances == Distances::None => unmeasured(true),
        Verdict::Inside { upper_m } => {
            // Proven inside: the exact distance is at most upper_m.
            let n = border.segments().nearest_within(p, upper_m + 1e-3)?;
            measured(n, DecidedBy::Cell)
        }
        Verdict::Undecided => match border.segments().nearest_within(p, distance_m) {
            Some(n) if distances == Distances::Zone => measured(n, DecidedBy::Exact),
            Some(_) => ZoneResult {
                decided_by: DecidedBy::Exact,
                ..unmeasured(true)
            },
            None => ZoneResult {
                decided_by: DecidedBy::Exact,
                ..unmeasured(false)
            },
        },
    })
}

/// Run the zone analysis and write `settlements.geojson`,
/// `settlements.csv` and, with a country, `zone.geojson` into the output
/// folder — all or nothing.
pub fn run_zone(opts: &ZoneOptions) -> Result<ZoneSummary> {
    let start = Instant::now();
    check_distance_m(opts.distance_m)?;
    let whole_border = Border::read(&opts.border, &opts.neighbour_field)?;
    let border = whole_border.select(&opts.neighbours, &opts.border)?;
    let index = BorderIndex::build(&border);
    if index.segments().zero_length_skipped() > 0 {
        tracing::info!(
            "{}: {} zero-length border segments (repeated vertices) skipped",
            opts.border.display(),
            index.segments().zero_length_skipped()
        );
    }
    let country = opts.country.as_deref().map(read_area).transpose()?;
    let name_field = opts.identity.name_field.as_deref().unwrap_or("name");
    let mut checks = LayerCheck::new(expected_extent(country.as_ref(), &whole_border), name_field);
    // Share mode needs the band while measuring; otherwise it is built only
    // after the settlements have been read and checked, so that a bad layer
    // fails at once rather than after the (slow) band.
    let needs_band = opts.polygon_mode == PolygonMode::Share;
    // The share is measured against the unclipped band: the part of a
    // settlement polygon across the border is not "outside the zone".
    let band = needs_band.then(|| zone_band(&border, opts.distance_m));
    let share_strip = band
        .as_ref()
        .filter(|_| opts.polygon_mode == PolygonMode::Share);

    let mut out = OutputSet::new();
    let mut writer = SettlementWriter::create(
        &mut out,
        &opts.out_dir,
        Vec::new(),
        SettlementLayout {
            share: opts.polygon_mode == PolygonMode::Share,
            decided_by: opts.distances != Distances::All,
            geojson: opts.geojson,
        },
    )?;
    let cells = (opts.distances != Distances::All)
        .then(|| ZoneCells::new(index.segments(), opts.distance_m));
    let mut summary = ZoneSummary {
        border_segments: index.segments().segments().len(),
        ..Default::default()
    };
    // Ids are checked whatever their source: two features with one GeoJSON
    // `id` would make the lists ambiguous just as two equal attributes would.
    let mut dups = DuplicateIds::default();
    let stream = read_layer(&opts.settlements, &opts.read)?;
    // Reading (own thread) → checks (here, in order) → measuring and
    // formatting (parallel) → writing (here, in order).
    for batch in prefetch_chunks(stream, CHUNK) {
        let identified: Vec<Result<Settlement>> = batch
            .into_par_iter()
            .map(|f| opts.identity.identify(f?, &opts.settlements))
            .collect();
        let mut chunk: Vec<Settlement> = Vec::with_capacity(identified.len());
        for s in identified {
            // The first error in input order, whatever the thread count.
            let s = s?;
            dups.check(&s);
            checks.add(&s);
            chunk.push(s);
        }
        let results: Vec<ZoneResult> = chunk
            .par_iter()
            .map(|s| {
                if let Some(r) = cells
                    .as_ref()
                    .and_then(|c| classify_certified(&index, c, s, opts.distance_m, opts.distances))
                {
                    return Ok(r);
                }
                classify(
                    &index,
                    s,
                    opts.distance_m,
                    opts.polygon_mode,
                    share_strip,
                    &opts.settlements,
                )
            })
            .collect::<Result<_>>()?;
        let formatted: Vec<FormattedRows> = chunk
            .par_chunks(FORMAT_ROWS)
            .zip(results.par_chunks(FORMAT_ROWS))
            .map(|(ss, rs)| writer.format(ss.iter().zip(rs).map(|(s, r)| (s, r, &[] as &[Value]))))
            .collect::<Result<_>>()?;
        for r in &results {
            summary.settlements += 1;
            if r.in_zone {
                summary.in_zone += 1;
                let neighbour = if r.measurement.is_some() {
                    r.nearest_neighbour.as_str()
                } else {
                    "not measured"
                };
                *summary
                    .in_zone_by_neighbour
                    .entry(neighbour.to_string())
                    .or_default() += 1;
            }
        }
        for f in &formatted {
            writer.write_formatted(f)?;
        }
    }
    if summary.settlements == 0 {
        return Err(Error::invalid(
            Location::file(&opts.settlements),
            "the settlements layer is empty",
        ));
    }
    dups.finish(&opts.settlements, &opts.read, &opts.identity)?;
    summary.warnings = checks.finish(&opts.settlements)?;
    for w in &summary.warnings {
        tracing::warn!("{w}");
    }
    writer.finish()?;
    if let Some(country) = &country {
        let zone = match band {
            Some(band) => clip_to(&band, country),
            None => {
                let key = StripCache::key(&border, opts.distance_m, country);
                StripCache::from_env()
                    .get_or_build(&key, || {
                        clip_to(&zone_band(&border, opts.distance_m), country)
                    })
                    .0
            }
        };
        let mut props = Map::new();
        props.insert("distance_km".into(), Value::from(opts.distance_m / 1000.0));
        props.insert(
            "neighbours".into(),
            Value::from(selection_label(&opts.neighbours)),
        );
        write_polygon_layer(
            &mut out,
            &opts.out_dir.join("zone.geojson"),
            "zone",
            &[(props, zone)],
        )?;
    }
    summary.files = out.commit()?;
    summary.elapsed_s = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// "all" or the neighbour codes joined by '+'.
pub fn selection_label(neighbours: &[String]) -> String {
    if neighbours.is_empty() {
        "all".to_string()
    } else {
        neighbours
            .iter()
            .map(|n| n.trim().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join("+")
    }
}
