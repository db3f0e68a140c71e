//! `borderzone run [CONFIG]`: the batch analysis — every scenario, the
//! eligibility lists, hub candidates, summaries, map layers and manifest in
//! one run, all or nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::{Geometry, MultiPolygon};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::admin::AdminIndex;
use crate::config::{AccessConfig, Config, Scenario};
use crate::error::{Error, Location, Result};
use crate::geodesy::{distance_m, LonLat};
use crate::io::atomic::OutputSet;
use crate::io::geojson::FeatureCollectionWriter;
use crate::io::{property_text, read_all, read_layer, InputFeature, ReadOptions};
use crate::jobs::access::{
    compute_access, parse_metric, read_roads, read_services, AccessParams, AccessPlace,
    AccessTable, RoadInput,
};
use crate::network::geojson_roads::GeoJsonRoadOptions;
use crate::network::{Access, AccessOptions};
use crate::progress::Progress;
use crate::report::layers::{
    round_mm, write_polygon_layer, write_text, DecidedBy, SettlementLayout, SettlementWriter,
    ZoneResult,
};
use crate::report::table::{Cell, Table};
use crate::report::{html, svg};
use crate::rules::hubs::{exclusion, score, HubFactors, HubScore};
use crate::rules::tax_regime::{decide, reason_code, Eligibility};
use crate::settlement::{DuplicateIds, IdentityFields, Settlement};
use crate::zone::index::SegmentIndex;
use crate::zone::strip::zone_strip;
use crate::zone::strip_cache::StripCache;
use crate::zone::{measure, Border, BorderIndex, Measurement, PolygonMode};

/// What a batch run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Content-derived run id written into every list.
    pub run_id: String,
    /// Settlements read.
    pub settlements: usize,
    /// Per scenario: (name, eligible, near the line).
    pub scenarios: Vec<(String, usize, usize)>,
    /// Hub candidates.
    pub hubs: usize,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Wall time (s).
    pub elapsed_s: f64,
}

/// Per-settlement facts gathered before the rules.
struct Place {
    settlement: Settlement,
    /// One measurement per border selection.
    measures: Vec<Measurement>,
    oblast: (String, String),
    district: (String, String),
    kato: String,
    population: Option<f64>,
}

impl Place {
    fn representative(&self) -> LonLat {
        self.measures[0].representative
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, "cannot read", e))?;
    Ok(format!("{:x}", h.finalize()))
}

fn normalise(neighbours: &[String]) -> Vec<String> {
    let mut v: Vec<String> = neighbours
        .iter()
        .map(|n| n.trim().to_ascii_uppercase())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace([' ', '\u{a0}'], "").parse().ok(),
        _ => None,
    }
}

/// Points of a layer (non-point features are an error naming the feature).
fn read_points(path: &Path) -> Result<Vec<(InputFeature, LonLat)>> {
    read_all(path, &ReadOptions::default())?
        .into_iter()
        .map(|f| match &f.geometry {
            Geometry::Point(p) => {
                let c = p.0;
                Ok((f, c))
            }
            _ => Err(Error::invalid(
                Location::feature(path, f.index),
                "expected a Point",
            )),
        })
        .collect()
}

/// Nearest of `points` to `p`: (index, geodesic metres).
fn nearest_point(points: &[(InputFeature, LonLat)], p: LonLat) -> Option<(usize, f64)> {
    points
        .iter()
        .enumerate()
        .map(|(i, (_, q))| (i, distance_m(p, *q)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
}

/// Run the batch analysis described by `cfg` into `out_dir`.
///
/// # Errors
/// Any input or configuration problem; nothing is written then.
pub fn run_batch(
    cfg: &Config,
    config_text: &str,
    out_dir: &Path,
    progress: Progress,
) -> Result<RunSummary> {
    let start = Instant::now();
    let mut timings: Vec<(String, f64)> = Vec::new();
    let mut lap = Instant::now();
    let mut tick = |name: &str, timings: &mut Vec<(String, f64)>| {
        timings.push((name.to_string(), lap.elapsed().as_secs_f64()));
        tracing::info!(step = name, seconds = lap.elapsed().as_secs_f64(), "done");
        lap = Instant::now();
    };
    let inp = &cfg.inputs;
    let mode = cfg.zone.polygon_mode;

    // Audit trail: every input file's hash, and a run id derived from the
    // tool version, the configuration and the inputs (same inputs → same id).
    let mut input_files: Vec<(&str, PathBuf)> = vec![
        ("border", inp.border.clone()),
        ("settlements", inp.settlements.clone()),
    ];
    for (k, p) in [
        ("country", &inp.country),
        ("crossings", &inp.crossings),
        ("airports", &inp.airports),
        ("roads", &inp.roads),
    ] {
        if let Some(p) = p {
            input_files.push((k, p.clone()));
        }
    }
    for (k, a) in [("oblasts", &inp.oblasts), ("districts", &inp.districts)] {
        if let Some(a) = a {
            input_files.push((k, a.path.clone()));
        }
    }
    let hashes: Vec<(String, PathBuf, String)> = input_files
        .par_iter()
        .map(|(k, p)| sha256_file(p).map(|h| (k.to_string(), p.clone(), h)))
        .collect::<Result<_>>()?;
    let run_id = {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(config_text.as_bytes());
        for (k, _, hash) in &hashes {
            h.update(k.as_bytes());
            h.update(hash.as_bytes());
        }
        format!("bz-{}", &format!("{:x}", h.finalize())[..12])
    };
    tick("hash inputs", &mut timings);

    // Index: one frozen border index per distinct neighbour selection.
    let border = Border::read(&inp.border, &inp.neighbour_field)?;
    let mut selections: Vec<Vec<String>> = Vec::new();
    let scenario_sel: Vec<usize> = cfg
        .scenarios
        .iter()
        .map(|s| {
            let sel = normalise(&s.neighbours);
            selections
                .iter()
                .position(|x| *x == sel)
                .unwrap_or_else(|| {
                    selections.push(sel);
                    selections.len() - 1
                })
        })
        .collect();
    let selected: Vec<Border> = selections
        .iter()
        .map(|sel| border.select(sel, &inp.border))
        .collect::<Result<_>>()?;
    let indexes: Vec<BorderIndex> = selected.par_iter().map(BorderIndex::build).collect();
    tick("index border", &mut timings);

    // Read settlements.
    let identity = IdentityFields {
        id_field: inp.id_field.clone(),
        name_field: Some(inp.name_field.clone()),
    };
    let read_opts = ReadOptions {
        lon_field: inp.lon_field.clone(),
        lat_field: inp.lat_field.clone(),
        ..Default::default()
    };
    let mut dups = DuplicateIds::default();
    // Lon/lat swapped, wrong layer, missing names, crossing rings: see
    // `LayerCheck` (the whole border's extent is the reference here).
    let mut checks = crate::settlement::LayerCheck::new(
        crate::jobs::zone::expected_extent(None, &border),
        &inp.name_field,
    );
    let mut settlements = Vec::new();
    for f in read_layer(&inp.settlements, &read_opts)? {
        let s = identity.identify(f?, &inp.settlements)?;
        dups.check(&s);
        checks.add(&s);
        settlements.push(s);
    }
    dups.finish(&inp.settlements, &read_opts, &identity)?;
    if settlements.is_empty() {
        return Err(Error::invalid(
            Location::file(&inp.settlements),
            "the settlements layer is empty",
        ));
    }
    for w in checks.finish(&inp.settlements)? {
        tracing::warn!("{w}");
    }
    tick("read settlements", &mut timings);

    // Measure: every settlement against every selection, exactly.
    let bar = progress.bar(settlements.len() as u64, "measuring distances");
    let measures: Vec<Vec<Measurement>> = settlements
        .par_iter()
        .map(|s| {
            let r = indexes
                .iter()
                .map(|idx| measure(idx, &s.feature.geometry, mode))
                .collect::<std::result::Result<Vec<_>, String>>()
                .map_err(|msg| {
                    Error::invalid(Location::feature(&inp.settlements, s.feature.index), msg)
                });
            bar.inc(1);
            r
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    tick("measure distances", &mut timings);

    // Admin units and attributes.
    let oblasts = inp.oblasts.as_ref().map(AdminIndex::read).transpose()?;
    let districts = inp.districts.as_ref().map(AdminIndex::read).transpose()?;
    let places: Vec<Place> = settlements
        .into_par_iter()
        .zip(measures)
        .map(|(settlement, measures)| {
            let rep = measures[0].representative;
            let props = &settlement.feature.properties;
            let field = |i: usize| {
                inp.admin_fields
                    .get(i)
                    .and_then(|f| props.get(f))
                    .map(property_text)
                    .unwrap_or_default()
            };
            let unit = |idx: &Option<AdminIndex>, fallback: usize| match idx {
                Some(ix) => ix
                    .locate(rep)
                    .map(|u| (u.name.clone(), u.code.clone()))
                    .unwrap_or_default(),
                None => (field(fallback), String::new()),
            };
            let oblast = unit(&oblasts, 0);
            let district = unit(&districts, 1);
            let kato = inp
                .kato_field
                .as_ref()
                .and_then(|f| props.get(f))
                .map(property_text)
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| district.1.clone());
            let population = inp
                .population_field
                .as_ref()
                .and_then(|f| props.get(f))
                .and_then(number);
            Place {
                settlement,
                measures,
                oblast,
                district,
                kato,
                population,
            }
        })
        .collect();
    tick("admin units", &mut timings);

    // Rules: eligibility per scenario.
    let margin_m = cfg.zone.near_line_margin_km * 1000.0;
    let decisions: Vec<Vec<Eligibility>> = cfg
        .scenarios
        .iter()
        .zip(&scenario_sel)
        .map(|(sc, &sel)| {
            places
                .iter()
                .map(|p| {
                    decide(
                        p.measures[sel].distance_m,
                        sc.distance_km * 1000.0,
                        margin_m,
                    )
                })
                .collect()
        })
        .collect();

    // Road access to services and the regional standards.
    let access = cfg
        .access
        .as_ref()
        .map(|a| access_step(a, &places))
        .transpose()?;
    if access.is_some() {
        tick("road access", &mut timings);
    }

    // Rules: hubs.
    let crossings = inp
        .crossings
        .as_deref()
        .map(read_points)
        .transpose()?
        .unwrap_or_default();
    let airports: Vec<(InputFeature, LonLat)> = inp
        .airports
        .as_deref()
        .map(read_points)
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .filter(|(f, _)| {
            inp.airport_filter.as_ref().is_none_or(|flt| {
                f.properties.get(&flt.field).map(property_text).as_deref()
                    == Some(flt.equals.as_str())
            })
        })
        .collect();
    let roads = inp.roads.as_deref().map(read_road_lines).transpose()?;
    let hub_zone = cfg
        .hubs
        .zone_scenario
        .as_ref()
        .and_then(|n| cfg.scenarios.iter().position(|s| &s.name == n))
        .unwrap_or(0);
    let hub_rows: Vec<Option<(HubFactors, HubScore, Option<String>)>> = places
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let rep = p.representative();
            let (ci, geodesic_crossing_m) = nearest_point(&crossings, rep)?;
            // By road when the network reaches a crossing, else geodesic.
            let by_road = access
                .as_ref()
                .and_then(|(_, t, _)| road_to(t, i, &cfg.hubs.crossing_category));
            let (crossing_m, crossing_name, basis) = match by_road {
                Some((m, name)) => (m, name, "road"),
                None => (
                    geodesic_crossing_m,
                    crossings[ci]
                        .0
                        .properties
                        .get("name")
                        .map(property_text)
                        .unwrap_or_default(),
                    "geodesic",
                ),
            };
            let airport_m = nearest_point(&airports, rep).map_or(f64::INFINITY, |a| a.1);
            let road_m = roads
                .as_ref()
                .and_then(|r| r.nearest(rep))
                .map(|n| n.distance_m);
            let f = HubFactors {
                crossing_m,
                crossing: crossing_name,
                crossing_basis: basis,
                population: p.population.unwrap_or(0.0),
                airport_m,
                road_m,
                in_zone: decisions[hub_zone][i] == Eligibility::Eligible,
            };
            let sc = score(&f, &cfg.hubs);
            let why_not = exclusion(&f, &cfg.hubs);
            Some((f, sc, why_not))
        })
        .collect();
    tick("rules", &mut timings);

    // Zone strips for maps: one per distinct (selection, width), in parallel.
    let country = inp
        .country
        .as_deref()
        .map(crate::jobs::zone::read_area)
        .transpose()?;
    // One strip per distinct (selection, width); `scenario_strip[k]` is the
    // strip of scenario k.
    let mut strip_keys: Vec<(usize, u64)> = Vec::new();
    let scenario_strip: Vec<usize> = cfg
        .scenarios
        .iter()
        .zip(&scenario_sel)
        .map(|(sc, &sel)| {
            let key = (sel, sc.distance_km.to_bits());
            strip_keys
                .iter()
                .position(|x| *x == key)
                .unwrap_or_else(|| {
                    strip_keys.push(key);
                    strip_keys.len() - 1
                })
        })
        .collect();
    let strips: Vec<MultiPolygon<f64>> = match &country {
        Some(c) => {
            let bar = progress.bar(strip_keys.len() as u64, "zone strips");
            // Strips depend only on the border, the width and the country:
            // cached by content (see `zone::strip_cache`).
            let cache = StripCache::from_env();
            let v = strip_keys
                .par_iter()
                .map(|&(sel, bits)| {
                    let distance_m = f64::from_bits(bits) * 1000.0;
                    let key = StripCache::key(&selected[sel], distance_m, c);
                    let (s, source) =
                        cache.get_or_build(&key, || zone_strip(&selected[sel], distance_m, c));
                    tracing::info!("zone strip {key}: {source:?}");
                    bar.inc(1);
                    s
                })
                .collect();
            bar.finish_and_clear();
            v
        }
        None => Vec::new(),
    };
    tick("zone strips", &mut timings);

    // Write everything, all or nothing.
    let mut out = OutputSet::new();
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        settlements: places.len(),
        ..Default::default()
    };
    if let Some((aplaces, table, _)) = &access {
        table
            .access_table(aplaces)
            .write_csv(&mut out, &out_dir.join("access.csv"))?;
        let st = table.standards_table();
        st.write_csv(&mut out, &out_dir.join("standards.csv"))?;
        st.write_xlsx(&mut out, &out_dir.join("standards.xlsx"), "standards")?;
        if cfg.access.as_ref().is_some_and(|a| a.routes) {
            table.write_routes(&mut out, &out_dir.join("routes.geojson"), aplaces)?;
        }
    }
    write_settlements(
        &mut out,
        out_dir,
        cfg,
        &places,
        &decisions,
        &scenario_sel,
        &selections,
        &indexes,
        &hub_rows,
        access.as_ref(),
    )?;
    for (k, sc) in cfg.scenarios.iter().enumerate() {
        let (eligible, near) = write_lists(
            &mut out,
            out_dir,
            cfg,
            sc,
            &places,
            &decisions[k],
            scenario_sel[k],
            &indexes,
            &run_id,
        )?;
        summary.scenarios.push((sc.name.clone(), eligible, near));
        if let Some(strip) = strips.get(scenario_strip[k]) {
            let mut props = Map::new();
            props.insert("scenario".into(), Value::from(sc.name.as_str()));
            props.insert("distance_km".into(), Value::from(sc.distance_km));
            props.insert(
                "neighbours".into(),
                Value::from(crate::jobs::zone::selection_label(&sc.neighbours)),
            );
            props.insert("run_id".into(), Value::from(run_id.as_str()));
            write_polygon_layer(
                &mut out,
                &out_dir.join(format!("zone_{}.geojson", sc.name)),
                &format!("zone_{}", sc.name),
                &[(props, strip.clone())],
            )?;
        }
    }
    let tallies = tally(cfg, &places, &decisions, &scenario_sel, &indexes);
    summary_table(cfg, &tallies).write_csv(&mut out, &out_dir.join("summary.csv"))?;
    let hubs = write_hubs(&mut out, out_dir, &places, &hub_rows, cfg, &run_id)?;
    summary.hubs = hubs.rows.len();
    if !crossings.is_empty() {
        write_crossings(&mut out, out_dir, &crossings, &indexes[0])?;
    }
    let report = build_report(ReportInputs {
        cfg,
        run_id: &run_id,
        hashes: &hashes,
        places: &places,
        decisions: &decisions,
        tallies: &tallies,
        summary: &summary,
        hubs: &hubs,
        crossings: &crossings,
        country: country.as_ref(),
        strips: cfg
            .scenarios
            .iter()
            .zip(&scenario_strip)
            .filter_map(|(sc, &k)| strips.get(k).map(|s| (sc.name.clone(), s)))
            .collect(),
        files: out.pending_names(),
        access: access.as_ref(),
    });
    html::write_report(&mut out, &out_dir.join("report.html"), &report)?;
    tick("write outputs", &mut timings);

    let manifest = json!({
        "tool": "borderzone",
        "version": env!("CARGO_PKG_VERSION"),
        "run_id": run_id,
        "rule_version": cfg.rule_version,
        "config": cfg,
        "inputs": hashes.iter().map(|(k, p, h)| json!({"role": k, "path": p.display().to_string(), "sha256": h})).collect::<Vec<_>>(),
        "counts": {
            "settlements": places.len(),
            "border_parts": border.parts.len(),
            "scenarios": summary.scenarios.iter().map(|(n, e, near)| json!({"name": n, "eligible": e, "near_line": near})).collect::<Vec<_>>(),
            "hub_candidates": summary.hubs,
        },
        "access": access.as_ref().map(|(_, t, roads)| json!({"roads": roads, "notes": t.notes})),
        "timings_s": timings.iter().map(|(k, v)| json!({"step": k, "seconds": v})).collect::<Vec<_>>(),
        "threads": rayon::current_num_threads(),
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::config(e.to_string()))?;
    write_text(&mut out, &out_dir.join("manifest.json"), &text)?;
    summary.files = out.commit()?;
    summary.elapsed_s = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Main road lines as a segment index (LineStrings / MultiLineStrings).
fn read_road_lines(path: &Path) -> Result<SegmentIndex> {
    let mut lines: Vec<Vec<LonLat>> = Vec::new();
    for f in read_layer(path, &ReadOptions::default())? {
        let f = f?;
        match f.geometry {
            Geometry::LineString(l) => lines.push(l.0),
            Geometry::MultiLineString(ml) => lines.extend(ml.0.into_iter().map(|l| l.0)),
            _ => {
                return Err(Error::invalid(
                    Location::feature(path, f.index),
                    "a road must be a LineString",
                ))
            }
        }
    }
    Ok(SegmentIndex::build(lines.iter().map(Vec::as_slice)))
}

fn status_text(e: Eligibility) -> &'static str {
    match e {
        Eligibility::Eligible => "eligible",
        Eligibility::NearLine => "near_line",
        Eligibility::Outside => "outside",
    }
}

#[allow(clippy::too_many_arguments)]
fn write_settlements(
    out: &mut OutputSet,
    dir: &Path,
    cfg: &Config,
    places: &[Place],
    decisions: &[Vec<Eligibility>],
    scenario_sel: &[usize],
    selections: &[Vec<String>],
    indexes: &[BorderIndex],
    hubs: &[Option<(HubFactors, HubScore, Option<String>)>],
    access: Option<&AccessOutcome>,
) -> Result<()> {
    let mut extra: Vec<String> = vec![
        "oblast".into(),
        "district".into(),
        "kato".into(),
        "population".into(),
    ];
    for sel in selections.iter().skip(1) {
        let label = if sel.is_empty() {
            "all".to_string()
        } else {
            sel.join("_").to_ascii_lowercase()
        };
        extra.push(format!("border_distance_m_{label}"));
    }
    for sc in &cfg.scenarios {
        extra.push(format!("status_{}", sc.name));
    }
    extra.extend(["crossing_distance_m".into(), "hub_score".into()]);
    if let Some((_, table, _)) = access {
        extra.extend(table.settlement_field_names()?);
    }
    let mut w = SettlementWriter::create(
        out,
        dir,
        extra,
        SettlementLayout {
            share: cfg.zone.polygon_mode == PolygonMode::Share,
            ..Default::default()
        },
    )?;
    for (i, p) in places.iter().enumerate() {
        let m = &p.measures[scenario_sel[0]];
        let r = ZoneResult {
            measurement: Some(m.clone()),
            representative: m.representative,
            decided_by: DecidedBy::Exact,
            nearest_neighbour: indexes[scenario_sel[0]].neighbour_of(m.nearest.segment),
            in_zone: decisions[0][i] == Eligibility::Eligible,
            zone_share: None,
        };
        let mut vals: Vec<Value> = vec![
            Value::from(p.oblast.0.as_str()),
            Value::from(p.district.0.as_str()),
            Value::from(p.kato.as_str()),
            p.population.map_or(Value::Null, Value::from),
        ];
        for k in 1..selections.len() {
            vals.push(Value::from(round_mm(p.measures[k].distance_m)));
        }
        for d in decisions {
            vals.push(Value::from(status_text(d[i])));
        }
        match &hubs[i] {
            Some((f, s, _)) => {
                vals.push(Value::from(round_mm(f.crossing_m)));
                vals.push(Value::from((s.score * 1e6).round() / 1e6));
            }
            None => vals.extend([Value::Null, Value::Null]),
        }
        if let Some((aplaces, table, _)) = access {
            vals.extend(table.settlement_fields(i, &aplaces[i]));
        }
        w.write(&p.settlement, &r, &vals)?;
    }
    w.finish()
}

/// Eligibility list and near-the-line list of one scenario; returns their
/// lengths.
#[allow(clippy::too_many_arguments)]
fn write_lists(
    out: &mut OutputSet,
    dir: &Path,
    cfg: &Config,
    sc: &Scenario,
    places: &[Place],
    decisions: &[Eligibility],
    sel: usize,
    indexes: &[BorderIndex],
    run_id: &str,
) -> Result<(usize, usize)> {
    const HEADER: [&str; 16] = [
        "id",
        "kato",
        "name",
        "oblast",
        "district",
        "lon",
        "lat",
        "border_distance_m",
        "neighbour",
        "population",
        "scenario",
        "zone_km",
        "status",
        "reason_code",
        "rule_version",
        "run_id",
    ];
    let mut counts = (0, 0);
    for (wanted, file) in [
        (Eligibility::Eligible, "eligible"),
        (Eligibility::NearLine, "near_line"),
    ] {
        let mut chosen: Vec<usize> = (0..places.len())
            .filter(|&i| decisions[i] == wanted)
            .collect();
        chosen.sort_by(|&a, &b| {
            let (pa, pb) = (&places[a], &places[b]);
            (
                &pa.oblast.0,
                &pa.district.0,
                &pa.settlement.name,
                &pa.settlement.id,
            )
                .cmp(&(
                    &pb.oblast.0,
                    &pb.district.0,
                    &pb.settlement.name,
                    &pb.settlement.id,
                ))
        });
        let mut t = Table::new(&HEADER);
        for &i in &chosen {
            let p = &places[i];
            let m = &p.measures[sel];
            let rep = m.representative;
            let is_polygon = matches!(
                p.settlement.feature.geometry,
                Geometry::Polygon(_) | Geometry::MultiPolygon(_)
            );
            t.rows.push(vec![
                Cell::from(p.settlement.id.as_str()),
                Cell::from(p.kato.as_str()),
                Cell::from(p.settlement.name.as_str()),
                Cell::from(p.oblast.0.as_str()),
                Cell::from(p.district.0.as_str()),
                Cell::from(rep.x),
                Cell::from(rep.y),
                Cell::from(round_mm(m.distance_m)),
                Cell::from(indexes[sel].neighbour_of(m.nearest.segment)),
                Cell::from(p.population),
                Cell::from(sc.name.as_str()),
                Cell::from(sc.distance_km),
                Cell::from(status_text(wanted)),
                Cell::from(reason_code(wanted, is_polygon, cfg.zone.polygon_mode)),
                Cell::from(cfg.rule_version.as_str()),
                Cell::from(run_id),
            ]);
        }
        t.write_csv(out, &dir.join(format!("{file}_{}.csv", sc.name)))?;
        t.write_xlsx(
            out,
            &dir.join(format!("{file}_{}.xlsx", sc.name)),
            &format!("{file} {}", sc.name),
        )?;
        if wanted == Eligibility::Eligible {
            counts.0 = chosen.len();
        } else {
            counts.1 = chosen.len();
        }
    }
    Ok(counts)
}

/// (code, in zone, population in zone, near the line, total) of one unit.
type Tally = (String, usize, f64, usize, usize);

/// Per scenario: (group, unit) → tally, for groups 0 total, 1 nearest
/// neighbour, 2 oblast, 3 district.
type Tallies = Vec<BTreeMap<(u8, String), Tally>>;

const GROUPS: [&str; 4] = ["total", "nearest_neighbour", "oblast", "district"];

/// Counts and population in the zone per scenario, overall, by neighbour and
/// by admin unit.
fn tally(
    cfg: &Config,
    places: &[Place],
    decisions: &[Vec<Eligibility>],
    scenario_sel: &[usize],
    indexes: &[BorderIndex],
) -> Tallies {
    (0..cfg.scenarios.len())
        .map(|k| {
            let mut acc: BTreeMap<(u8, String), Tally> = BTreeMap::new();
            for (i, p) in places.iter().enumerate() {
                let m = &p.measures[scenario_sel[k]];
                let neighbour = indexes[scenario_sel[k]]
                    .neighbour_of(m.nearest.segment)
                    .to_string();
                let keys = [
                    (0u8, "all".to_string(), String::new()),
                    (1, neighbour, String::new()),
                    (2, p.oblast.0.clone(), p.oblast.1.clone()),
                    (3, p.district.0.clone(), p.district.1.clone()),
                ];
                for (g, unit, code) in keys {
                    if g >= 2 && unit.is_empty() {
                        continue;
                    }
                    let e = acc.entry((g, unit)).or_insert((code, 0, 0.0, 0, 0));
                    e.4 += 1;
                    match decisions[k][i] {
                        Eligibility::Eligible => {
                            e.1 += 1;
                            e.2 += p.population.unwrap_or(0.0);
                        }
                        Eligibility::NearLine => e.3 += 1,
                        Eligibility::Outside => {}
                    }
                }
            }
            // Neighbour rows only where settlements nearest to it are in the zone.
            acc.retain(|(g, _), t| *g != 1 || t.1 > 0);
            acc
        })
        .collect()
}

fn summary_table(cfg: &Config, tallies: &Tallies) -> Table {
    let mut t = Table::new(&[
        "scenario",
        "group",
        "unit",
        "code",
        "settlements_in_zone",
        "population_in_zone",
        "settlements_near_line",
        "settlements_total",
    ]);
    for (sc, acc) in cfg.scenarios.iter().zip(tallies) {
        for ((g, unit), (code, n, pop, near, total)) in acc {
            t.rows.push(vec![
                Cell::from(sc.name.as_str()),
                Cell::from(GROUPS[*g as usize]),
                Cell::from(unit.as_str()),
                Cell::from(code.as_str()),
                Cell::from(*n as f64),
                Cell::from(*pop),
                Cell::from(*near as f64),
                Cell::from(*total as f64),
            ]);
        }
    }
    t
}

fn write_hubs(
    out: &mut OutputSet,
    dir: &Path,
    places: &[Place],
    rows: &[Option<(HubFactors, HubScore, Option<String>)>],
    cfg: &Config,
    run_id: &str,
) -> Result<Table> {
    let mut cands: Vec<(usize, &HubFactors, &HubScore)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.as_ref()
                .and_then(|(f, s, why)| why.is_none().then_some((i, f, s)))
        })
        .collect();
    cands.sort_by(|a, b| {
        b.2.score
            .total_cmp(&a.2.score)
            .then_with(|| places[a.0].settlement.id.cmp(&places[b.0].settlement.id))
    });
    if cfg.hubs.top > 0 {
        cands.truncate(cfg.hubs.top);
    }
    const HEADER: [&str; 18] = [
        "rank",
        "id",
        "name",
        "oblast",
        "district",
        "lon",
        "lat",
        "score",
        "nearest_crossing",
        "crossing_distance_m",
        "crossing_basis",
        "population",
        "airport_distance_m",
        "main_road_distance_m",
        "in_zone",
        "crossing_factor",
        "population_factor",
        "airport_factor",
    ];
    let mut t = Table::new(&HEADER);
    let path = dir.join("hubs.geojson");
    let mut gj = FeatureCollectionWriter::new(out.create(&path)?, "hubs")
        .map_err(|e| Error::io(&path, "cannot write", e))?;
    for (rank, (i, f, s)) in cands.iter().enumerate() {
        let p = &places[*i];
        let rep = p.representative();
        let row = vec![
            Cell::from((rank + 1) as f64),
            Cell::from(p.settlement.id.as_str()),
            Cell::from(p.settlement.name.as_str()),
            Cell::from(p.oblast.0.as_str()),
            Cell::from(p.district.0.as_str()),
            Cell::from(rep.x),
            Cell::from(rep.y),
            Cell::from((s.score * 1e6).round() / 1e6),
            Cell::from(f.crossing.as_str()),
            Cell::from(round_mm(f.crossing_m)),
            Cell::from(f.crossing_basis),
            Cell::from(p.population),
            Cell::from(f.airport_m.is_finite().then(|| round_mm(f.airport_m))),
            Cell::from(f.road_m.map(round_mm)),
            Cell::from(f.in_zone),
            Cell::from((s.crossing * 1e6).round() / 1e6),
            Cell::from((s.population * 1e6).round() / 1e6),
            Cell::from((s.airport * 1e6).round() / 1e6),
        ];
        let mut props = Map::new();
        for (h, c) in HEADER.iter().zip(&row) {
            let v = match c {
                Cell::Text(s) => Value::from(s.as_str()),
                Cell::Number(n) => Value::from(*n),
                Cell::Bool(b) => Value::from(*b),
                Cell::Empty => Value::Null,
            };
            props.insert(h.to_string(), v);
        }
        props.insert("run_id".into(), Value::from(run_id));
        gj.write(&props, &Geometry::Point(geo::Point(rep)))
            .map_err(|e| Error::io(&path, "cannot write", e))?;
        t.rows.push(row);
    }
    let w = gj
        .finish()
        .map_err(|e| Error::io(&path, "cannot write", e))?;
    crate::io::atomic::finish(w, &path)?;
    t.write_csv(out, &dir.join("hubs.csv"))?;
    Ok(t)
}

fn write_crossings(
    out: &mut OutputSet,
    dir: &Path,
    crossings: &[(InputFeature, LonLat)],
    border: &BorderIndex,
) -> Result<()> {
    let path = dir.join("crossings.geojson");
    let mut gj = FeatureCollectionWriter::new(out.create(&path)?, "crossings")
        .map_err(|e| Error::io(&path, "cannot write", e))?;
    for (f, p) in crossings {
        let mut props = f.properties.clone();
        if let Some(n) = border.nearest(*p) {
            props.insert(
                "border_distance_m".into(),
                Value::from(round_mm(n.distance_m)),
            );
        }
        gj.write(&props, &f.geometry)
            .map_err(|e| Error::io(&path, "cannot write", e))?;
    }
    let w = gj
        .finish()
        .map_err(|e| Error::io(&path, "cannot write", e))?;
    crate::io::atomic::finish(w, &path)
}

/// Everything the HTML report shows.
struct ReportInputs<'a> {
    cfg: &'a Config,
    run_id: &'a str,
    hashes: &'a [(String, PathBuf, String)],
    places: &'a [Place],
    decisions: &'a [Vec<Eligibility>],
    tallies: &'a Tallies,
    summary: &'a RunSummary,
    hubs: &'a Table,
    crossings: &'a [(InputFeature, LonLat)],
    country: Option<&'a MultiPolygon<f64>>,
    strips: Vec<(String, &'a MultiPolygon<f64>)>,
    files: Vec<String>,
    access: Option<&'a AccessOutcome>,
}

fn build_report(r: ReportInputs) -> html::Report {
    let cfg = r.cfg;
    let counts = |acc: &BTreeMap<(u8, String), Tally>, group: u8| -> Vec<html::Count> {
        acc.iter()
            .filter(|((g, _), t)| *g == group && t.1 > 0)
            .map(|((_, unit), t)| html::Count {
                key: unit.clone(),
                settlements: t.1,
                population: Some(t.2.round() as u64),
            })
            .collect()
    };
    let scenarios = cfg
        .scenarios
        .iter()
        .zip(r.tallies)
        .zip(&r.summary.scenarios)
        .map(|((sc, acc), (_, eligible, near))| {
            let total = acc.get(&(0, "all".to_string()));
            let mut by_admin = counts(acc, 3);
            if by_admin.is_empty() {
                by_admin = counts(acc, 2);
            }
            html::ScenarioSummary {
                name: sc.name.clone(),
                distance_km: sc.distance_km,
                neighbours: sc.neighbours.clone(),
                settlements_total: r.places.len(),
                settlements_in_zone: *eligible,
                settlements_near_line: Some(*near),
                population_in_zone: total.map(|t| t.2.round() as u64),
                by_neighbour: counts(acc, 1),
                by_admin,
                files: ["eligible", "near_line"]
                    .iter()
                    .flat_map(|f| ["csv", "xlsx"].map(|ext| format!("{f}_{}.{ext}", sc.name)))
                    .map(|href| html::FileLink {
                        description: href.clone(),
                        href,
                    })
                    .collect(),
            }
        })
        .collect();
    let factor_cols = [
        "nearest_crossing",
        "crossing_distance_m",
        "population",
        "airport_distance_m",
        "main_road_distance_m",
        "in_zone",
    ];
    let col = |name: &str| r.hubs.header.iter().position(|h| h == name);
    let hubs = html::HubTable {
        factor_names: factor_cols.iter().map(|s| s.to_string()).collect(),
        rows: r
            .hubs
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| html::HubRow {
                rank: i as u32 + 1,
                name: col("name").map(|c| row[c].to_text()).unwrap_or_default(),
                score: col("score")
                    .and_then(|c| {
                        if let Cell::Number(v) = row[c] {
                            Some(v)
                        } else {
                            None
                        }
                    })
                    .unwrap_or(0.0),
                factors: factor_cols
                    .iter()
                    .map(|f| col(f).map(|c| row[c].clone()).unwrap_or(Cell::Empty))
                    .collect(),
            })
            .collect(),
    };
    let map_svg = r.country.map(|country| {
        let first = &r.decisions[0];
        let settlements = r
            .places
            .iter()
            .zip(first)
            .map(|(p, d)| {
                let rep = p.representative();
                let mut m = svg::MapPoint::new(rep.x, rep.y, p.settlement.name.clone());
                m.status = match d {
                    Eligibility::Eligible => svg::PointStatus::Eligible,
                    Eligibility::NearLine => svg::PointStatus::NearLine,
                    Eligibility::Outside => svg::PointStatus::Outside,
                };
                m.detail = format!(
                    "{:.3} km from the border",
                    p.measures[0].distance_m / 1000.0
                );
                m.radius_px = svg::MapPoint::radius_for_population(p.population.unwrap_or(0.0));
                m.id = p.settlement.id.clone();
                m
            })
            .collect();
        let crossings = r
            .crossings
            .iter()
            .map(|(f, c)| {
                svg::MapPoint::new(
                    c.x,
                    c.y,
                    f.properties
                        .get("name")
                        .map(property_text)
                        .unwrap_or_default(),
                )
            })
            .collect();
        let (lon, lat, name) = (col("lon"), col("lat"), col("name"));
        let hubs = r
            .hubs
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| {
                let num = |c: Option<usize>| {
                    c.and_then(|c| {
                        if let Cell::Number(v) = row[c] {
                            Some(v)
                        } else {
                            None
                        }
                    })
                };
                let mut m = svg::MapPoint::new(
                    num(lon)?,
                    num(lat)?,
                    name.map(|c| row[c].to_text()).unwrap_or_default(),
                );
                m.rank = Some(i as u32 + 1);
                Some(m)
            })
            .collect();
        let layers = svg::MapLayers {
            title: format!("Border zone — {}", cfg.scenarios[0].name),
            country: country.clone(),
            zones: r
                .strips
                .iter()
                .map(|(n, s)| svg::ZoneLayer {
                    scenario: n.clone(),
                    area: (*s).clone(),
                })
                .collect(),
            settlements,
            crossings,
            hubs,
        };
        svg::render_svg(&layers, &svg::MapOptions::default())
    });
    html::Report {
        title: "borderzone — border-zone analysis".into(),
        run_id: r.run_id.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        generated_at: format!(
            "run {} (content-derived id: same inputs and configuration give the same id)",
            r.run_id
        ),
        parameters: vec![
            ("rule_version".into(), cfg.rule_version.clone()),
            ("polygon_mode".into(), cfg.zone.polygon_mode.to_string()),
            (
                "near_line_margin_km".into(),
                cfg.zone.near_line_margin_km.to_string(),
            ),
            (
                "distances".into(),
                "exact WGS84 ellipsoidal geodesics (GeographicLib algorithms)".into(),
            ),
        ],
        inputs: r
            .hashes
            .iter()
            .map(|(k, p, h)| html::InputFile {
                path: format!("{k}: {}", p.display()),
                sha256: h.clone(),
                features: None,
            })
            .collect(),
        scenarios,
        hubs: Some(hubs),
        access: r.access.map(|(_, t, _)| {
            let st = t.standards_table();
            html::Table {
                id: "standards".into(),
                title: "Regional standards: share of settlements meeting them (road access)".into(),
                header: st.header,
                rows: st.rows,
            }
        }),
        files: r
            .files
            .iter()
            .map(|f| html::FileLink {
                href: f.clone(),
                description: f.clone(),
            })
            .collect(),
        map_svg,
        notes: {
            let mut n = vec![
                "Map colours follow the first scenario; zone strips of every scenario are drawn."
                    .to_string(),
                "Hub distances to crossings are by road where the road network reaches a crossing \
                 (column crossing_basis), geodesic otherwise."
                    .to_string(),
            ];
            if let Some((_, t, roads)) = r.access {
                n.push(format!("Roads: {roads}."));
                n.extend(t.notes.iter().cloned());
            }
            n
        },
    }
}

/// The places as the access engine sees them, its results, and a line
/// describing the road input.
type AccessOutcome = (Vec<AccessPlace>, AccessTable, String);

/// Road access of every place to every service category.
fn access_step(a: &AccessConfig, places: &[Place]) -> Result<AccessOutcome> {
    let roads = read_roads(&RoadInput {
        path: a.roads.clone(),
        geojson: GeoJsonRoadOptions {
            snap_tolerance_m: a.snap_tolerance_m,
            ..Default::default()
        },
        ..Default::default()
    })?;
    let (services, _) = read_services(&a.services, &[])?;
    let aplaces: Vec<AccessPlace> = places
        .iter()
        .map(|p| AccessPlace {
            id: p.settlement.id.clone(),
            name: p.settlement.name.clone(),
            position: p.representative(),
            class: a.urban.classify(&p.settlement.feature.properties),
        })
        .collect();
    let params = AccessParams {
        access: AccessOptions {
            metric: parse_metric(&a.metric)?,
            off_road_speed_kmh: a.off_road_kmh,
            max_snap_m: a.max_snap_km * 1000.0,
            with_routes: a.routes,
        },
        rules: a.standards.clone(),
        targets: a.targets.clone(),
        categories: Vec::new(),
    };
    let table = compute_access(&roads.graph, &aplaces, &services, &params)?;
    Ok((aplaces, table, roads.description))
}

/// Road distance (m) and facility name from place `i` to the nearest
/// service of `category`, when reached.
fn road_to(t: &AccessTable, i: usize, category: &str) -> Option<(f64, String)> {
    let k = t.categories.iter().position(|c| c.category == category)?;
    let cell = &t.cells[i][k];
    match &cell.access {
        Some(Access::Reached(n)) => Some((n.road_distance_m, cell.facility_name.clone())),
        _ => None,
    }
}
