//! Batch configuration (TOML): inputs, scenarios, rule parameters, output
//! folder. Unknown keys and bad values are errors that name the key.
//!
//! Paths are relative to the configuration file's folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::jobs::access::ServiceLayer;
use crate::rules::standards::{NationalTargets, StandardRule, UrbanRule};
use crate::zone::PolygonMode;

/// A whole batch run.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Version of the rule set, written into every list (audit trail).
    pub rule_version: String,
    /// Output folder (relative to the working directory unless absolute).
    #[serde(default = "default_output_dir")]
    pub output_dir: PathBuf,
    /// Input layers and their fields.
    pub inputs: Inputs,
    /// Zone rules shared by all scenarios.
    #[serde(default)]
    pub zone: ZoneRules,
    /// Scenarios computed in one run.
    #[serde(rename = "scenario")]
    pub scenarios: Vec<Scenario>,
    /// Logistics hub ranking.
    #[serde(default)]
    pub hubs: HubRules,
    /// Road access to services and the regional standards (optional).
    pub access: Option<AccessConfig>,
}

fn default_metric() -> String {
    "time".into()
}

fn default_max_snap_km() -> f64 {
    5.0
}

fn default_off_road_kmh() -> f64 {
    15.0
}

/// Road access to services: the road network, the service layers, and the
/// standards each category must meet.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Road network: `.osm.pbf` or GeoJSON lines.
    pub roads: PathBuf,
    /// GeoJSON roads: join line ends closer than this (m).
    #[serde(default)]
    pub snap_tolerance_m: f64,
    /// Shortest by `time` or by `distance`.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Places farther than this from any road get "no road within X km" (km).
    #[serde(default = "default_max_snap_km")]
    pub max_snap_km: f64,
    /// Speed on the leg between a place and the road (km/h).
    #[serde(default = "default_off_road_kmh")]
    pub off_road_kmh: f64,
    /// Also write `routes.geojson` (route to the nearest service of each category).
    #[serde(default)]
    pub routes: bool,
    /// Service layers, each with a category field or a fixed category.
    pub services: Vec<ServiceLayer>,
    /// City / rural rule for the standards' shares.
    #[serde(default)]
    pub urban: UrbanRule,
    /// National targets the shares are shown beside.
    #[serde(default)]
    pub targets: NationalTargets,
    /// Standards: `[[access.standard]]` with `category`, `max_road_km`
    /// and/or `max_minutes`.
    #[serde(default, rename = "standard")]
    pub standards: Vec<StandardRule>,
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("out")
}

fn default_neighbour_field() -> String {
    "neighbour".into()
}

fn default_name_field() -> String {
    "name".into()
}

/// Input layers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Border lines with a neighbour attribute.
    pub border: PathBuf,
    /// Attribute of the border naming the neighbour.
    #[serde(default = "default_neighbour_field")]
    pub neighbour_field: String,
    /// Country outline (for the zone strip layers and the map).
    pub country: Option<PathBuf>,
    /// Settlements (points or polygons).
    pub settlements: PathBuf,
    /// Settlement id attribute (default: feature id, else index).
    pub id_field: Option<String>,
    /// Settlement name attribute.
    #[serde(default = "default_name_field")]
    pub name_field: String,
    /// Population attribute (numbers or numeric text).
    pub population_field: Option<String>,
    /// KATO code attribute, copied into the lists when present.
    pub kato_field: Option<String>,
    /// Settlement attributes copied into the lists as admin units when no
    /// admin polygons are given (e.g. `["adm1", "adm2"]`).
    #[serde(default)]
    pub admin_fields: Vec<String>,
    /// Oblast polygons (admin level 1).
    pub oblasts: Option<AdminLayer>,
    /// District polygons (admin level 2).
    pub districts: Option<AdminLayer>,
    /// Border crossings (points) toward the hub target.
    pub crossings: Option<PathBuf>,
    /// Airports (points).
    pub airports: Option<PathBuf>,
    /// Keep only airports whose attribute equals a value (e.g. scheduled service).
    pub airport_filter: Option<FieldEquals>,
    /// Main road lines (for the hubs' "on a main road" condition).
    pub roads: Option<PathBuf>,
    /// Latitude/longitude column names for CSV inputs.
    pub lon_field: Option<String>,
    /// See `lon_field`.
    pub lat_field: Option<String>,
}

/// Polygons of an administrative level.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminLayer {
    /// The layer.
    pub path: PathBuf,
    /// Attribute with the unit's name.
    pub name_field: String,
    /// Attribute with the unit's code (e.g. KATO).
    pub code_field: Option<String>,
}

/// `field == value` filter.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldEquals {
    /// Attribute name.
    pub field: String,
    /// Accepted value (compared as text).
    pub equals: String,
}

/// Zone rules common to all scenarios.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZoneRules {
    /// How polygon settlements are placed.
    pub polygon_mode: PolygonMode,
    /// Settlements outside the zone by at most this much go to the "near
    /// the line" review list (km).
    pub near_line_margin_km: f64,
}

impl Default for ZoneRules {
    fn default() -> Self {
        ZoneRules {
            polygon_mode: PolygonMode::AnyPart,
            near_line_margin_km: 1.0,
        }
    }
}

/// One zone scenario.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name used in file names (`eligible_<name>.csv`): a-z, 0-9, `_`, `-`.
    pub name: String,
    /// Zone width (km).
    pub distance_km: f64,
    /// Neighbours whose border counts (empty: the whole border).
    #[serde(default)]
    pub neighbours: Vec<String>,
}

/// Logistics hub ranking. Each factor is scaled to 0..1 and the score is the
/// weighted sum; see `rules::hubs`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubRules {
    /// Scenario whose zone membership is the `in_zone` factor.
    pub zone_scenario: Option<String>,
    /// Candidates must be within this distance of a crossing (km).
    pub max_crossing_km: f64,
    /// Candidates must have at least this population.
    pub min_population: f64,
    /// Candidates must be within this distance of a main road (km), when a
    /// road layer is given.
    pub max_road_km: f64,
    /// Distance at which the crossing factor reaches 0 (km).
    pub crossing_scale_km: f64,
    /// Distance at which the airport factor reaches 0 (km).
    pub airport_scale_km: f64,
    /// Population at which the population factor reaches 1.
    pub population_full: f64,
    /// Weights of the factors.
    pub weights: HubWeights,
    /// How many candidates to keep (0: all).
    pub top: usize,
    /// Service category of the crossings in `[access]`: when the road
    /// network reaches one, the crossing distance is by road.
    pub crossing_category: String,
}

impl Default for HubRules {
    fn default() -> Self {
        HubRules {
            zone_scenario: None,
            max_crossing_km: 150.0,
            min_population: 5_000.0,
            max_road_km: 10.0,
            crossing_scale_km: 150.0,
            airport_scale_km: 300.0,
            population_full: 100_000.0,
            weights: HubWeights::default(),
            top: 0,
            crossing_category: "border_crossing".into(),
        }
    }
}

/// Weights of the hub factors.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubWeights {
    /// Nearness to a crossing.
    pub crossing: f64,
    /// Size.
    pub population: f64,
    /// Nearness to an airport.
    pub airport: f64,
    /// Inside the zone.
    pub in_zone: f64,
}

impl Default for HubWeights {
    fn default() -> Self {
        HubWeights {
            crossing: 0.4,
            population: 0.3,
            airport: 0.15,
            in_zone: 0.15,
        }
    }
}

impl Config {
    /// Read and check a configuration file; relative input paths are
    /// resolved against its folder.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax, unknown keys, bad values (each naming
    /// the key).
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read", e))?;
        let mut cfg: Config = toml::from_str(&text)
            .map_err(|e| Error::config(format!("{}: {}", path.display(), e.to_string().trim())))?;
        cfg.check()
            .map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(base);
        Ok(cfg)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        let i = &mut self.inputs;
        fix(&mut i.border);
        fix(&mut i.settlements);
        for p in [
            &mut i.country,
            &mut i.crossings,
            &mut i.airports,
            &mut i.roads,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        for a in [&mut i.oblasts, &mut i.districts].into_iter().flatten() {
            fix(&mut a.path);
        }
        if let Some(a) = &mut self.access {
            fix(&mut a.roads);
            for s in &mut a.services {
                fix(&mut s.path);
            }
        }
    }

    /// Check values, naming the offending key.
    fn check(&self) -> std::result::Result<(), String> {
        if self.rule_version.trim().is_empty() {
            return Err("rule_version: must not be empty".into());
        }
        if self.scenarios.is_empty() {
            return Err("scenario: at least one [[scenario]] is needed".into());
        }
        let mut names = BTreeSet::new();
        for (i, s) in self.scenarios.iter().enumerate() {
            let ok = !s.name.is_empty()
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !ok {
                return Err(format!(
                    "scenario[{i}].name: '{}' must be lower-case a-z, 0-9, '_' or '-'",
                    s.name
                ));
            }
            if !names.insert(s.name.clone()) {
                return Err(format!("scenario[{i}].name: '{}' is used twice", s.name));
            }
            if !(s.distance_km.is_finite() && s.distance_km > 0.0 && s.distance_km <= 1000.0) {
                return Err(format!(
                    "scenario[{i}].distance_km: must be in (0, 1000], got {}",
                    s.distance_km
                ));
            }
        }
        let z = &self.zone;
        if !(z.near_line_margin_km.is_finite() && z.near_line_margin_km >= 0.0) {
            return Err(format!(
                "zone.near_line_margin_km: must be ≥ 0, got {}",
                z.near_line_margin_km
            ));
        }
        if let Some(a) = &self.access {
            if a.metric != "time" && a.metric != "distance" {
                return Err(format!(
                    "access.metric: '{}' must be 'time' or 'distance'",
                    a.metric
                ));
            }
            for (key, v) in [
                ("access.max_snap_km", a.max_snap_km),
                ("access.off_road_kmh", a.off_road_kmh),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(format!("{key}: must be a number > 0, got {v}"));
                }
            }
            if !(a.snap_tolerance_m.is_finite() && a.snap_tolerance_m >= 0.0) {
                return Err(format!(
                    "access.snap_tolerance_m: must be ≥ 0, got {}",
                    a.snap_tolerance_m
                ));
            }
            if a.services.is_empty() {
                return Err("access.services: at least one service layer is needed".into());
            }
            for (i, r) in a.standards.iter().enumerate() {
                r.validate()
                    .map_err(|e| format!("access.standard[{i}]: {e}"))?;
            }
            crate::rules::standards::validate_rules(&a.standards)
                .map_err(|e| format!("access.standard: {e}"))?;
        }
        let h = &self.hubs;
        if let Some(s) = &h.zone_scenario {
            if !names.contains(s) {
                return Err(format!("hubs.zone_scenario: no scenario named '{s}'"));
            }
        }
        for (key, v) in [
            ("hubs.max_crossing_km", h.max_crossing_km),
            ("hubs.min_population", h.min_population),
            ("hubs.max_road_km", h.max_road_km),
            ("hubs.weights.crossing", h.weights.crossing),
            ("hubs.weights.population", h.weights.population),
            ("hubs.weights.airport", h.weights.airport),
            ("hubs.weights.in_zone", h.weights.in_zone),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{key}: must be a number ≥ 0, got {v}"));
            }
        }
        for (key, v) in [
            ("hubs.crossing_scale_km", h.crossing_scale_km),
            ("hubs.airport_scale_km", h.airport_scale_km),
            ("hubs.population_full", h.population_full),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{key}: must be a number > 0, got {v}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<Config, String> {
        let cfg: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        cfg.check()?;
        Ok(cfg)
    }

    const MIN: &str = r#"
rule_version = "t1"
[inputs]
border = "b.geojson"
settlements = "s.geojson"
[[scenario]]
name = "china_20km"
distance_km = 20
neighbours = ["CHN"]
"#;

    #[test]
    fn minimal_config_has_documented_defaults() {
        let c = parse(MIN).unwrap();
        assert_eq!(c.inputs.neighbour_field, "neighbour");
        assert_eq!(c.zone.near_line_margin_km, 1.0);
        assert_eq!(c.hubs.weights.crossing, 0.4);
        assert_eq!(c.output_dir, PathBuf::from("out"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse(&MIN.replace("[inputs]", "[inputs]\nborders = \"x\"")).unwrap_err();
        assert!(err.contains("borders"), "{err}");
        let err =
            parse(&MIN.replace("distance_km = 20", "distance_km = 20\nwidth = 3")).unwrap_err();
        assert!(err.contains("width"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = parse(&MIN.replace("distance_km = 20", "distance_km = -5")).unwrap_err();
        assert!(err.contains("scenario[0].distance_km"), "{err}");
        let err = parse(&MIN.replace("china_20km", "China 20")).unwrap_err();
        assert!(err.contains("scenario[0].name"), "{err}");
        let err = parse(&format!("{MIN}\n[hubs]\nzone_scenario = \"nope\"\n")).unwrap_err();
        assert!(err.contains("hubs.zone_scenario"), "{err}");
        let err = parse(&MIN.replace("distance_km = 20", "distance_km = \"20\"")).unwrap_err();
        assert!(err.contains("distance_km"), "{err}");
    }
}
