//! `borderzone access`: road distance and travel time from every settlement
//! to the nearest service of each category, and the regional standards check
//! (see [`crate::rules::standards`]).
//!
//! The job is split so the batch run can reuse the parts:
//! - read: [`read_roads`], [`read_places`], [`read_services`];
//! - compute (pure, no files): [`compute_access`] → [`AccessTable`];
//! - write: [`AccessTable::access_table`], [`AccessTable::standards_table`],
//!   [`AccessTable::settlement_field_names`] / [`AccessTable::settlement_fields`]
//!   (extra columns for any settlements writer), [`AccessTable::write_routes`];
//! - [`run_access`] does all of it and writes, all or nothing, into the
//!   output folder:
//!   - `access.csv`: one row per settlement × category, never a missing row:
//!     the status is `reached` or the reason (no road within X km, no
//!     facility in the road component…);
//!   - `access_settlements.geojson` / `access_settlements.csv`: the
//!     settlements with per-category fields (`<category>_road_m`, `_time_s`,
//!     `_facility`, `_status`, `_ok`), `settlement_type`, `type_basis` and
//!     `standard_ok`. They are named apart from the zone job's
//!     `settlements.*` so both jobs can share an output folder;
//!   - `standards.csv`: category × settlement type: settlements, meeting,
//!     share, national target, gap;
//!   - `access_manifest.json`: inputs, parameters, counts and notes;
//!   - `routes.geojson` with [`AccessOptions::with_routes`].
//!
//! # Example: inside another job
//! ```no_run
//! use borderzone::jobs::access::*;
//! use borderzone::rules::standards::UrbanRule;
//! # fn main() -> borderzone::Result<()> {
//! let roads = read_roads(&RoadInput { path: "roads.osm.pbf".into(), ..Default::default() })?;
//! let urban = UrbanRule::default();
//! let read = read_places("settlements.geojson".as_ref(), &Default::default(), &Default::default(), &urban)?;
//! let places: Vec<AccessPlace> = read.iter().map(|(_, p)| p.clone()).collect();
//! let (services, _) = read_services(&[ServiceLayer::with_field("services.geojson", "amenity")], &[])?;
//! let params = AccessParams { rules: vec!["hospital=60min".parse()?], ..Default::default() };
//! let table = compute_access(&roads.graph, &places, &services, &params)?;
//! let rows = table.access_table(&places);            // access.csv
//! let extra = table.settlement_field_names()?;       // extra settlement columns…
//! let values = table.settlement_fields(0, &places[0]); // …and their values
//! # Ok(()) }
//! ```
//!
//! # Services
//! Several layers, each with a category attribute or a fixed category and an
//! optional `field = value` filter ([`ServiceLayer`]). A service whose
//! category attribute is missing or empty is an **error** naming the file,
//! feature and field: skipping it would quietly bias the shares.
//!
//! # Units
//! Metres, seconds; lon/lat WGS84 degrees. Output distances are rounded to
//! the millimetre and times to the millisecond; decisions use the unrounded
//! values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use geo::{Geometry, InteriorPoint};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::FieldEquals;
use crate::error::{Error, Location, Result};
use crate::geodesy::LonLat;
use crate::io::atomic::{finish, EarlySync, OutputSet};
use crate::io::geojson::{format_feature, FeatureCollectionWriter};
use crate::io::{property_text, read_layer, InputFeature, ReadOptions};
use crate::network::access::{nearest_services, Access, AccessOptions, Facility};
use crate::network::geojson_roads::{self, GeoJsonRoadOptions};
use crate::network::osm_pbf::{self, OsmRoadOptions};
use crate::network::{Metric, RoadClass, RoadGraph, SpeedTable};
use crate::report::layers::{round_mm, write_text};
use crate::report::table::{Cell, Table};
use crate::rules::standards::{
    shares, validate_rules, Classified, NationalTargets, SettlementType, ShareRow, StandardRule,
    UrbanRule, Verdict,
};
use crate::settlement::{DuplicateIds, IdentityFields, Settlement};

// ---------------------------------------------------------------------------
// Roads

/// The road layer and how to read it. The reader is chosen by extension:
/// `.pbf` (`.osm.pbf`) → OpenStreetMap, `.geojson` / `.json` → GeoJSON lines.
#[derive(Debug, Clone, Default)]
pub struct RoadInput {
    /// The file.
    pub path: PathBuf,
    /// GeoJSON: class / speed / one-way properties and end-snapping tolerance.
    pub geojson: GeoJsonRoadOptions,
    /// OSM: which ways.
    pub osm: OsmRoadOptions,
    /// Travel speed per road class.
    pub speeds: SpeedTable,
}

/// A frozen road graph and what was read.
#[derive(Debug)]
pub struct Roads {
    /// The graph.
    pub graph: RoadGraph,
    /// One line on the input, e.g. `OSM PBF: 2852 drivable ways`.
    pub description: String,
}

/// Read the road layer of `input`.
///
/// # Errors
/// An unknown extension ([`Error::Config`]) or any reader error.
pub fn read_roads(input: &RoadInput) -> Result<Roads> {
    let path = &input.path;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (graph, description) = match ext.as_str() {
        "pbf" => {
            let (g, s) = osm_pbf::read_roads(path, &input.osm, &input.speeds)?;
            let d = format!(
                "OSM PBF: {} drivable ways of {} highways ({} with nodes missing from the file)",
                s.drivable_ways, s.highway_ways, s.ways_with_missing_nodes
            );
            (g, d)
        }
        "geojson" | "json" => {
            let (g, s) = geojson_roads::read_roads(path, &input.geojson, &input.speeds)?;
            let d = format!(
                "GeoJSON: {} lines from {} features ({} without a road class)",
                s.lines, s.features, s.unknown_class
            );
            (g, d)
        }
        _ => {
            return Err(Error::config(format!(
                "{}: unknown road file type '.{ext}': expected .osm.pbf / .pbf or .geojson / .json",
                path.display()
            )))
        }
    };
    Ok(Roads { graph, description })
}

/// Parse a metric name: `time` or `distance`.
///
/// # Errors
/// [`Error::Config`] for anything else.
pub fn parse_metric(s: &str) -> Result<Metric> {
    match s.trim().to_ascii_lowercase().as_str() {
        "time" => Ok(Metric::Time),
        "distance" => Ok(Metric::Distance),
        other => Err(Error::config(format!(
            "unknown metric '{other}': expected time or distance"
        ))),
    }
}

/// Whether any road of the graph has a known class.
pub fn has_road_classes(graph: &RoadGraph) -> bool {
    graph
        .ways()
        .iter()
        .any(|w| w.road_class() != RoadClass::Unknown)
}

// ---------------------------------------------------------------------------
// Services

/// One services layer. Serde form (TOML):
///
/// ```toml
/// [[access.services]]
/// path = "airports.geojson"
/// category = "airport"                                  # fixed category, or
/// # category_field = "amenity"                          # (default "category")
/// filter = { field = "scheduled_service", equals = "yes" }
/// id_field = "ident"                                    # default: feature id, else FILE#INDEX
/// name_field = "name"                                   # default "name"
/// ```
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLayer {
    /// Points (polygons are placed at an interior point).
    pub path: PathBuf,
    /// Attribute holding the category (default `category` when no fixed
    /// category is given).
    pub category_field: Option<String>,
    /// One category for every feature of the layer.
    pub category: Option<String>,
    /// Keep only features whose attribute equals a value (as text).
    pub filter: Option<FieldEquals>,
    /// Attribute holding the facility id (default: the GeoJSON feature id,
    /// else `<file stem>#<index>`).
    pub id_field: Option<String>,
    /// Attribute holding the facility name (default `name`).
    pub name_field: Option<String>,
}

impl ServiceLayer {
    /// A layer whose category is in attribute `field`.
    pub fn with_field(path: impl Into<PathBuf>, field: &str) -> Self {
        ServiceLayer {
            path: path.into(),
            category_field: Some(field.to_string()),
            ..Default::default()
        }
    }

    /// A layer whose features are all of `category`.
    pub fn fixed(path: impl Into<PathBuf>, category: &str) -> Self {
        ServiceLayer {
            path: path.into(),
            category: Some(category.to_string()),
            ..Default::default()
        }
    }
}

/// Command-line form: `FILE[,category=CAT][,category_field=F][,where=FIELD=VALUE][,id_field=F][,name_field=F]`,
/// e.g. `airports.geojson,category=airport,where=scheduled_service=yes`.
impl FromStr for ServiceLayer {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.split(',');
        let path = parts.next().unwrap_or("").trim();
        if path.is_empty() {
            return Err(Error::config(format!("service layer '{s}': no file")));
        }
        let mut layer = ServiceLayer {
            path: PathBuf::from(path),
            ..Default::default()
        };
        for p in parts {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                Error::config(format!("service layer '{s}': '{p}' is not KEY=VALUE"))
            })?;
            let v = v.trim().to_string();
            match k.trim().replace('-', "_").as_str() {
                "category" => layer.category = Some(v),
                "category_field" => layer.category_field = Some(v),
                "id_field" => layer.id_field = Some(v),
                "name_field" => layer.name_field = Some(v),
                "where" => {
                    let (f, e) = v.split_once('=').ok_or_else(|| {
                        Error::config(format!("service layer '{s}': where needs FIELD=VALUE"))
                    })?;
                    layer.filter = Some(FieldEquals {
                        field: f.trim().to_string(),
                        equals: e.trim().to_string(),
                    });
                }
                other => {
                    return Err(Error::config(format!(
                        "service layer '{s}': unknown key '{other}' (category, category_field, where, id_field, name_field)"
                    )))
                }
            }
        }
        Ok(layer)
    }
}

/// A facility with its display name.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePoint {
    /// Id, category, position.
    pub facility: Facility,
    /// Name (may be empty).
    pub name: String,
}

/// What [`read_services`] read from one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLayerStats {
    /// The layer.
    pub path: PathBuf,
    /// Features read.
    pub features: usize,
    /// Left out by the layer's filter.
    pub filtered_out: usize,
    /// Left out because their category is not among the selected ones.
    pub other_category: usize,
    /// Kept.
    pub kept: usize,
}

/// A point for a place: the point itself, or an interior point of a polygon
/// or multipoint.
fn place_point(geometry: &Geometry<f64>, at: impl Fn() -> Location) -> Result<LonLat> {
    match geometry {
        Geometry::Point(p) => Ok(p.0),
        Geometry::MultiPoint(_) | Geometry::Polygon(_) | Geometry::MultiPolygon(_) => geometry
            .interior_point()
            .map(|p| p.0)
            .ok_or_else(|| Error::invalid(at(), "empty geometry")),
        other => Err(Error::invalid(
            at(),
            format!(
                "expected a Point, MultiPoint, Polygon or MultiPolygon, found {}",
                crate::zone::border::geometry_type(other)
            ),
        )),
    }
}

fn required_text(f: &InputFeature, path: &Path, field: &str, what: &str) -> Result<String> {
    let at = || Location::feature(path, f.index).with_field(field);
    match f.properties.get(field) {
        None => Err(Error::invalid(
            at(),
            format!("the {what} attribute is missing"),
        )),
        Some(v) => {
            let t = property_text(v).trim().to_string();
            if t.is_empty() {
                Err(Error::invalid(
                    at(),
                    format!("the {what} attribute is empty"),
                ))
            } else {
                Ok(t)
            }
        }
    }
}

/// Read the services of `layers`. With a non-empty `categories`, only
/// services of those categories are kept (the others are counted).
///
/// # Errors
/// A layer with both a fixed category and a category field; a feature with
/// a missing or empty category or id attribute (names file, feature and
/// field, and suggests the option to change); a line geometry; any reader
/// error.
pub fn read_services(
    layers: &[ServiceLayer],
    categories: &[String],
) -> Result<(Vec<ServicePoint>, Vec<ServiceLayerStats>)> {
    let keep: BTreeSet<&str> = categories
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut stats = Vec::new();
    for layer in layers {
        let path = &layer.path;
        if layer.category.is_some() && layer.category_field.is_some() {
            return Err(Error::config(format!(
                "services {}: give a fixed category or a category field, not both",
                path.display()
            )));
        }
        if let Some(c) = &layer.category {
            if c.trim().is_empty() {
                return Err(Error::config(format!(
                    "services {}: the fixed category is empty",
                    path.display()
                )));
            }
        }
        let field = layer.category_field.as_deref().unwrap_or("category");
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("services")
            .to_string();
        let mut st = ServiceLayerStats {
            path: path.clone(),
            features: 0,
            filtered_out: 0,
            other_category: 0,
            kept: 0,
        };
        for f in read_layer(path, &ReadOptions::default())? {
            let f = f?;
            st.features += 1;
            if let Some(flt) = &layer.filter {
                let v = f.properties.get(&flt.field).map(property_text);
                if v.as_deref().map(str::trim) != Some(flt.equals.trim()) {
                    st.filtered_out += 1;
                    continue;
                }
            }
            let category = match &layer.category {
                Some(c) => c.trim().to_string(),
                None => required_text(&f, path, field, "category").map_err(|e| match e {
                    Error::Invalid { at, message } => Error::invalid(
                        at,
                        format!(
                            "{message}: every service needs a category (set the category field, \
                             e.g. --category-field amenity, or give the layer a fixed category)"
                        ),
                    ),
                    other => other,
                })?,
            };
            if !keep.is_empty() && !keep.contains(category.as_str()) {
                st.other_category += 1;
                continue;
            }
            let id = match &layer.id_field {
                Some(idf) => required_text(&f, path, idf, "id")?,
                None => match &f.feature_id {
                    Some(Value::Null) | None => format!("{stem}#{}", f.index),
                    Some(v) => property_text(v),
                },
            };
            let name = f
                .properties
                .get(layer.name_field.as_deref().unwrap_or("name"))
                .map(property_text)
                .unwrap_or_default();
            let position = place_point(&f.geometry, || Location::feature(path, f.index))?;
            st.kept += 1;
            out.push(ServicePoint {
                facility: Facility {
                    id,
                    category,
                    position,
                },
                name,
            });
        }
        stats.push(st);
    }
    Ok((out, stats))
}

// ---------------------------------------------------------------------------
// Settlements

/// A settlement as the access computation needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPlace {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Where it joins the road network from: the point, or an interior point
    /// of a polygon (lon/lat).
    pub position: LonLat,
    /// City or rural, and why.
    pub class: Classified,
}

impl AccessPlace {
    /// From a settlement as read.
    ///
    /// # Errors
    /// A line geometry or an empty one (names the feature).
    pub fn from_settlement(s: &Settlement, urban: &UrbanRule, path: &Path) -> Result<Self> {
        Ok(AccessPlace {
            id: s.id.clone(),
            name: s.name.clone(),
            position: place_point(&s.feature.geometry, || {
                Location::feature(path, s.feature.index)
            })?,
            class: urban.classify(&s.feature.properties),
        })
    }
}

/// Read the settlements layer.
///
/// # Errors
/// Any reader error, a missing or duplicate id (when `identity.id_field` is
/// set), a line geometry, an empty layer.
pub fn read_places(
    path: &Path,
    read: &ReadOptions,
    identity: &IdentityFields,
    urban: &UrbanRule,
) -> Result<Vec<(Settlement, AccessPlace)>> {
    let mut dups = DuplicateIds::default();
    let mut out = Vec::new();
    for f in read_layer(path, read)? {
        let s = identity.identify(f?, path)?;
        if identity.id_field.is_some() {
            dups.check(&s);
        }
        let p = AccessPlace::from_settlement(&s, urban, path)?;
        out.push((s, p));
    }
    dups.finish(path, read, identity)?;
    if out.is_empty() {
        return Err(Error::invalid(
            Location::file(path),
            "the settlements layer is empty",
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Compute

/// Parameters of the access computation.
#[derive(Debug, Clone, Default)]
pub struct AccessParams {
    /// Metric, off-road speed, snap distance, routes.
    pub access: AccessOptions,
    /// Standards, at most one per category (none: no check).
    pub rules: Vec<StandardRule>,
    /// National targets for the shares.
    pub targets: NationalTargets,
    /// Categories that must appear in the results even without any service
    /// (e.g. the categories asked for), besides those of the services and
    /// of the rules.
    pub categories: Vec<String>,
}

/// Per-category counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryStats {
    /// The category.
    pub category: String,
    /// Its standard, if any.
    pub rule: Option<StandardRule>,
    /// Facilities of the category.
    pub facilities: usize,
    /// Of those, within the snap distance of a road.
    pub facilities_on_road: usize,
    /// Settlements that reached one.
    pub reached: usize,
    /// Settlements farther than the snap distance from every road.
    pub no_road: usize,
    /// Settlements on the network that reach none (other component, one-way,
    /// no facility on the roads, no facility at all).
    pub unreachable: usize,
    /// Settlements meeting the standard (with a rule).
    pub meeting: Option<usize>,
    /// Median road distance over the reached settlements (m).
    pub median_road_m: Option<f64>,
    /// Median travel time over the reached settlements (s).
    pub median_time_s: Option<f64>,
}

/// The result for one settlement and one category.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessCell {
    /// The engine's result; `None` when there is no facility of the
    /// category among the services at all.
    pub access: Option<Access>,
    /// Name of the nearest facility (when reached).
    pub facility_name: String,
    /// `reached` or the reason.
    pub status: String,
    /// Shortest road distance to any facility of the category (m), when
    /// known (always under the distance metric; under the time metric only
    /// for categories with a distance limit).
    pub shortest_road_m: Option<f64>,
    /// Shortest travel time to any facility of the category (s), likewise.
    pub fastest_time_s: Option<f64>,
    /// Whether the standard is met (`None`: no rule for the category).
    pub meets: Option<bool>,
    /// Why (the limits against the values, or the status).
    pub reason: String,
}

/// Everything [`compute_access`] computes, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessTable {
    /// The metric "nearest" minimised.
    pub metric: Metric,
    /// Categories, sorted.
    pub categories: Vec<CategoryStats>,
    /// `cells[settlement][category]`, settlements in input order.
    pub cells: Vec<Vec<AccessCell>>,
    /// Per settlement: type, per-category and overall verdicts.
    pub verdicts: Vec<Verdict>,
    /// Shares meeting the standards by settlement type.
    pub shares: Vec<ShareRow>,
    /// Notes on the inputs that affect the numbers (roads without classes,
    /// several road components, categories without services).
    pub notes: Vec<String>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The status of a result: the engine's text, with the snap distance of
/// "no road within X km" written in full when one decimal would hide it.
pub fn status_text(access: &Access, category: &str) -> String {
    match access {
        Access::NoRoadNearSettlement { max_snap_m } => {
            let km = max_snap_m / 1000.0;
            if (km * 10.0).fract() == 0.0 {
                format!("no road within {km:.1} km")
            } else {
                format!("no road within {km} km")
            }
        }
        other => other.status(category),
    }
}

/// Nearest services and the standards check for `places`.
///
/// The nearest facility of each category is found under
/// `params.access.metric`; a category whose rule also limits the other
/// measure gets a second search under that measure, so each limit is
/// checked against its own minimum (see [`crate::rules::standards`]).
///
/// # Errors
/// Invalid rules or targets, invalid options or positions (from
/// [`nearest_services`]).
pub fn compute_access(
    graph: &RoadGraph,
    places: &[AccessPlace],
    services: &[ServicePoint],
    params: &AccessParams,
) -> Result<AccessTable> {
    validate_rules(&params.rules)?;
    params.targets.validate()?;
    let metric = params.access.metric;
    let positions: Vec<LonLat> = places.iter().map(|p| p.position).collect();
    let facilities: Vec<Facility> = services.iter().map(|s| s.facility.clone()).collect();
    let rules: BTreeMap<&str, &StandardRule> = params
        .rules
        .iter()
        .map(|r| (r.category.as_str(), r))
        .collect();
    let mut names: BTreeSet<String> = facilities.iter().map(|f| f.category.clone()).collect();
    names.extend(params.rules.iter().map(|r| r.category.clone()));
    names.extend(
        params
            .categories
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
    );
    let names: Vec<String> = names.into_iter().collect();

    let report = nearest_services(graph, &positions, &facilities, &params.access)?;
    // Second search under the other measure, only where a rule needs it.
    let other_metric = match metric {
        Metric::Time => Metric::Distance,
        Metric::Distance => Metric::Time,
    };
    let needs_other = |r: &StandardRule| {
        let (dist, time) = r.needs();
        match metric {
            Metric::Time => dist,
            Metric::Distance => time,
        }
    };
    let other_cats: BTreeSet<&str> = params
        .rules
        .iter()
        .filter(|r| needs_other(r))
        .map(|r| r.category.as_str())
        .collect();
    let other_facilities: Vec<Facility> = facilities
        .iter()
        .filter(|f| other_cats.contains(f.category.as_str()))
        .cloned()
        .collect();
    let other_report = if other_facilities.is_empty() {
        None
    } else {
        let opts = AccessOptions {
            metric: other_metric,
            with_routes: false,
            ..params.access.clone()
        };
        Some(nearest_services(
            graph,
            &positions,
            &other_facilities,
            &opts,
        )?)
    };

    let mut cells: Vec<Vec<AccessCell>> = vec![Vec::with_capacity(names.len()); places.len()];
    let mut stats = Vec::with_capacity(names.len());
    for name in &names {
        let main = report.categories.iter().find(|c| &c.category == name);
        let other = other_report
            .as_ref()
            .and_then(|r| r.categories.iter().find(|c| &c.category == name));
        let rule = rules.get(name.as_str()).copied();
        let mut st = CategoryStats {
            category: name.clone(),
            rule: rule.cloned(),
            facilities: main.map_or(0, |c| c.facility_count),
            facilities_on_road: main.map_or(0, |c| c.facilities_on_road),
            reached: 0,
            no_road: 0,
            unreachable: 0,
            meeting: rule.map(|_| 0),
            median_road_m: None,
            median_time_s: None,
        };
        let (mut dists, mut times) = (Vec::new(), Vec::new());
        for (i, row) in cells.iter_mut().enumerate() {
            let access = main.map(|c| c.results[i].clone());
            let nearest = access.as_ref().and_then(Access::nearest);
            let other_nearest = other.and_then(|c| c.results[i].nearest());
            let (by_distance, by_time) = match metric {
                Metric::Distance => (nearest, other_nearest),
                Metric::Time => (other_nearest, nearest),
            };
            let shortest_road_m = by_distance.map(|n| n.road_distance_m);
            let fastest_time_s = by_time.map(|n| n.travel_time_s);
            let status = match &access {
                Some(a) => status_text(a, name),
                None => format!("no {name} among the services"),
            };
            match &access {
                Some(Access::Reached(n)) => {
                    st.reached += 1;
                    dists.push(n.road_distance_m);
                    times.push(n.travel_time_s);
                }
                Some(Access::NoRoadNearSettlement { .. }) => st.no_road += 1,
                _ => st.unreachable += 1,
            }
            let (meets, reason) = match rule {
                None => (None, String::new()),
                Some(_) if nearest.is_none() => (Some(false), status.clone()),
                Some(r) => {
                    let (ok, why) = r.check(shortest_road_m, fastest_time_s);
                    (Some(ok), why)
                }
            };
            if meets == Some(true) {
                st.meeting = st.meeting.map(|m| m + 1);
            }
            row.push(AccessCell {
                facility_name: nearest.map_or(String::new(), |n| services[n.facility].name.clone()),
                access,
                status,
                shortest_road_m,
                fastest_time_s,
                meets,
                reason,
            });
        }
        st.median_road_m = median(dists);
        st.median_time_s = median(times);
        stats.push(st);
    }
    let verdicts: Vec<Verdict> = places
        .iter()
        .zip(&cells)
        .map(|(p, row)| Verdict::new(p.class.kind, row.iter().map(|c| c.meets).collect()))
        .collect();
    let share_rows = shares(&names, &verdicts, &params.targets);

    let mut notes = Vec::new();
    if !has_road_classes(graph) {
        notes.push(format!(
            "the road layer has no road classes (e.g. the embedded trunk backbone): every road \
             travels at the unknown-class speed ({} km/h); where edges are straightened between \
             junctions (the backbone's are), road distances come out short",
            crate::report::table::format_number(SpeedTable::default().kmh(RoadClass::Unknown))
        ));
    }
    if graph.component_count() > 1 {
        notes.push(format!(
            "the road network has {} disconnected components: a settlement on a component \
             without a facility of a category is unreachable for it",
            graph.component_count()
        ));
    }
    for st in &stats {
        if st.facilities == 0 {
            notes.push(format!(
                "no service of category '{}' in the services: every settlement fails it",
                st.category
            ));
        } else if st.facilities_on_road < st.facilities {
            notes.push(format!(
                "{} of {} '{}' services lie farther than {} km from every road and are not used",
                st.facilities - st.facilities_on_road,
                st.facilities,
                st.category,
                params.access.max_snap_m / 1000.0
            ));
        }
    }
    Ok(AccessTable {
        metric,
        categories: stats,
        cells,
        verdicts,
        shares: share_rows,
        notes,
    })
}

// ---------------------------------------------------------------------------
// Write

/// The columns of `access.csv`.
pub const ACCESS_COLUMNS: [&str; 17] = [
    "id",
    "name",
    "category",
    "facility_id",
    "facility_name",
    "road_distance_m",
    "travel_time_s",
    "straight_m",
    "detour_ratio",
    "settlement_leg_m",
    "facility_leg_m",
    "status",
    "meets_standard",
    "standard",
    "standard_reason",
    "shortest_road_m",
    "fastest_time_s",
];

/// The columns of `standards.csv`.
pub const STANDARDS_COLUMNS: [&str; 9] = [
    "category",
    "standard",
    "settlement_type",
    "settlements",
    "meeting",
    "share",
    "national_target",
    "gap",
    "note",
];

fn round_ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A category as a field-name prefix: ASCII letters, digits and `_`.
pub fn field_prefix(category: &str) -> String {
    category
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl AccessTable {
    /// `access.csv`: one row per settlement × category, settlements in
    /// input order, categories sorted. `places` must be those given to
    /// [`compute_access`].
    pub fn access_table(&self, places: &[AccessPlace]) -> Table {
        let mut t = Table::new(&ACCESS_COLUMNS);
        for (p, row) in places.iter().zip(&self.cells) {
            for (st, c) in self.categories.iter().zip(row) {
                let n = c.access.as_ref().and_then(Access::nearest);
                t.rows.push(vec![
                    p.id.as_str().into(),
                    p.name.as_str().into(),
                    st.category.as_str().into(),
                    n.map_or(Cell::Empty, |n| n.facility_id.as_str().into()),
                    n.map_or(Cell::Empty, |_| c.facility_name.as_str().into()),
                    n.map(|n| round_mm(n.road_distance_m)).into(),
                    n.map(|n| round_ms(n.travel_time_s)).into(),
                    n.map(|n| round_mm(n.straight_m)).into(),
                    n.and_then(|n| n.detour_ratio).map(round6).into(),
                    n.map(|n| round_mm(n.settlement_leg_m)).into(),
                    n.map(|n| round_mm(n.facility_leg_m)).into(),
                    c.status.as_str().into(),
                    c.meets.map_or(Cell::Empty, Cell::Bool),
                    st.rule
                        .as_ref()
                        .map_or(Cell::Empty, |r| r.limits_text().into()),
                    c.reason.as_str().into(),
                    c.shortest_road_m.map(round_mm).into(),
                    c.fastest_time_s.map(round_ms).into(),
                ]);
            }
        }
        t
    }

    /// `standards.csv`: per category with a rule and `all`, per settlement
    /// type: settlements, meeting, share, national target, gap (share −
    /// target), and the notes on the first row.
    pub fn standards_table(&self) -> Table {
        let mut t = Table::new(&STANDARDS_COLUMNS);
        let notes = self.notes.join("; ");
        for (k, r) in self.shares.iter().enumerate() {
            let standard = if r.category == "all" {
                "all categories with a standard".to_string()
            } else {
                self.categories
                    .iter()
                    .find(|c| c.category == r.category)
                    .and_then(|c| c.rule.as_ref())
                    .map(|r| r.limits_text())
                    .unwrap_or_default()
            };
            t.rows.push(vec![
                r.category.as_str().into(),
                standard.into(),
                r.settlement_type.as_str().into(),
                (r.settlements as f64).into(),
                (r.meeting as f64).into(),
                r.share.map(round6).into(),
                r.target.into(),
                r.share.zip(r.target).map(|(s, t)| round6(s - t)).into(),
                if k == 0 {
                    notes.as_str().into()
                } else {
                    Cell::Empty
                },
            ]);
        }
        t
    }

    /// Names of the per-settlement fields: per category `<c>_facility`,
    /// `<c>_road_m`, `<c>_time_s`, `<c>_status`, `<c>_ok`; then
    /// `settlement_type`, `type_basis`, `standard_ok`.
    ///
    /// # Errors
    /// Two categories that give the same field prefix.
    pub fn settlement_field_names(&self) -> Result<Vec<String>> {
        let mut seen = BTreeMap::new();
        let mut v = Vec::new();
        for st in &self.categories {
            let p = field_prefix(&st.category);
            if let Some(prev) = seen.insert(p.clone(), st.category.clone()) {
                return Err(Error::config(format!(
                    "categories '{prev}' and '{}' give the same field names ({p}_…)",
                    st.category
                )));
            }
            for s in ["facility", "road_m", "time_s", "status", "ok"] {
                v.push(format!("{p}_{s}"));
            }
        }
        v.extend(["settlement_type", "type_basis", "standard_ok"].map(String::from));
        Ok(v)
    }

    /// Values of [`AccessTable::settlement_field_names`] for settlement `i`.
    pub fn settlement_fields(&self, i: usize, place: &AccessPlace) -> Vec<Value> {
        let num = |v: Option<f64>| v.map_or(Value::Null, Value::from);
        let mut v = Vec::new();
        for c in &self.cells[i] {
            let n = c.access.as_ref().and_then(Access::nearest);
            v.push(n.map_or(Value::Null, |n| Value::from(n.facility_id.as_str())));
            v.push(num(n.map(|n| round_mm(n.road_distance_m))));
            v.push(num(n.map(|n| round_ms(n.travel_time_s))));
            v.push(Value::from(c.status.as_str()));
            v.push(c.meets.map_or(Value::Null, Value::from));
        }
        v.push(Value::from(place.class.kind.as_str()));
        v.push(Value::from(place.class.basis.as_str()));
        v.push(self.verdicts[i].overall.map_or(Value::Null, Value::from));
        v
    }

    /// Write `routes.geojson` (a collection named `routes`): the route
    /// (LineString) of every reached settlement × category, when computed
    /// with routes; properties `id`, `name`, `category`, `facility_id`,
    /// `facility_name`, `road_distance_m`, `travel_time_s`. Features are
    /// formatted in parallel runs of settlements and written in order.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_routes(
        &self,
        out: &mut OutputSet,
        path: &Path,
        places: &[AccessPlace],
    ) -> Result<()> {
        let werr = |e: std::io::Error| Error::io(path, "cannot write", e);
        let w = out.create(path)?;
        // Tens of MB for a city: synced while written.
        let mut sync = EarlySync::new(&w).map_err(werr)?;
        let mut g = FeatureCollectionWriter::new(w, "routes").map_err(werr)?;
        let chunks: Vec<std::io::Result<Vec<u8>>> = places
            .par_chunks(SETTLEMENTS_PER_TASK)
            .zip(self.cells.par_chunks(SETTLEMENTS_PER_TASK))
            .map(|(places, cells)| {
                let mut buf = Vec::new();
                for (p, row) in places.iter().zip(cells) {
                    for (st, c) in self.categories.iter().zip(row) {
                        let Some(n) = c.access.as_ref().and_then(Access::nearest) else {
                            continue;
                        };
                        let Some(route) = &n.route else { continue };
                        let mut props = Map::new();
                        props.insert("id".into(), p.id.as_str().into());
                        props.insert("name".into(), p.name.as_str().into());
                        props.insert("category".into(), st.category.as_str().into());
                        props.insert("facility_id".into(), n.facility_id.as_str().into());
                        props.insert("facility_name".into(), c.facility_name.as_str().into());
                        props.insert("road_distance_m".into(), round_mm(n.road_distance_m).into());
                        props.insert("travel_time_s".into(), round_ms(n.travel_time_s).into());
                        let line = Geometry::LineString(route.clone());
                        format_feature(&mut buf, &props, &[], &line)?;
                    }
                }
                Ok(buf)
            })
            .collect();
        for chunk in chunks {
            let chunk = chunk.map_err(werr)?;
            g.write_formatted(&chunk).map_err(werr)?;
            sync.wrote(chunk.len()).map_err(werr)?;
        }
        let w = g.finish().map_err(werr)?;
        sync.wait().map_err(werr)?;
        finish(w, path)
    }
}

// ---------------------------------------------------------------------------
// The job

/// Inputs and parameters of an access run.
#[derive(Debug, Clone, Default)]
pub struct AccessJobOptions {
    /// Road layer.
    pub roads: RoadInput,
    /// Settlements layer.
    pub settlements: PathBuf,
    /// CSV column names.
    pub read: ReadOptions,
    /// Settlement id and name attributes.
    pub identity: IdentityFields,
    /// City / rural rule.
    pub urban: UrbanRule,
    /// Services layers.
    pub services: Vec<ServiceLayer>,
    /// Keep only these categories (empty: all).
    pub categories: Vec<String>,
    /// Access options, standards and targets. `params.categories` is
    /// extended with `categories`.
    pub params: AccessParams,
    /// Output folder.
    pub out_dir: PathBuf,
}

/// What an access run did.
#[derive(Debug, Clone, Default)]
pub struct AccessSummary {
    /// Settlements read.
    pub settlements: usize,
    /// Settlements by type (city, rural, unknown).
    pub by_type: BTreeMap<SettlementType, usize>,
    /// Services kept.
    pub services: usize,
    /// Per services layer.
    pub service_layers: Vec<ServiceLayerStats>,
    /// The road input.
    pub roads: String,
    /// Graph nodes, edges, components.
    pub graph: (usize, usize, usize),
    /// The metric.
    pub metric: Option<Metric>,
    /// Snap distance (m).
    pub max_snap_m: f64,
    /// Per category.
    pub categories: Vec<CategoryStats>,
    /// Shares vs targets.
    pub shares: Vec<ShareRow>,
    /// National targets used.
    pub targets: NationalTargets,
    /// Notes.
    pub notes: Vec<String>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Wall time (s): reading roads, the rest, total.
    pub timings_s: Vec<(String, f64)>,
    /// Wall time (s).
    pub elapsed_s: f64,
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.1} %", v * 100.0))
}

impl fmt::Display for AccessSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric = match self.metric {
            Some(Metric::Distance) => "road distance",
            _ => "travel time",
        };
        let types: Vec<String> = self
            .by_type
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        writeln!(
            f,
            "{} settlements ({}), {} services; nearest by {metric}; snap within {} km; {:.2} s",
            self.settlements,
            types.join(", "),
            self.services,
            self.max_snap_m / 1000.0,
            self.elapsed_s
        )?;
        writeln!(
            f,
            "roads: {} — {} nodes, {} edges, {} components",
            self.roads, self.graph.0, self.graph.1, self.graph.2
        )?;
        let times: Vec<String> = self
            .timings_s
            .iter()
            .map(|(k, v)| format!("{k} {v:.2} s"))
            .collect();
        writeln!(f, "time: {}", times.join(", "))?;
        writeln!(
            f,
            "  {:<18} {:>10} {:>8} {:>8} {:>8} {:>11} {:>9} {:>9}  standard",
            "category",
            "facilities",
            "on road",
            "reached",
            "no road",
            "unreachable",
            "median km",
            "med. min"
        )?;
        for c in &self.categories {
            let std = match (&c.rule, c.meeting) {
                (Some(r), Some(m)) => format!("{}: {m} meet", r.limits_text()),
                _ => "-".into(),
            };
            writeln!(
                f,
                "  {:<18} {:>10} {:>8} {:>8} {:>8} {:>11} {:>9} {:>9}  {std}",
                c.category,
                c.facilities,
                c.facilities_on_road,
                c.reached,
                c.no_road,
                c.unreachable,
                c.median_road_m
                    .map_or("-".into(), |m| format!("{:.1}", m / 1000.0)),
                c.median_time_s
                    .map_or("-".into(), |s| format!("{:.1}", s / 60.0)),
            )?;
        }
        if !self.shares.is_empty() {
            writeln!(
                f,
                "meeting the standards (national targets for {}: {:.0} % of cities, {:.0} % of rural settlements):",
                self.targets.year,
                self.targets.city_share * 100.0,
                self.targets.rural_share * 100.0
            )?;
            for r in &self.shares {
                writeln!(
                    f,
                    "  {:<18} {:<8} {:>6} of {:>6}  {:>8}   target {}",
                    r.category,
                    r.settlement_type.as_str(),
                    r.meeting,
                    r.settlements,
                    pct(r.share),
                    pct(r.target)
                )?;
            }
        } else {
            writeln!(
                f,
                "no standards given: no check (add --standard CATEGORY=LIMIT)"
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        for p in &self.files {
            writeln!(f, "  wrote {}", p.display())?;
        }
        Ok(())
    }
}

/// Read, compute and write an access run (see the module docs) — all or
/// nothing.
///
/// # Errors
/// Any input, option or write error; nothing is written then.
pub fn run_access(opts: &AccessJobOptions) -> Result<AccessSummary> {
    let start = Instant::now();
    let mut params = opts.params.clone();
    params.categories.extend(opts.categories.iter().cloned());
    validate_rules(&params.rules)?;
    params.targets.validate()?;
    opts.urban.validate()?;
    if opts.services.is_empty() {
        return Err(Error::config("no services layer given"));
    }
    // The settlements and services are read side by side with the roads
    // (an error in them is still reported first).
    let ((inputs, inputs_s), (roads, roads_s)) = rayon::join(
        || {
            let t = Instant::now();
            let read = read_places(&opts.settlements, &opts.read, &opts.identity, &opts.urban)
                .and_then(|p| Ok((p, read_services(&opts.services, &opts.categories)?)));
            (read, t.elapsed().as_secs_f64())
        },
        || {
            let t = Instant::now();
            (read_roads(&opts.roads), t.elapsed().as_secs_f64())
        },
    );
    let (places_read, (services, service_layers)) = inputs?;
    let roads = roads?;
    tracing::info!(
        settlements = places_read.len(),
        services = services.len(),
        "inputs read"
    );
    tracing::info!(
        nodes = roads.graph.node_count(),
        edges = roads.graph.edge_count(),
        "roads read"
    );
    let places: Vec<AccessPlace> = places_read.iter().map(|(_, p)| p.clone()).collect();
    let t_compute = Instant::now();
    let table = compute_access(&roads.graph, &places, &services, &params)?;
    let compute_s = t_compute.elapsed().as_secs_f64();

    let t_write = Instant::now();
    let dir = &opts.out_dir;
    let mut out = OutputSet::new();
    table
        .access_table(&places)
        .write_csv(&mut out, &dir.join("access.csv"))?;
    table
        .standards_table()
        .write_csv(&mut out, &dir.join("standards.csv"))?;
    write_settlements(&mut out, dir, &table, &places_read)?;
    if params.access.with_routes {
        table.write_routes(&mut out, &dir.join("routes.geojson"), &places)?;
    }
    let manifest = json!({
        "job": "access",
        "inputs": {
            "roads": opts.roads.path,
            "roads_read": roads.description,
            "graph": {
                "nodes": roads.graph.node_count(),
                "edges": roads.graph.edge_count(),
                "components": roads.graph.component_count(),
                "road_classes": has_road_classes(&roads.graph),
            },
            "settlements": opts.settlements,
            "services": service_layers.iter().map(|s| json!({
                "path": s.path, "features": s.features, "filtered_out": s.filtered_out,
                "other_category": s.other_category, "kept": s.kept,
            })).collect::<Vec<_>>(),
        },
        "parameters": {
            "metric": match params.access.metric { Metric::Time => "time", Metric::Distance => "distance" },
            "off_road_speed_kmh": params.access.off_road_speed_kmh,
            "max_snap_m": params.access.max_snap_m,
            "standards": params.rules,
            "urban_rule": opts.urban,
            "national_targets": params.targets,
        },
        "notes": table.notes,
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::config(e.to_string()))?;
    write_text(&mut out, &dir.join("access_manifest.json"), &text)?;
    let files = out.commit()?;
    let write_s = t_write.elapsed().as_secs_f64();

    let mut by_type = BTreeMap::new();
    for p in &places {
        *by_type.entry(p.class.kind).or_insert(0) += 1;
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    Ok(AccessSummary {
        settlements: places.len(),
        by_type,
        services: services.len(),
        service_layers,
        roads: roads.description,
        graph: (
            roads.graph.node_count(),
            roads.graph.edge_count(),
            roads.graph.component_count(),
        ),
        metric: Some(params.access.metric),
        max_snap_m: params.access.max_snap_m,
        categories: table.categories,
        shares: table.shares,
        targets: params.targets,
        notes: table.notes,
        files,
        timings_s: vec![
            ("settlements and services".into(), inputs_s),
            ("roads".into(), roads_s),
            ("access".into(), compute_s),
            ("write".into(), write_s),
            ("total".into(), elapsed_s),
        ],
        elapsed_s,
    })
}

/// Settlements formatted per parallel task in `access_settlements.*`.
const SETTLEMENTS_PER_TASK: usize = 1024;

/// A run of settlements formatted: GeoJSON features and CSV rows.
type FormattedSettlements = (Vec<u8>, Vec<Vec<Cell>>);

/// `access_settlements.geojson` (input attributes + access fields, input
/// geometry) and `access_settlements.csv` (`id`, `name`, `lon`, `lat` of
/// the joining point, then the access fields).
fn write_settlements(
    out: &mut OutputSet,
    dir: &Path,
    table: &AccessTable,
    places: &[(Settlement, AccessPlace)],
) -> Result<()> {
    let names = table.settlement_field_names()?;
    let gpath = dir.join("access_settlements.geojson");
    let werr = |p: &Path, e: std::io::Error| Error::io(p, "cannot write", e);
    let mut g = FeatureCollectionWriter::new(out.create(&gpath)?, "access_settlements")
        .map_err(|e| werr(&gpath, e))?;
    let mut t = Table::new(&["id", "name", "lon", "lat"]);
    t.header.extend(names.iter().cloned());
    // Formatted in parallel chunks (the GeoJSON features, with the computed
    // fields merged into the input's properties without a copy), written in
    // order.
    let chunks: Vec<std::io::Result<FormattedSettlements>> = places
        .par_chunks(SETTLEMENTS_PER_TASK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut features = Vec::new();
            let mut rows = Vec::with_capacity(chunk.len());
            for (j, (s, p)) in chunk.iter().enumerate() {
                let values = table.settlement_fields(c * SETTLEMENTS_PER_TASK + j, p);
                let mut row: Vec<Cell> = vec![
                    p.id.as_str().into(),
                    p.name.as_str().into(),
                    p.position.x.into(),
                    p.position.y.into(),
                ];
                row.extend(values.iter().map(|v| match v {
                    Value::Null => Cell::Empty,
                    Value::Bool(b) => Cell::Bool(*b),
                    Value::Number(n) => n.as_f64().into(),
                    other => property_text(other).into(),
                }));
                rows.push(row);
                let computed: Vec<(&str, Value)> =
                    names.iter().map(String::as_str).zip(values).collect();
                format_feature(
                    &mut features,
                    &s.feature.properties,
                    &computed,
                    &s.feature.geometry,
                )?;
            }
            Ok((features, rows))
        })
        .collect();
    for chunk in chunks {
        let (features, rows) = chunk.map_err(|e| werr(&gpath, e))?;
        g.write_formatted(&features).map_err(|e| werr(&gpath, e))?;
        t.rows.extend(rows);
    }
    let w = g.finish().map_err(|e| werr(&gpath, e))?;
    finish(w, &gpath)?;
    t.write_csv(out, &dir.join("access_settlements.csv"))
}
