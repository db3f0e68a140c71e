//! Road classes and the default travel speed of each.

use std::fmt;

/// The class of a road, after OpenStreetMap's `highway=*` values.
///
/// `Unknown` is for road layers (GeoJSON) that carry no class or an
/// unrecognised one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoadClass {
    Motorway,
    MotorwayLink,
    Trunk,
    TrunkLink,
    Primary,
    PrimaryLink,
    Secondary,
    SecondaryLink,
    Tertiary,
    TertiaryLink,
    Unclassified,
    Residential,
    LivingStreet,
    Service,
    Track,
    Unknown,
}

impl RoadClass {
    /// Every class, in table order.
    pub const ALL: [RoadClass; 16] = [
        RoadClass::Motorway,
        RoadClass::MotorwayLink,
        RoadClass::Trunk,
        RoadClass::TrunkLink,
        RoadClass::Primary,
        RoadClass::PrimaryLink,
        RoadClass::Secondary,
        RoadClass::SecondaryLink,
        RoadClass::Tertiary,
        RoadClass::TertiaryLink,
        RoadClass::Unclassified,
        RoadClass::Residential,
        RoadClass::LivingStreet,
        RoadClass::Service,
        RoadClass::Track,
        RoadClass::Unknown,
    ];

    /// The class of an OSM `highway=*` value, `None` for values that are not
    /// roads for motor vehicles (footway, path, cycleway, construction…).
    /// `track` is returned as [`RoadClass::Track`]; whether tracks are used is
    /// the reader's choice.
    pub fn from_osm(highway: &str) -> Option<RoadClass> {
        Some(match highway {
            "motorway" => RoadClass::Motorway,
            "motorway_link" => RoadClass::MotorwayLink,
            "trunk" => RoadClass::Trunk,
            "trunk_link" => RoadClass::TrunkLink,
            "primary" => RoadClass::Primary,
            "primary_link" => RoadClass::PrimaryLink,
            "secondary" => RoadClass::Secondary,
            "secondary_link" => RoadClass::SecondaryLink,
            "tertiary" => RoadClass::Tertiary,
            "tertiary_link" => RoadClass::TertiaryLink,
            "unclassified" => RoadClass::Unclassified,
            "residential" => RoadClass::Residential,
            "living_street" => RoadClass::LivingStreet,
            "service" => RoadClass::Service,
            "track" => RoadClass::Track,
            _ => return None,
        })
    }

    /// The OSM `highway=*` value of this class (`"unknown"` for `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::MotorwayLink => "motorway_link",
            RoadClass::Trunk => "trunk",
            RoadClass::TrunkLink => "trunk_link",
            RoadClass::Primary => "primary",
            RoadClass::PrimaryLink => "primary_link",
            RoadClass::Secondary => "secondary",
            RoadClass::SecondaryLink => "secondary_link",
            RoadClass::Tertiary => "tertiary",
            RoadClass::TertiaryLink => "tertiary_link",
            RoadClass::Unclassified => "unclassified",
            RoadClass::Residential => "residential",
            RoadClass::LivingStreet => "living_street",
            RoadClass::Service => "service",
            RoadClass::Track => "track",
            RoadClass::Unknown => "unknown",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RoadClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Travel speed per road class (km/h), and whether a way's own `maxspeed`
/// replaces it.
///
/// # Units
/// km/h.
///
/// The defaults are typical *travel* speeds for rural and small-town
/// Kazakhstan (below the legal limits: 110 on motorways, 90 outside
/// settlements, 60 inside): motorway 100, trunk 90, primary 80, secondary 70,
/// tertiary 60, unclassified 50, residential 30, living street 10, service 20,
/// track 20, links 40–60, unknown 60. Override with [`SpeedTable::set`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedTable {
    kmh: [f64; 16],
    /// Use a way's valid `maxspeed` instead of its class speed (default true).
    pub use_maxspeed: bool,
}

impl Default for SpeedTable {
    fn default() -> Self {
        let mut t = SpeedTable {
            kmh: [0.0; 16],
            use_maxspeed: true,
        };
        for (class, v) in [
            (RoadClass::Motorway, 100.0),
            (RoadClass::MotorwayLink, 60.0),
            (RoadClass::Trunk, 90.0),
            (RoadClass::TrunkLink, 50.0),
            (RoadClass::Primary, 80.0),
            (RoadClass::PrimaryLink, 40.0),
            (RoadClass::Secondary, 70.0),
            (RoadClass::SecondaryLink, 40.0),
            (RoadClass::Tertiary, 60.0),
            (RoadClass::TertiaryLink, 40.0),
            (RoadClass::Unclassified, 50.0),
            (RoadClass::Residential, 30.0),
            (RoadClass::LivingStreet, 10.0),
            (RoadClass::Service, 20.0),
            (RoadClass::Track, 20.0),
            (RoadClass::Unknown, 60.0),
        ] {
            t.kmh[class.index()] = v;
        }
        t
    }
}

impl SpeedTable {
    /// The speed of `class` (km/h).
    pub fn kmh(&self, class: RoadClass) -> f64 {
        self.kmh[class.index()]
    }

    /// Set the speed of `class` (km/h).
    ///
    /// # Errors
    /// [`crate::Error::Config`] unless `kmh` is finite and positive.
    pub fn set(&mut self, class: RoadClass, kmh: f64) -> crate::Result<()> {
        if !(kmh.is_finite() && kmh > 0.0) {
            return Err(crate::Error::config(format!(
                "speed for road class {class} must be positive km/h, got {kmh}"
            )));
        }
        self.kmh[class.index()] = kmh;
        Ok(())
    }

    /// The speed (km/h) of a road of `class` whose own limit is `maxspeed_kmh`.
    pub fn speed_kmh(&self, class: RoadClass, maxspeed_kmh: Option<f64>) -> f64 {
        match maxspeed_kmh {
            Some(v) if self.use_maxspeed => v,
            _ => self.kmh(class),
        }
    }
}

/// Parse an OSM `maxspeed` value to km/h.
///
/// Accepts a plain number (`"50"`, km/h), a number with a unit (`"50 km/h"`,
/// `"50kmh"`, `"30 mph"`), and takes the first of several (`"60;40"`).
/// Returns `None` for symbolic values (`"RU:urban"`, `"none"`, `"walk"`,
/// `"signals"`) and for numbers outside (0, 250] km/h: the caller falls back
/// to the class default.
pub fn parse_maxspeed_kmh(value: &str) -> Option<f64> {
    let first = value.split(';').next()?.trim();
    let digits_end = first
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(first.len());
    if digits_end == 0 {
        return None;
    }
    let number: f64 = first[..digits_end].parse().ok()?;
    let unit = first[digits_end..].trim().to_ascii_lowercase();
    let kmh = match unit.as_str() {
        "" | "km/h" | "kmh" | "kph" => number,
        "mph" => number * 1.609_344,
        _ => return None,
    };
    (kmh > 0.0 && kmh <= 250.0).then_some(kmh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxspeed_values() {
        assert_eq!(parse_maxspeed_kmh("50"), Some(50.0));
        assert_eq!(parse_maxspeed_kmh("50 km/h"), Some(50.0));
        assert_eq!(parse_maxspeed_kmh("90kmh"), Some(90.0));
        assert_eq!(parse_maxspeed_kmh("60;40"), Some(60.0));
        let mph = parse_maxspeed_kmh("30 mph").unwrap_or(0.0);
        assert!((mph - 48.28032).abs() < 1e-9);
        for bad in [
            "RU:urban", "none", "walk", "signals", "", "0", "50 knots", "999",
        ] {
            assert_eq!(parse_maxspeed_kmh(bad), None, "{bad}");
        }
    }

    #[test]
    fn classes_round_trip() {
        for c in RoadClass::ALL {
            if c != RoadClass::Unknown {
                assert_eq!(RoadClass::from_osm(c.as_str()), Some(c));
            }
        }
        assert_eq!(RoadClass::from_osm("footway"), None);
        let t = SpeedTable::default();
        assert!(RoadClass::ALL.iter().all(|&c| t.kmh(c) > 0.0));
    }
}
