//! Logistics hub candidates toward China.
//!
//! Every settlement within `max_crossing_km` of a crossing, with at least
//! `min_population` people and (when a road layer is given) within
//! `max_road_km` of a main road, is a candidate. Its score is
//!
//! ```text
//! score = w_crossing  · max(0, 1 − d_crossing / crossing_scale)
//!       + w_population· min(1, log10(1 + pop) / log10(1 + population_full))
//!       + w_airport   · max(0, 1 − d_airport / airport_scale)
//!       + w_in_zone   · [in the zone of hubs.zone_scenario]
//! ```
//!
//! with distances in km (road distance when the road network gives one,
//! geodesic otherwise — the `crossing_basis` column says which). Ranked by
//! score, ties by id; every candidate carries its factor values.

use crate::config::HubRules;

/// Inputs of the score for one place.
#[derive(Debug, Clone, PartialEq)]
pub struct HubFactors {
    /// Distance to the nearest crossing (m).
    pub crossing_m: f64,
    /// Name of that crossing.
    pub crossing: String,
    /// `road` (through the road network) or `geodesic`.
    pub crossing_basis: &'static str,
    /// Population (0 when unknown).
    pub population: f64,
    /// Distance to the nearest airport (m), infinite when none.
    pub airport_m: f64,
    /// Distance to the nearest main road (m), `None` without a road layer.
    pub road_m: Option<f64>,
    /// Inside the reference zone.
    pub in_zone: bool,
}

/// A ranked candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct HubScore {
    /// Crossing factor (0..1).
    pub crossing: f64,
    /// Population factor (0..1).
    pub population: f64,
    /// Airport factor (0..1).
    pub airport: f64,
    /// Zone factor (0 or 1).
    pub in_zone: f64,
    /// Weighted sum.
    pub score: f64,
}

/// Why a place is not a candidate, or `None` when it is one.
pub fn exclusion(f: &HubFactors, rules: &HubRules) -> Option<String> {
    if f.crossing_m > rules.max_crossing_km * 1000.0 {
        return Some(format!(
            "crossing {:.1} km > {} km",
            f.crossing_m / 1000.0,
            rules.max_crossing_km
        ));
    }
    if f.population < rules.min_population {
        return Some(format!(
            "population {} < {}",
            f.population, rules.min_population
        ));
    }
    if let Some(r) = f.road_m {
        if r > rules.max_road_km * 1000.0 {
            return Some(format!(
                "main road {:.1} km > {} km",
                r / 1000.0,
                rules.max_road_km
            ));
        }
    }
    None
}

/// The score of a place.
pub fn score(f: &HubFactors, rules: &HubRules) -> HubScore {
    let w = &rules.weights;
    let crossing = (1.0 - f.crossing_m / 1000.0 / rules.crossing_scale_km).max(0.0);
    let population =
        ((1.0 + f.population.max(0.0)).log10() / (1.0 + rules.population_full).log10()).min(1.0);
    let airport = if f.airport_m.is_finite() {
        (1.0 - f.airport_m / 1000.0 / rules.airport_scale_km).max(0.0)
    } else {
        0.0
    };
    let in_zone = if f.in_zone { 1.0 } else { 0.0 };
    let score = w.crossing * crossing
        + w.population * population
        + w.airport * airport
        + w.in_zone * in_zone;
    HubScore {
        crossing,
        population,
        airport,
        in_zone,
        score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_score() {
        let rules = HubRules::default();
        let f = HubFactors {
            crossing_m: 30_000.0,
            crossing: "Khorgos".into(),
            crossing_basis: "geodesic",
            population: 9_999.0,
            airport_m: 150_000.0,
            road_m: Some(1_000.0),
            in_zone: true,
        };
        let s = score(&f, &rules);
        // crossing 1 − 30/150 = 0.8; population log10(10000)/log10(100001) = 4/5.0000043;
        // airport 1 − 150/300 = 0.5; in zone 1.
        assert!((s.crossing - 0.8).abs() < 1e-12);
        assert!((s.population - 4.0 / 100_001f64.log10()).abs() < 1e-12);
        assert!((s.airport - 0.5).abs() < 1e-12);
        let expected = 0.4 * 0.8 + 0.3 * (4.0 / 100_001f64.log10()) + 0.15 * 0.5 + 0.15;
        assert!((s.score - expected).abs() < 1e-12);
        assert_eq!(exclusion(&f, &rules), None);
        let small = HubFactors {
            population: 10.0,
            ..f.clone()
        };
        assert!(exclusion(&small, &rules).unwrap().contains("population"));
        let far = HubFactors {
            crossing_m: 400_000.0,
            ..f
        };
        assert!(exclusion(&far, &rules).unwrap().contains("crossing"));
    }
}
