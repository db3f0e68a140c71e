//! Nearest service per category: road distance and travel time from every
//! settlement to its nearest facility of each category.
//!
//! One multi-source Dijkstra per category runs on the *reversed* graph with
//! every facility of the category as a seed (its access leg and the partial
//! edge to its joining point as the initial cost), so the cost it leaves at a
//! node is the cost of driving *from* that node *to* the nearest facility,
//! one-way rules respected. Each settlement then adds its own leg and the
//! partial edge from its joining point to either end of its edge (only the
//! ends its edge can be driven towards), or reaches a facility on the same
//! edge directly. Categories run in parallel, each with its own scratch.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use geo::LineString;
use rayon::prelude::*;

use super::dijkstra::{DijkstraScratch, Metric, Seed};
use super::graph::{Edge, RoadGraph};
use super::snap::{snap_points, Snap, SnapStatus};
use crate::error::Location;
use crate::geodesy::{self, LonLat};
use crate::{Error, Result};

/// A service point (hospital, school…) of one category.
#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    /// Identifier reported back (e.g. the OSM id or a name).
    pub id: String,
    /// Category; one search runs per distinct category.
    pub category: String,
    /// Position (lon/lat degrees).
    pub position: LonLat,
}

/// How access is measured.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessOptions {
    /// What "nearest" minimises (default: travel time).
    pub metric: Metric,
    /// Speed on the access legs between a place and its road (km/h). Default
    /// 15 km/h: between walking (5) and a slow car on a dirt track (30);
    /// legs are short, and the speed mostly stops a far-off-road facility
    /// from looking near.
    pub off_road_speed_kmh: f64,
    /// Places farther than this from every road get
    /// [`SnapStatus::NoRoadWithin`] (m). Default 5,000 m.
    pub max_snap_m: f64,
    /// Build the route geometry of every reached nearest facility.
    pub with_routes: bool,
}

impl Default for AccessOptions {
    fn default() -> Self {
        AccessOptions {
            metric: Metric::Time,
            off_road_speed_kmh: 15.0,
            max_snap_m: 5_000.0,
            with_routes: false,
        }
    }
}

/// Why a settlement on the road network reaches no facility of a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No facility of the category is within the snap distance of a road.
    NoFacilityOnRoads,
    /// The settlement's road component (ignoring one-way rules) holds no
    /// facility of the category.
    NoFacilityInComponent,
    /// Facilities share the component but one-way rules forbid every path.
    OnewayRestrictions,
}

/// The nearest facility of a category from one settlement.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearest {
    /// Index of the facility in the input slice.
    pub facility: usize,
    /// Its id.
    pub facility_id: String,
    /// Road distance including both access legs (m).
    pub road_distance_m: f64,
    /// Travel time including both access legs at the off-road speed (s).
    pub travel_time_s: f64,
    /// Straight-line geodesic distance settlement–facility (m).
    pub straight_m: f64,
    /// `road_distance_m / straight_m`; `None` when the two coincide.
    pub detour_ratio: Option<f64>,
    /// The settlement's access leg (m).
    pub settlement_leg_m: f64,
    /// The facility's access leg (m).
    pub facility_leg_m: f64,
    /// Route from the settlement to the facility (lon/lat), when asked for.
    pub route: Option<LineString<f64>>,
}

/// The result for one settlement and one category.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// A facility was reached.
    Reached(Nearest),
    /// The settlement is farther than the snap distance from every road.
    NoRoadNearSettlement {
        /// The maximum snap distance used (m).
        max_snap_m: f64,
    },
    /// On the network, but no facility of the category can be reached.
    Unreachable(Unreachable),
}

impl Access {
    /// The nearest facility, when reached.
    pub fn nearest(&self) -> Option<&Nearest> {
        match self {
            Access::Reached(n) => Some(n),
            _ => None,
        }
    }

    /// A status text for reports, e.g. `"reached"`, `"no road within 5.0 km"`,
    /// `"unreachable: no hospital in the same road component"`.
    pub fn status(&self, category: &str) -> String {
        match self {
            Access::Reached(_) => "reached".to_string(),
            Access::NoRoadNearSettlement { max_snap_m } => {
                format!("no road within {:.1} km", max_snap_m / 1000.0)
            }
            Access::Unreachable(Unreachable::NoFacilityOnRoads) => {
                format!("unreachable: no {category} lies on the road network")
            }
            Access::Unreachable(Unreachable::NoFacilityInComponent) => {
                format!("unreachable: no {category} in the same road component")
            }
            Access::Unreachable(Unreachable::OnewayRestrictions) => {
                format!("unreachable: one-way roads allow no path to a {category}")
            }
        }
    }
}

/// Results of one category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryAccess {
    /// The category.
    pub category: String,
    /// Facilities of the category in the input.
    pub facility_count: usize,
    /// Of those, how many joined the road network.
    pub facilities_on_road: usize,
    /// One result per settlement, in input order.
    pub results: Vec<Access>,
    /// Wall time of the category's search and evaluation.
    pub elapsed: Duration,
}

/// Everything [`nearest_services`] computes.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessReport {
    /// How each settlement joined the network, in input order.
    pub settlement_snaps: Vec<SnapStatus>,
    /// How each facility joined the network, in input order.
    pub facility_snaps: Vec<SnapStatus>,
    /// One entry per category, sorted by category name.
    pub categories: Vec<CategoryAccess>,
}

/// (distance m, time s) of a stretch `part_m` of edge `e`.
fn part(e: &Edge, part_m: f64) -> (f64, f64) {
    let t = if e.length_m > 0.0 {
        e.time_s * (part_m / e.length_m)
    } else {
        0.0
    };
    (part_m, t)
}

/// Split (distance, time) into (minimised, carried) by metric.
fn by_metric(metric: Metric, (d, t): (f64, f64)) -> (f64, f64) {
    match metric {
        Metric::Time => (t, d),
        Metric::Distance => (d, t),
    }
}

fn leg(opts: &AccessOptions, leg_m: f64) -> (f64, f64) {
    (leg_m, leg_m / (opts.off_road_speed_kmh / 3.6))
}

/// For every settlement and every facility category, the nearest facility by
/// road (see the module docs).
///
/// # Units
/// Metres and seconds; lon/lat WGS84 degrees in.
///
/// # Errors
/// [`Error::Config`] for a non-positive off-road speed or a negative or NaN
/// snap distance; [`Error::Invalid`] for a settlement or facility whose
/// position is not a valid lon/lat (location `<settlements>` or
/// `<facilities>`, with its index).
pub fn nearest_services(
    graph: &RoadGraph,
    settlements: &[LonLat],
    facilities: &[Facility],
    opts: &AccessOptions,
) -> Result<AccessReport> {
    if !(opts.off_road_speed_kmh.is_finite() && opts.off_road_speed_kmh > 0.0) {
        return Err(Error::config(format!(
            "off-road speed must be positive km/h, got {}",
            opts.off_road_speed_kmh
        )));
    }
    if opts.max_snap_m.is_nan() || opts.max_snap_m < 0.0 {
        return Err(Error::config(format!(
            "maximum snap distance must be >= 0 m, got {}",
            opts.max_snap_m
        )));
    }
    for (i, p) in settlements.iter().enumerate() {
        if !geodesy::is_valid_lonlat(*p) {
            return Err(Error::invalid(
                Location::feature("<settlements>", i),
                format!("invalid lon/lat {p:?}"),
            ));
        }
    }
    for (i, f) in facilities.iter().enumerate() {
        if !geodesy::is_valid_lonlat(f.position) {
            let at = Location::feature("<facilities>", i).with_field("position");
            return Err(Error::invalid(
                at,
                format!("facility '{}': invalid lon/lat {:?}", f.id, f.position),
            ));
        }
    }
    let settlement_snaps = snap_points(graph, settlements, opts.max_snap_m);
    let facility_positions: Vec<LonLat> = facilities.iter().map(|f| f.position).collect();
    let facility_snaps = snap_points(graph, &facility_positions, opts.max_snap_m);
    let mut by_category: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in facilities.iter().enumerate() {
        by_category.entry(f.category.as_str()).or_default().push(i);
    }
    let ctx = Ctx {
        graph,
        settlements,
        facilities,
        settlement_snaps: &settlement_snaps,
        facility_snaps: &facility_snaps,
        opts,
    };
    let categories: Vec<CategoryAccess> = by_category
        .into_iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map_init(
            || DijkstraScratch::new(graph.node_count()),
            |scratch, (cat, members)| ctx.category(scratch, cat, &members),
        )
        .collect();
    Ok(AccessReport {
        settlement_snaps,
        facility_snaps,
        categories,
    })
}

struct Ctx<'a> {
    graph: &'a RoadGraph,
    settlements: &'a [LonLat],
    facilities: &'a [Facility],
    settlement_snaps: &'a [SnapStatus],
    facility_snaps: &'a [SnapStatus],
    opts: &'a AccessOptions,
}

/// How a settlement's best path starts.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// To graph node `node`, driving its edge forward (`true`) or backward.
    Node { node: u32, forward: bool },
    /// Straight along its own edge to the facility.
    SameEdge,
}

impl Ctx<'_> {
    fn category(
        &self,
        scratch: &mut DijkstraScratch,
        category: &str,
        members: &[usize],
    ) -> CategoryAccess {
        let started = Instant::now();
        let (graph, metric) = (self.graph, self.opts.metric);
        // Seeds: the graph ends from which each facility's joining point can
        // be driven to. Origin tag = facility index * 2 + (0: from `from`, 1:
        // from `to`).
        let mut seeds = Vec::with_capacity(members.len() * 2);
        let mut on_edge: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut components = HashSet::new();
        for &f in members {
            let Some(s) = self.facility_snaps[f].snap() else {
                continue;
            };
            let e = graph.edge(s.edge);
            let (leg_d, leg_t) = leg(self.opts, s.leg_m);
            on_edge.entry(s.edge).or_default().push(f);
            components.insert(graph.component(e.from));
            let mut seed = |node, (d, t): (f64, f64), side| {
                let (cost, other) = by_metric(metric, (leg_d + d, leg_t + t));
                seeds.push(Seed {
                    node,
                    cost,
                    other,
                    origin: (f * 2 + side) as u32,
                });
            };
            if e.forward {
                seed(e.from, part(e, s.along_m), 0);
            }
            if e.backward {
                seed(e.to, part(e, e.length_m - s.along_m), 1);
            }
        }
        let facilities_on_road = on_edge.values().map(Vec::len).sum();
        scratch.run(graph.reverse(), metric, &seeds);
        let scratch = &*scratch;
        let results = (0..self.settlements.len())
            .into_par_iter()
            .map(|i| {
                let Some(s) = self.settlement_snaps[i].snap() else {
                    return Access::NoRoadNearSettlement {
                        max_snap_m: self.opts.max_snap_m,
                    };
                };
                match self.best(scratch, s, &on_edge) {
                    Some(found) => Access::Reached(self.nearest(scratch, i, s, found)),
                    None if facilities_on_road == 0 => {
                        Access::Unreachable(Unreachable::NoFacilityOnRoads)
                    }
                    None if !components.contains(&graph.component(graph.edge(s.edge).from)) => {
                        Access::Unreachable(Unreachable::NoFacilityInComponent)
                    }
                    None => Access::Unreachable(Unreachable::OnewayRestrictions),
                }
            })
            .collect();
        CategoryAccess {
            category: category.to_string(),
            facility_count: members.len(),
            facilities_on_road,
            results,
            elapsed: started.elapsed(),
        }
    }

    /// The cheapest way from a snapped settlement to a facility:
    /// ((cost, other) excluding the settlement's leg, facility, how).
    fn best(
        &self,
        scratch: &DijkstraScratch,
        s: &Snap,
        on_edge: &HashMap<u32, Vec<usize>>,
    ) -> Option<((f64, f64), usize, Via)> {
        let (graph, metric) = (self.graph, self.opts.metric);
        let e = graph.edge(s.edge);
        let mut best: Option<((f64, f64), usize, Via)> = None;
        let mut consider = |cand: (f64, f64), facility: usize, via: Via| {
            if best.as_ref().is_none_or(|b| cand.0 < b.0 .0) {
                best = Some((cand, facility, via));
            }
        };
        let ends = [
            (e.forward, e.to, e.length_m - s.along_m, true),
            (e.backward, e.from, s.along_m, false),
        ];
        for (allowed, node, part_m, forward) in ends {
            if !allowed {
                continue;
            }
            if let (Some(c), Some(o), Some(origin)) = (
                scratch.cost(node),
                scratch.other(node),
                scratch.origin(node),
            ) {
                let (pc, po) = by_metric(metric, part(e, part_m));
                consider(
                    (pc + c, po + o),
                    origin as usize / 2,
                    Via::Node { node, forward },
                );
            }
        }
        for &f in on_edge.get(&s.edge).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(fs) = self.facility_snaps[f].snap() else {
                continue;
            };
            let ok =
                (e.forward && fs.along_m >= s.along_m) || (e.backward && fs.along_m <= s.along_m);
            if ok {
                let (leg_d, leg_t) = leg(self.opts, fs.leg_m);
                let (d, t) = part(e, (fs.along_m - s.along_m).abs());
                consider(by_metric(metric, (d + leg_d, t + leg_t)), f, Via::SameEdge);
            }
        }
        best
    }

    fn nearest(
        &self,
        scratch: &DijkstraScratch,
        i: usize,
        s: &Snap,
        found: ((f64, f64), usize, Via),
    ) -> Nearest {
        let ((cost, other), f, via) = found;
        let (leg_d, leg_t) = leg(self.opts, s.leg_m);
        let (d, t) = match self.opts.metric {
            Metric::Time => (other, cost),
            Metric::Distance => (cost, other),
        };
        let facility = &self.facilities[f];
        let fs = self.facility_snaps[f].snap().copied();
        let straight_m = geodesy::distance_m(self.settlements[i], facility.position);
        let road_distance_m = d + leg_d;
        Nearest {
            facility: f,
            facility_id: facility.id.clone(),
            road_distance_m,
            travel_time_s: t + leg_t,
            straight_m,
            detour_ratio: (straight_m > 0.0).then(|| road_distance_m / straight_m),
            settlement_leg_m: s.leg_m,
            facility_leg_m: fs.map_or(0.0, |x| x.leg_m),
            route: match (self.opts.with_routes, fs) {
                (true, Some(fs)) => Some(self.route(scratch, i, s, f, &fs, via)),
                _ => None,
            },
        }
    }

    fn route(
        &self,
        scratch: &DijkstraScratch,
        i: usize,
        s: &Snap,
        f: usize,
        fs: &Snap,
        via: Via,
    ) -> LineString<f64> {
        let graph = self.graph;
        let mut pts = vec![self.settlements[i]];
        let push_all = |pts: &mut Vec<LonLat>, more: Vec<LonLat>| {
            for p in more {
                if pts.last() != Some(&p) {
                    pts.push(p);
                }
            }
        };
        match via {
            Via::SameEdge => push_all(
                &mut pts,
                graph.edge_part(s.edge, s.along_m, s.foot, fs.along_m, fs.foot),
            ),
            Via::Node { node, forward } => {
                let e = graph.edge(s.edge);
                let end_m = if forward { e.length_m } else { 0.0 };
                push_all(
                    &mut pts,
                    graph.edge_part(s.edge, s.along_m, s.foot, end_m, graph.node_position(node)),
                );
                let mut v = node;
                while let Some(step) = scratch.step(v) {
                    let g = graph.edge_geometry(step.edge);
                    if step.forward {
                        push_all(&mut pts, g.to_vec());
                    } else {
                        push_all(&mut pts, g.iter().rev().copied().collect());
                    }
                    v = step.node;
                }
                let side = scratch.origin(v).map_or(0, |o| o % 2);
                let fe = graph.edge(fs.edge);
                let start_m = if side == 0 { 0.0 } else { fe.length_m };
                push_all(
                    &mut pts,
                    graph.edge_part(
                        fs.edge,
                        start_m,
                        graph.node_position(v),
                        fs.along_m,
                        fs.foot,
                    ),
                );
            }
        }
        push_all(&mut pts, vec![self.facilities[f].position]);
        LineString::new(pts)
    }
}

/// The routes of a report as GeoJSON features (LineStrings, lon/lat), one per
/// settlement and category reached, with properties `settlement` (index),
/// `category`, `facility_id`, `road_distance_m`, `travel_time_s`,
/// `straight_m`. Empty unless the report was computed with
/// [`AccessOptions::with_routes`].
pub fn routes_geojson(report: &AccessReport) -> geojson::FeatureCollection {
    let mut features = Vec::new();
    for cat in &report.categories {
        for (i, r) in cat.results.iter().enumerate() {
            let Some(n) = r.nearest() else { continue };
            let Some(route) = &n.route else { continue };
            let mut props = serde_json::Map::new();
            props.insert("settlement".into(), i.into());
            props.insert("category".into(), cat.category.clone().into());
            props.insert("facility_id".into(), n.facility_id.clone().into());
            props.insert("road_distance_m".into(), n.road_distance_m.into());
            props.insert("travel_time_s".into(), n.travel_time_s.into());
            props.insert("straight_m".into(), n.straight_m.into());
            features.push(geojson::Feature {
                bbox: None,
                geometry: Some(geojson::Geometry::new(geojson::Value::from(route))),
                id: None,
                properties: Some(props),
                foreign_members: None,
            });
        }
    }
    geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}
