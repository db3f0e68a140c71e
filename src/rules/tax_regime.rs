//! Eligibility for the special tax regime of the border zone.
//!
//! A settlement is eligible under a scenario when it lies in the scenario's
//! zone: its exact geodesic distance to the selected border (of the point,
//! of any part of the polygon, or of its centroid — per the polygon mode) is
//! at most the zone width. Settlements outside by no more than the review
//! margin are listed separately for manual review ("near the line").

use crate::zone::PolygonMode;

/// The decision for one settlement under one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Eligibility {
    /// In the zone.
    Eligible,
    /// Outside, within the review margin.
    NearLine,
    /// Outside.
    Outside,
}

/// Reason codes written into the lists. Stable strings: a change of meaning
/// is a change of `rule_version`.
pub mod reason {
    /// Point within the zone width of the selected border.
    pub const POINT_IN_ZONE: &str = "BZ-IN-POINT";
    /// Some part of the polygon within the zone width.
    pub const ANY_PART_IN_ZONE: &str = "BZ-IN-ANYPART";
    /// Polygon centroid within the zone width.
    pub const CENTROID_IN_ZONE: &str = "BZ-IN-CENTROID";
    /// Outside the zone by no more than the review margin.
    pub const NEAR_LINE: &str = "BZ-NEAR-LINE";
    /// Outside the zone.
    pub const OUTSIDE: &str = "BZ-OUT";
}

/// Decide eligibility from an exact distance.
pub fn decide(distance_m: f64, zone_m: f64, margin_m: f64) -> Eligibility {
    if distance_m <= zone_m {
        Eligibility::Eligible
    } else if distance_m <= zone_m + margin_m {
        Eligibility::NearLine
    } else {
        Eligibility::Outside
    }
}

/// The reason code of a decision.
pub fn reason_code(e: Eligibility, is_polygon: bool, mode: PolygonMode) -> &'static str {
    match e {
        Eligibility::Eligible if !is_polygon => reason::POINT_IN_ZONE,
        Eligibility::Eligible if mode == PolygonMode::Centroid => reason::CENTROID_IN_ZONE,
        Eligibility::Eligible => reason::ANY_PART_IN_ZONE,
        Eligibility::NearLine => reason::NEAR_LINE,
        Eligibility::Outside => reason::OUTSIDE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_inclusive_and_margin_is_outside_only() {
        assert_eq!(decide(20_000.0, 20_000.0, 1_000.0), Eligibility::Eligible);
        assert_eq!(
            decide(20_000.000_001, 20_000.0, 1_000.0),
            Eligibility::NearLine
        );
        assert_eq!(decide(21_000.0, 20_000.0, 1_000.0), Eligibility::NearLine);
        assert_eq!(decide(21_000.001, 20_000.0, 1_000.0), Eligibility::Outside);
        assert_eq!(
            reason_code(Eligibility::Eligible, true, PolygonMode::Centroid),
            reason::CENTROID_IN_ZONE
        );
    }
}
