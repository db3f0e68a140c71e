//! `borderzone zone`: which settlements lie within N km of the border.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use geo::{CoordsIter, Geometry, MultiPolygon};
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::error::{Error, Location, Result};
use crate::io::atomic::OutputSet;
use crate::io::{prefetch_raw_chunks, read_layer, InputFeature, RawChunk, ReadOptions};
use crate::report::layers::{
    write_polygon_layer, DecidedBy, FormattedRows, RowFormat, SettlementLayout, SettlementWriter,
    ZoneResult,
};
use crate::rules::tax_regime::{decide, Eligibility};
use crate::settlement::{DuplicateIds, Extent, IdRun, IdentityFields, LayerCheck, Settlement};
use crate::zone::cells::{Verdict, ZoneCells};
use crate::zone::measure::area_inside_m2;
use crate::zone::strip::{clip_to, zone_band, zone_strip};
use crate::zone::strip_cache::StripCache;
use crate::zone::{measure, Border, BorderIndex, PolygonMode};

/// Settlements measured per parallel batch: bounds memory while streaming.
/// 8,192 measured best on 1 M points (2 cores: 16,384 2–4 % slower, 32,768
/// 10 %, 4,096 as fast for all borders and 5 % slower against China).
pub const CHUNK: usize = 8_192;
/// Rows read, measured and formatted per parallel task.
const PART_ROWS: usize = 512;

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
pub fn classify<'b>(
    border: &'b BorderIndex,
    s: &Settlement,
    distance_m: f64,
    mode: PolygonMode,
    strip: Option<&MultiPolygon<f64>>,
    path: &Path,
) -> Result<ZoneResult<'b>> {
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
        nearest_neighbour: border.neighbour_of(m.nearest.segment),
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
pub fn classify_certified<'b>(
    border: &'b BorderIndex,
    cells: &ZoneCells<'_>,
    s: &Settlement,
    distance_m: f64,
    distances: Distances,
) -> Option<ZoneResult<'b>> {
    let Geometry::Point(p) = &s.feature.geometry else {
        return None;
    };
    let p = p.0;
    let unmeasured = |in_zone: bool| ZoneResult {
        measurement: None,
        representative: p,
        decided_by: DecidedBy::Cell,
        nearest_neighbour: "",
        in_zone,
        zone_share: None,
    };
    let measured = |n: crate::zone::index::Nearest, decided_by: DecidedBy| ZoneResult {
        nearest_neighbour: border.neighbour_of(n.segment),
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

/// The per-row steps of a [`Part`]: identify a feature, measure a
/// settlement, format rows.
struct PartSteps<'a> {
    opts: &'a ZoneOptions,
    /// The layer's check, each part's starting from it empty.
    checks: &'a LayerCheck,
    index: &'a BorderIndex,
    cells: Option<&'a ZoneCells<'a>>,
    share_strip: Option<&'a MultiPolygon<f64>>,
    rows: &'a RowFormat,
    /// Whether increasing ids are hashed too ([`DuplicateIds::wants_hashes`]
    /// as of the last chunk written: a hint, the check is the same either
    /// way).
    hash_ids: &'a AtomicBool,
}

impl<'a> PartSteps<'a> {
    fn identify(&self, s: &mut Settlement) -> Result<()> {
        self.opts
            .identity
            .identify_in_place(s, &self.opts.settlements)
    }

    fn measure(&self, s: &Settlement) -> Result<ZoneResult<'a>> {
        let o = self.opts;
        if let Some(r) = self
            .cells
            .and_then(|c| classify_certified(self.index, c, s, o.distance_m, o.distances))
        {
            return Ok(r);
        }
        classify(
            self.index,
            s,
            o.distance_m,
            o.polygon_mode,
            self.share_strip,
            &o.settlements,
        )
    }

    fn format(
        &self,
        ss: &[Settlement],
        rs: &[ZoneResult<'_>],
        out: &mut FormattedRows,
    ) -> Result<()> {
        let rows = ss.iter().zip(rs).map(|(s, r)| (s, r, &[] as &[Value]));
        self.rows.format_into(rows, out)
    }
}

/// One parallel task's rows of a chunk, from reading to formatting. A part
/// is kept from chunk to chunk so that its buffers (the settlements'
/// attribute maps, the results, the formatted text) are reused.
#[derive(Default)]
struct Part<'a> {
    settlements: Vec<Settlement>,
    results: Vec<ZoneResult<'a>>,
    formatted: FormattedRows,
    /// The settlements' ids as the duplicate check needs them, and the
    /// layer check over them, merged in order by [`Written::add`].
    ids: IdRun,
    checks: Option<LayerCheck>,
    /// The part's first error of each stage (later stages do not run).
    read_error: Option<Error>,
    measure_error: Option<Error>,
    format_error: Option<Error>,
}

impl<'a> Part<'a> {
    /// Read and identify `rows` settlements with `fill` (row `k` into a
    /// settlement whose buffers may be reused), measure and format them.
    fn process(
        &mut self,
        rows: usize,
        mut fill: impl FnMut(usize, &mut Settlement) -> Result<()>,
        steps: &PartSteps<'a>,
    ) {
        self.checks = Some(steps.checks.fresh());
        self.read_error = None;
        self.measure_error = None;
        self.format_error = None;
        self.results.clear();
        for k in 0..rows {
            if k == self.settlements.len() {
                self.settlements.push(Settlement {
                    id: String::new(),
                    name: String::new(),
                    named: false,
                    feature: InputFeature::blank(),
                });
            }
            // Decoded and identified in place: the settlement's buffers are
            // reused from chunk to chunk.
            let s = &mut self.settlements[k];
            match fill(k, s) {
                Ok(()) => {}
                Err(e) => {
                    self.settlements.truncate(k);
                    self.read_error = Some(e);
                    self.check(steps);
                    return;
                }
            }
        }
        self.settlements.truncate(rows);
        self.check(steps);
        for s in &self.settlements {
            match steps.measure(s) {
                Ok(r) => self.results.push(r),
                Err(e) => {
                    self.measure_error = Some(e);
                    return;
                }
            }
        }
        if let Err(e) = steps.format(&self.settlements, &self.results, &mut self.formatted) {
            self.format_error = Some(e);
        }
    }

    /// Look at the ids and check the settlements read (see
    /// [`Written::add`]).
    fn check(&mut self, steps: &PartSteps<'_>) {
        self.ids
            .look_at(&self.settlements, steps.hash_ids.load(Ordering::Relaxed));
        let checks = self.checks.as_mut().expect("set by process");
        for s in &self.settlements {
            checks.add(s);
        }
    }
}

/// The in-order stage: checks over the whole layer, counts, and the files.
struct Written<'a> {
    writer: &'a mut SettlementWriter,
    dups: &'a mut DuplicateIds,
    checks: &'a mut LayerCheck,
    summary: &'a mut ZoneSummary,
    /// Set to [`DuplicateIds::wants_hashes`] after each chunk.
    hash_ids: &'a AtomicBool,
}

impl Written<'_> {
    /// Check, count and write measured parts, in order.
    fn add(&mut self, parts: &[Part<'_>]) -> Result<()> {
        for part in parts {
            self.dups.add_run(&part.ids, &part.settlements);
            if let Some(c) = &part.checks {
                self.checks.merge(c);
            }
            let summary = &mut *self.summary;
            summary.settlements += part.results.len();
            // Runs of one neighbour are counted first, then added once.
            let mut run: Option<(&str, usize)> = None;
            for r in part.results.iter().filter(|r| r.in_zone) {
                summary.in_zone += 1;
                let neighbour = if r.measurement.is_some() {
                    r.nearest_neighbour
                } else {
                    "not measured"
                };
                match &mut run {
                    Some((n, count)) if *n == neighbour => *count += 1,
                    _ => {
                        if let Some((n, count)) = run.replace((neighbour, 1)) {
                            add_in_zone(summary, n, count);
                        }
                    }
                }
            }
            if let Some((n, count)) = run {
                add_in_zone(summary, n, count);
            }
        }
        self.hash_ids
            .store(self.dups.wants_hashes(), Ordering::Relaxed);
        self.writer
            .write_formatted_parts(parts.iter().map(|p| &p.formatted))
    }
}

/// Count `count` more in-zone settlements nearest to `neighbour`.
fn add_in_zone(summary: &mut ZoneSummary, neighbour: &str, count: usize) {
    match summary.in_zone_by_neighbour.get_mut(neighbour) {
        Some(n) => *n += count,
        None => {
            summary
                .in_zone_by_neighbour
                .insert(neighbour.to_string(), count);
        }
    }
}

/// The first error of a chunk's parts in input order: reading (then the
/// CSV syntax error that ended the rows), then measuring, then formatting.
fn first_error(parts: &mut [Part<'_>], syntax_error: Option<Error>) -> Result<()> {
    for part in parts.iter_mut() {
        if let Some(e) = part.read_error.take() {
            return Err(e);
        }
    }
    if let Some(e) = syntax_error {
        return Err(e);
    }
    for part in parts.iter_mut() {
        if let Some(e) = part.measure_error.take() {
            return Err(e);
        }
    }
    for part in parts.iter_mut() {
        if let Some(e) = part.format_error.take() {
            return Err(e);
        }
    }
    Ok(())
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
    // Reading (own thread; for CSV only the framing) → decoding, measuring
    // and formatting (parallel, PART_ROWS rows a task) → checks and writing
    // (in order), the writing of one chunk beside the measuring of the next.
    let part_checks = checks.fresh();
    let hash_ids = AtomicBool::new(false);
    let steps = PartSteps {
        opts,
        checks: &part_checks,
        index: &index,
        cells: cells.as_ref(),
        share_strip,
        rows: &writer.row_format(),
        hash_ids: &hash_ids,
    };
    let mut written = Written {
        writer: &mut writer,
        dups: &mut dups,
        checks: &mut checks,
        summary: &mut summary,
        hash_ids: &hash_ids,
    };
    // The parts of the chunk being measured, and of the one being written.
    let mut measuring: Vec<Part> = Vec::new();
    let mut writing: Vec<Part> = Vec::new();
    let mut to_write = 0;
    for mut raw in prefetch_raw_chunks(&opts.settlements, &opts.read, CHUNK)? {
        let (rows, syntax_error) = match &mut raw {
            RawChunk::Features(items) => (items.len(), None),
            RawChunk::Csv(batch) => (batch.len(), batch.take_error()),
        };
        let used = rows.div_ceil(PART_ROWS);
        if measuring.len() < used {
            measuring.resize_with(used, Part::default);
        }
        let parts = &mut measuring[..used];
        let (wrote, ()) = rayon::join(
            || written.add(&writing[..to_write]),
            || match &mut raw {
                RawChunk::Features(items) => parts
                    .par_iter_mut()
                    .zip(items.par_chunks_mut(PART_ROWS))
                    .for_each(|(part, items)| {
                        part.process(
                            items.len(),
                            |k, s| {
                                s.feature =
                                    std::mem::replace(&mut items[k], Ok(InputFeature::blank()))?;
                                steps.identify(s)
                            },
                            &steps,
                        )
                    }),
                RawChunk::Csv(batch) => {
                    // Without settlements.geojson, the rows' other
                    // attributes are not needed: only the id and name are
                    // read, straight into the settlement.
                    let picked =
                        (!opts.geojson).then(|| opts.identity.csv_columns(batch.columns()));
                    parts.par_iter_mut().enumerate().for_each(|(j, part)| {
                        let first = j * PART_ROWS;
                        part.process(
                            PART_ROWS.min(rows - first),
                            |k, s| match &picked {
                                Some(picked) => opts.identity.identify_csv_row(
                                    batch,
                                    first + k,
                                    picked,
                                    s,
                                    &opts.settlements,
                                ),
                                None => batch
                                    .decode_into(first + k, &mut s.feature)
                                    .and_then(|()| steps.identify(s)),
                            },
                            &steps,
                        )
                    })
                }
            },
        );
        // The first error in input order, whatever the thread count: the
        // earlier chunk's writing, then this chunk's reading (a CSV syntax
        // error ends the rows), measuring, formatting — as when each stage
        // ran over the whole chunk.
        wrote?;
        first_error(parts, syntax_error)?;
        std::mem::swap(&mut measuring, &mut writing);
        to_write = used;
    }
    written.add(&writing[..to_write])?;
    if let Some(c) = &cells {
        tracing::debug!("certified cells: {} blocks of children", c.child_blocks());
    }
    if summary.settlements == 0 {
        return Err(Error::invalid(
            Location::file(&opts.settlements),
            "the settlements layer is empty",
        ));
    }
    // The settlements file is flushed and synced to disk while the ids and
    // the layer are checked; the checks' errors come first, as the layer's.
    let (checked, synced) = std::thread::scope(|scope| {
        let sync = scope.spawn(|| writer.finish());
        let checked = dups
            .finish(&opts.settlements, &opts.read, &opts.identity)
            .and_then(|()| checks.finish(&opts.settlements));
        (
            checked,
            sync.join().expect("the sync thread does not panic"),
        )
    });
    summary.warnings = checked?;
    synced?;
    for w in &summary.warnings {
        tracing::warn!("{w}");
    }
    if let Some(country) = &country {
        let zone = match band {
            Some(band) => clip_to(&band, country),
            None => {
                let key = StripCache::key(&border, opts.distance_m, country);
                StripCache::from_env()
                    .get_or_build(&key, || zone_strip(&border, opts.distance_m, country))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TempDir;

    fn temp_dir(name: &str) -> TempDir {
        TempDir::new(&format!("zone-{name}"))
    }

    /// `n` points along the Kazakh–Chinese border region (a fixed
    /// pattern: some in the zone, most out), as `id,name,lon,lat` rows.
    fn rows(n: usize) -> Vec<(String, String, String, String)> {
        (0..n)
            .map(|i| {
                let t = i as f64 / n as f64;
                let lon = 79.0 + 3.0 * t;
                let lat = 42.5 + 3.0 * ((i * 7919) % 1000) as f64 / 1000.0;
                (
                    format!("p{i}"),
                    format!("n{}", i % 13),
                    format!("{lon:.6}"),
                    format!("{lat:.6}"),
                )
            })
            .collect()
    }

    fn write_csv(path: &Path, rows: &[(String, String, String, String)]) {
        let mut text = String::from("id,name,lon,lat\n");
        for (id, name, lon, lat) in rows {
            text.push_str(&format!("{id},{name},{lon},{lat}\n"));
        }
        std::fs::write(path, text).unwrap();
    }

    fn options(settlements: PathBuf, out_dir: PathBuf, distances: Distances) -> ZoneOptions {
        ZoneOptions {
            border: Path::new(env!("CARGO_MANIFEST_DIR")).join("data/kz/border_lines.geojson"),
            neighbour_field: "neighbour".into(),
            neighbours: vec!["CHN".into()],
            settlements,
            read: ReadOptions::default(),
            identity: IdentityFields {
                id_field: Some("id".into()),
                name_field: None,
            },
            distance_m: 20_000.0,
            polygon_mode: PolygonMode::AnyPart,
            distances,
            geojson: false,
            country: None,
            out_dir,
        }
    }

    fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn csv_rows_decoded_in_parallel_give_what_the_geojson_reader_gives() {
        // The same points as CSV (decoded in the parallel stage) and as
        // NDJSON (decoded by the reader): byte-identical tables, with 1 and
        // 2 threads, across several parts and two chunks.
        let dir = temp_dir("csv-vs-ndjson");
        let pts = rows(CHUNK + 3 * PART_ROWS + 7);
        let csv = dir.join("s.csv");
        write_csv(&csv, &pts);
        let ndjson = dir.join("s.ndjson");
        let mut text = String::new();
        for (id, name, lon, lat) in &pts {
            text.push_str(&format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"id\":\"{id}\",\"name\":\"{name}\"}},\
                 \"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}\n"
            ));
        }
        std::fs::write(&ndjson, text).unwrap();
        for distances in [Distances::None, Distances::All] {
            let reference = dir.join(format!("ref-{distances}"));
            let s = run_zone(&options(ndjson.clone(), reference.clone(), distances)).unwrap();
            assert_eq!(s.settlements, pts.len());
            assert!(
                s.in_zone > 100 && s.in_zone < pts.len() - 100,
                "{}",
                s.in_zone
            );
            let expected = std::fs::read(reference.join("settlements.csv")).unwrap();
            for threads in [1, 2] {
                let out = dir.join(format!("csv-{distances}-{threads}"));
                let o = options(csv.clone(), out.clone(), distances);
                let t = with_threads(threads, || run_zone(&o)).unwrap();
                assert_eq!((t.settlements, t.in_zone), (s.settlements, s.in_zone));
                let got = std::fs::read(out.join("settlements.csv")).unwrap();
                assert!(got == expected, "{distances} {threads} threads");
            }
        }
    }

    #[test]
    fn the_first_error_in_input_order_wins_whatever_the_threads() {
        // Errors in different parts of one chunk: a bad number (decoding),
        // an empty id (identifying), a missing field (CSV syntax). Each is
        // reported alone once the earlier ones are fixed.
        let dir = temp_dir("first-error");
        let mut pts = rows(3000);
        pts[2500].0 = " ".into();
        pts[1700].2 = "abc".into();
        let ragged = |pts: &[(String, String, String, String)], name: &str| {
            let p = dir.join(name);
            write_csv(&p, pts);
            // Row 2900 loses its last field.
            let text = std::fs::read_to_string(&p).unwrap();
            let mut lines: Vec<&str> = text.lines().collect();
            let short = lines[2901].rsplit_once(',').unwrap().0.to_string();
            lines[2901] = &short;
            std::fs::write(&p, lines.join("\n") + "\n").unwrap();
            p
        };
        let expect = |p: PathBuf, what: &[&str]| {
            for threads in [1, 2] {
                let o = options(p.clone(), dir.join("out"), Distances::None);
                let e = with_threads(threads, || run_zone(&o))
                    .unwrap_err()
                    .to_string();
                for w in what {
                    assert!(e.contains(w), "{threads} threads: {e}");
                }
            }
        };
        expect(
            ragged(&pts, "a.csv"),
            &["feature #1700, field 'lon'", "'abc' is not a number"],
        );
        pts[1700].2 = "80".into();
        expect(
            ragged(&pts, "b.csv"),
            &["feature #2500, field 'id'", "the id attribute is empty"],
        );
        pts[2500].0 = "x".into();
        expect(
            ragged(&pts, "c.csv"),
            &["feature #2900", "found record with 3 fields"],
        );
    }
}
