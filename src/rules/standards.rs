//! Regional standards of access to services: "every settlement within X km
//! or Y minutes by road of a school", checked per settlement and summarised
//! as the share of cities and of rural settlements that meet them, beside the
//! national targets (96 % of cities and 71 % of rural settlements by 2030).
//!
//! # The check
//! A [`StandardRule`] sets, for one service category, a road-distance limit
//! (`max_road_km`), a travel-time limit (`max_minutes`) or both. Each limit is
//! checked against the *minimum of its own measure*: the shortest road
//! distance to any facility of the category, and the shortest travel time to
//! any (possibly another) facility. With both limits, meeting **either**
//! passes (the usual wording: "within 5 km or 15 minutes"); set
//! `require_both` to need both. A settlement farther than the snap distance
//! from every road, or on a road component without the category, fails the
//! category with that reason. A settlement meets the standard overall when it
//! meets every category that has a rule.
//!
//! The limits that ship in the documentation (school 5 km or 15 min,
//! hospital 60 min…) are **examples only**: there is no built-in standard;
//! users set their own values.
//!
//! # City or rural
//! [`UrbanRule`]: an attribute first (default OSM `place`: `city`, `town` →
//! city; `village`, `hamlet`, `isolated_dwelling` → rural), else a
//! population threshold (default ≥ 10,000 → city). The threshold is a
//! configurable stand-in, **not** the legal status of the settlement (in
//! Kazakhstan city status is conferred by law, not by size); give an
//! attribute with the legal status where one exists.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// An access standard for one service category. Serde form (TOML):
///
/// ```toml
/// [[standard]]
/// category = "school"
/// max_road_km = 5       # example values only
/// max_minutes = 15
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StandardRule {
    /// Service category the rule applies to (as in the services layer).
    pub category: String,
    /// Road-distance limit (km) to the nearest facility by road distance.
    pub max_road_km: Option<f64>,
    /// Travel-time limit (minutes) to the nearest facility by travel time.
    pub max_minutes: Option<f64>,
    /// With both limits: require both (default false: either passes).
    #[serde(default)]
    pub require_both: bool,
}

impl StandardRule {
    /// Check that the rule is usable.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty category, no limit, or a limit that is
    /// not a positive finite number.
    pub fn validate(&self) -> Result<()> {
        if self.category.trim().is_empty() {
            return Err(Error::config("a standard needs a category"));
        }
        if self.max_road_km.is_none() && self.max_minutes.is_none() {
            return Err(Error::config(format!(
                "standard for '{}' sets no limit: give max_road_km and/or max_minutes",
                self.category
            )));
        }
        for (name, v) in [
            ("max_road_km", self.max_road_km),
            ("max_minutes", self.max_minutes),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::config(format!(
                        "standard for '{}': {name} must be a positive number, got {v}",
                        self.category
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether the rule has a distance limit (needs the shortest road
    /// distance) or a time limit (needs the shortest travel time).
    pub fn needs(&self) -> (bool, bool) {
        (self.max_road_km.is_some(), self.max_minutes.is_some())
    }

    /// Check one settlement given its shortest road distance (m) and
    /// shortest travel time (s) to the category; `None` where no facility
    /// was reached by that measure. Returns (meets, reason).
    pub fn check(
        &self,
        shortest_road_m: Option<f64>,
        fastest_time_s: Option<f64>,
    ) -> (bool, String) {
        let mut parts = Vec::new();
        let mut oks = Vec::new();
        if let Some(km) = self.max_road_km {
            let ok = shortest_road_m.is_some_and(|d| d <= km * 1000.0);
            oks.push(ok);
            parts.push(match shortest_road_m {
                Some(d) => format!(
                    "road {:.2} km {} {} km",
                    d / 1000.0,
                    if ok { "<=" } else { ">" },
                    fmt_num(km)
                ),
                None => "no road distance".to_string(),
            });
        }
        if let Some(min) = self.max_minutes {
            let ok = fastest_time_s.is_some_and(|t| t <= min * 60.0);
            oks.push(ok);
            parts.push(match fastest_time_s {
                Some(t) => format!(
                    "time {:.1} min {} {} min",
                    t / 60.0,
                    if ok { "<=" } else { ">" },
                    fmt_num(min)
                ),
                None => "no travel time".to_string(),
            });
        }
        let meets = if self.require_both {
            oks.iter().all(|&b| b)
        } else {
            oks.iter().any(|&b| b)
        };
        let joint = if self.require_both { " and " } else { "; " };
        (meets, parts.join(joint))
    }

    /// The limits as text, e.g. `5 km or 15 min`.
    pub fn limits_text(&self) -> String {
        let mut v = Vec::new();
        if let Some(km) = self.max_road_km {
            v.push(format!("{} km", fmt_num(km)));
        }
        if let Some(m) = self.max_minutes {
            v.push(format!("{} min", fmt_num(m)));
        }
        v.join(if self.require_both { " and " } else { " or " })
    }
}

fn fmt_num(v: f64) -> String {
    crate::report::table::format_number(v)
}

/// Command-line form: `CATEGORY=LIMIT[,LIMIT]` or `CATEGORY=LIMIT+LIMIT`,
/// where a limit is a number with a unit, `km`, `m`, `min` or `h`:
/// `hospital=60min`, `school=5km,15min` (either limit passes),
/// `school=5km+15min` (both must pass).
impl FromStr for StandardRule {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::config(format!(
                "standard '{s}': {why} (expected CATEGORY=LIMIT[,LIMIT] or CATEGORY=LIMIT+LIMIT, \
                 limits like 5km, 800m, 15min, 1.5h; e.g. hospital=60min, school=5km,15min)"
            ))
        };
        let (category, limits) = s.split_once('=').ok_or_else(|| bad("no '='"))?;
        let category = category.trim();
        let (parts, require_both): (Vec<&str>, bool) = if limits.contains('+') {
            if limits.contains(',') {
                return Err(bad("mix of ',' and '+'"));
            }
            (limits.split('+').collect(), true)
        } else {
            (limits.split(',').collect(), false)
        };
        let mut rule = StandardRule {
            category: category.to_string(),
            max_road_km: None,
            max_minutes: None,
            require_both,
        };
        for p in parts {
            let p = p.trim().to_ascii_lowercase();
            let split = p
                .find(|c: char| c.is_ascii_alphabetic())
                .ok_or_else(|| bad("a limit without unit"))?;
            let (num, unit) = p.split_at(split);
            let v: f64 = num
                .trim()
                .parse()
                .map_err(|_| bad(&format!("'{num}' is not a number")))?;
            let (slot, v) = match unit.trim() {
                "km" => (&mut rule.max_road_km, v),
                "m" => (&mut rule.max_road_km, v / 1000.0),
                "min" => (&mut rule.max_minutes, v),
                "h" => (&mut rule.max_minutes, v * 60.0),
                other => return Err(bad(&format!("unknown unit '{other}'"))),
            };
            if slot.is_some() {
                return Err(bad("two limits of the same kind"));
            }
            *slot = Some(v);
        }
        rule.validate().map_err(|e| bad(&e.to_string()))?;
        Ok(rule)
    }
}

/// Check a set of rules: each valid, one rule per category.
///
/// # Errors
/// [`Error::Config`] naming the rule.
pub fn validate_rules(rules: &[StandardRule]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for r in rules {
        r.validate()?;
        if !seen.insert(r.category.as_str()) {
            return Err(Error::config(format!(
                "two standards for category '{}': give one rule per category",
                r.category
            )));
        }
    }
    Ok(())
}

/// The national targets the shares are printed beside. Defaults: 96 % of
/// cities and 71 % of rural settlements meeting the regional standards by
/// 2030.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NationalTargets {
    /// Target share of cities (0..1).
    pub city_share: f64,
    /// Target share of rural settlements (0..1).
    pub rural_share: f64,
    /// Target year.
    pub year: u32,
}

impl Default for NationalTargets {
    fn default() -> Self {
        NationalTargets {
            city_share: 0.96,
            rural_share: 0.71,
            year: 2030,
        }
    }
}

impl NationalTargets {
    /// The target share of a settlement type (none for unknown).
    pub fn share(&self, t: SettlementType) -> Option<f64> {
        match t {
            SettlementType::City => Some(self.city_share),
            SettlementType::Rural => Some(self.rural_share),
            SettlementType::Unknown => None,
        }
    }

    /// Check the shares are within 0..1.
    ///
    /// # Errors
    /// [`Error::Config`].
    pub fn validate(&self) -> Result<()> {
        for (n, v) in [
            ("city_share", self.city_share),
            ("rural_share", self.rural_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::config(format!(
                    "target {n} must be a share between 0 and 1, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// City, rural settlement, or neither known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SettlementType {
    /// A city (or town).
    City,
    /// A rural settlement.
    Rural,
    /// No attribute value and no population to decide by.
    Unknown,
}

impl SettlementType {
    /// `city`, `rural` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementType::City => "city",
            SettlementType::Rural => "rural",
            SettlementType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for SettlementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A settlement's type and what decided it, e.g. `place=town` or
/// `population 12000 >= 10000`.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The type.
    pub kind: SettlementType,
    /// What decided it.
    pub basis: String,
}

/// How settlements are split into cities and rural settlements.
///
/// Defaults: attribute `place` with `city`, `town` → city and `village`,
/// `hamlet`, `isolated_dwelling` → rural (OSM values); otherwise attribute
/// `population` ≥ 10,000 → city, below → rural. A population of 0 or less
/// counts as unknown (GeoNames writes 0 for "not known"). The threshold is a
/// stand-in for the legal status, which this rule does not know.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UrbanRule {
    /// Attribute holding the settlement type (none: population only).
    pub type_field: Option<String>,
    /// Values of `type_field` that make a city (compared trimmed,
    /// case-insensitively).
    pub city_values: Vec<String>,
    /// Values of `type_field` that make a rural settlement.
    pub rural_values: Vec<String>,
    /// Attribute holding the population (numbers or numeric text).
    pub population_field: Option<String>,
    /// Population from which a settlement counts as a city.
    pub city_min_population: f64,
}

impl Default for UrbanRule {
    fn default() -> Self {
        UrbanRule {
            type_field: Some("place".into()),
            city_values: vec!["city".into(), "town".into()],
            rural_values: vec![
                "village".into(),
                "hamlet".into(),
                "isolated_dwelling".into(),
            ],
            population_field: Some("population".into()),
            city_min_population: 10_000.0,
        }
    }
}

/// A number from a JSON value: numbers, or text with spaces as thousands
/// separators.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace([' ', '\u{a0}', ','], "").parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

impl UrbanRule {
    /// The population of a settlement, when the attribute holds a positive
    /// number.
    pub fn population(&self, props: &Map<String, Value>) -> Option<f64> {
        self.population_field
            .as_ref()
            .and_then(|f| props.get(f))
            .and_then(number)
            .filter(|&p| p > 0.0)
    }

    /// Classify a settlement by its attributes.
    pub fn classify(&self, props: &Map<String, Value>) -> Classified {
        if let Some(field) = &self.type_field {
            if let Some(v) = props.get(field).map(crate::io::property_text) {
                let v = v.trim();
                let is = |list: &[String]| list.iter().any(|x| x.trim().eq_ignore_ascii_case(v));
                if !v.is_empty() {
                    let kind = if is(&self.city_values) {
                        Some(SettlementType::City)
                    } else if is(&self.rural_values) {
                        Some(SettlementType::Rural)
                    } else {
                        None
                    };
                    if let Some(kind) = kind {
                        return Classified {
                            kind,
                            basis: format!("{field}={v}"),
                        };
                    }
                }
            }
        }
        self.classify_population(self.population(props))
    }

    /// Classify by population alone.
    pub fn classify_population(&self, population: Option<f64>) -> Classified {
        match population {
            Some(p) if p >= self.city_min_population => Classified {
                kind: SettlementType::City,
                basis: format!(
                    "population {} >= {}",
                    fmt_num(p),
                    fmt_num(self.city_min_population)
                ),
            },
            Some(p) => Classified {
                kind: SettlementType::Rural,
                basis: format!(
                    "population {} < {}",
                    fmt_num(p),
                    fmt_num(self.city_min_population)
                ),
            },
            None => Classified {
                kind: SettlementType::Unknown,
                basis: "no type attribute value or population".into(),
            },
        }
    }

    /// Check the threshold.
    ///
    /// # Errors
    /// [`Error::Config`] for a negative or non-finite threshold.
    pub fn validate(&self) -> Result<()> {
        if !(self.city_min_population.is_finite() && self.city_min_population >= 0.0) {
            return Err(Error::config(format!(
                "city_min_population must be >= 0, got {}",
                self.city_min_population
            )));
        }
        Ok(())
    }
}

/// One line of the standards table: settlements of a type meeting the
/// standard of a category (or all, `category = "all"`).
#[derive(Debug, Clone, PartialEq)]
pub struct ShareRow {
    /// Category, or `all` for the overall standard.
    pub category: String,
    /// Settlement type.
    pub settlement_type: SettlementType,
    /// Settlements of the type.
    pub settlements: usize,
    /// Of those, meeting.
    pub meeting: usize,
    /// `meeting / settlements`; `None` for no settlements.
    pub share: Option<f64>,
    /// The national target of the type.
    pub target: Option<f64>,
}

/// One settlement's verdicts: its type, per category (`None`: no rule for
/// the category) and overall.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// City, rural or unknown.
    pub kind: SettlementType,
    /// Per category, in the caller's category order.
    pub categories: Vec<Option<bool>>,
    /// Meets every category with a rule; `None` when no category has one.
    pub overall: Option<bool>,
}

impl Verdict {
    /// The verdict of a settlement of type `kind` with these per-category
    /// results; the overall verdict is derived.
    pub fn new(kind: SettlementType, categories: Vec<Option<bool>>) -> Self {
        let ruled: Vec<bool> = categories.iter().flatten().copied().collect();
        let overall = (!ruled.is_empty()).then(|| ruled.iter().all(|&b| b));
        Verdict {
            kind,
            categories,
            overall,
        }
    }
}

/// Shares meeting each category's standard and all of them, by settlement
/// type. `verdicts[i].categories` follows `categories`. Rows: each category
/// with a rule, then `all`; within each, city, rural, and unknown when there
/// are any.
pub fn shares(
    categories: &[String],
    verdicts: &[Verdict],
    targets: &NationalTargets,
) -> Vec<ShareRow> {
    let mut rows = Vec::new();
    let ruled: Vec<usize> = (0..categories.len())
        .filter(|&c| verdicts.iter().any(|v| v.categories[c].is_some()))
        .collect();
    if ruled.is_empty() {
        return rows;
    }
    let mut push = |name: &str, get: &dyn Fn(&Verdict) -> bool| {
        for t in [
            SettlementType::City,
            SettlementType::Rural,
            SettlementType::Unknown,
        ] {
            let of_type: Vec<&Verdict> = verdicts.iter().filter(|v| v.kind == t).collect();
            if t == SettlementType::Unknown && of_type.is_empty() {
                continue;
            }
            let meeting = of_type.iter().filter(|v| get(v)).count();
            rows.push(ShareRow {
                category: name.to_string(),
                settlement_type: t,
                settlements: of_type.len(),
                meeting,
                share: (!of_type.is_empty()).then(|| meeting as f64 / of_type.len() as f64),
                target: targets.share(t),
            });
        }
    };
    for &c in &ruled {
        push(&categories[c], &|v| v.categories[c] == Some(true));
    }
    push("all", &|v| v.overall == Some(true));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cli_form_parses_units_and_combinations() {
        let r: StandardRule = "hospital=60min".parse().unwrap();
        assert_eq!(r.max_minutes, Some(60.0));
        assert_eq!(r.max_road_km, None);
        let r: StandardRule = "school=5km,15min".parse().unwrap();
        assert_eq!(
            (r.max_road_km, r.max_minutes, r.require_both),
            (Some(5.0), Some(15.0), false)
        );
        let r: StandardRule = "school=800m+0.5h".parse().unwrap();
        assert_eq!(
            (r.max_road_km, r.max_minutes, r.require_both),
            (Some(0.8), Some(30.0), true)
        );
        for bad in [
            "school",
            "school=5",
            "school=5km,6km",
            "school=5mi",
            "=5km",
            "school=-1km",
            "s=5km+1h,2min",
        ] {
            assert!(bad.parse::<StandardRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn either_or_both_limits() {
        let either: StandardRule = "school=5km,15min".parse().unwrap();
        let both: StandardRule = "school=5km+15min".parse().unwrap();
        // 4 km but 20 min.
        assert!(either.check(Some(4000.0), Some(1200.0)).0);
        assert!(!both.check(Some(4000.0), Some(1200.0)).0);
        assert!(
            both.check(Some(5000.0), Some(900.0)).0,
            "limits are inclusive"
        );
        let (ok, why) = either.check(None, None);
        assert!(!ok);
        assert_eq!(why, "no road distance; no travel time");
        let (ok, why) = both.check(Some(6000.0), Some(600.0));
        assert!(!ok);
        assert_eq!(why, "road 6.00 km > 5 km and time 10.0 min <= 15 min");
    }

    #[test]
    fn urban_rule_attribute_then_population() {
        let r = UrbanRule::default();
        let c = |v: Value| r.classify(v.as_object().unwrap());
        assert_eq!(
            c(json!({"place": "Town", "population": 10})).kind,
            SettlementType::City
        );
        assert_eq!(
            c(json!({"place": "hamlet", "population": 50000})).kind,
            SettlementType::Rural
        );
        let by_pop = c(json!({"place": "suburb", "population": "12 000"}));
        assert_eq!(by_pop.kind, SettlementType::City);
        assert_eq!(by_pop.basis, "population 12000 >= 10000");
        assert_eq!(c(json!({"population": 9999})).kind, SettlementType::Rural);
        assert_eq!(c(json!({"population": 0})).kind, SettlementType::Unknown);
        assert_eq!(c(json!({})).kind, SettlementType::Unknown);
    }

    #[test]
    fn shares_by_type_and_overall() {
        use SettlementType::*;
        let cats = vec![
            "hospital".to_string(),
            "school".to_string(),
            "bank".to_string(),
        ];
        let v = vec![
            Verdict::new(City, vec![Some(true), Some(true), None]),
            Verdict::new(City, vec![Some(true), Some(false), None]),
            Verdict::new(Rural, vec![Some(false), Some(true), None]),
        ];
        assert_eq!(v[0].overall, Some(true));
        assert_eq!(v[1].overall, Some(false));
        assert_eq!(Verdict::new(City, vec![None, None]).overall, None);
        let rows = shares(&cats, &v, &NationalTargets::default());
        let got: Vec<(&str, SettlementType, usize, usize)> = rows
            .iter()
            .map(|r| {
                (
                    r.category.as_str(),
                    r.settlement_type,
                    r.settlements,
                    r.meeting,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("hospital", City, 2, 2),
                ("hospital", Rural, 1, 0),
                ("school", City, 2, 1),
                ("school", Rural, 1, 1),
                ("all", City, 2, 1),
                ("all", Rural, 1, 0),
            ]
        );
        assert_eq!(rows[4].share, Some(0.5));
        assert_eq!(rows[4].target, Some(0.96));
    }
}
