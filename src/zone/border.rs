//! The state border: lines (or polygon boundaries) labelled by neighbour,
//! selection of neighbours, and the frozen segment index built from them.

use std::collections::BTreeSet;
use std::path::Path;

use geo::{Geometry, LineString};

use super::index::{Nearest, SegmentIndex};
use crate::error::{Error, Location, Result};
use crate::geodesy::LonLat;
use crate::io::{self, property_text, ReadOptions};

/// One continuous piece of border.
#[derive(Debug, Clone, PartialEq)]
pub struct BorderPart {
    /// Neighbour code (e.g. ISO3 `CHN`), empty when the layer has none.
    pub neighbour: String,
    /// Vertices, lon/lat.
    pub coords: Vec<LonLat>,
    /// Feature index in the border layer.
    pub feature: usize,
}

/// A border layer as read.
#[derive(Debug, Clone, Default)]
pub struct Border {
    /// All parts, in input order.
    pub parts: Vec<BorderPart>,
}

fn push_line(parts: &mut Vec<BorderPart>, neighbour: &str, feature: usize, line: &LineString<f64>) {
    // A line whose vertices are all one point has no segment to measure to:
    // kept, it would leave an empty index and fail every settlement instead.
    if line.0.windows(2).any(|w| w[0] != w[1]) {
        parts.push(BorderPart {
            neighbour: neighbour.to_string(),
            coords: line.0.clone(),
            feature,
        });
    }
}

impl Border {
    /// Read a border layer: LineString, MultiLineString, Polygon or
    /// MultiPolygon features (polygons contribute their rings), each labelled
    /// by `neighbour_field` (missing → empty label).
    ///
    /// # Errors
    /// Unreadable file, a feature of another geometry type, an empty layer.
    pub fn read(path: &Path, neighbour_field: &str) -> Result<Border> {
        let mut parts = Vec::new();
        let mut features = 0usize;
        for f in io::read_layer(path, &ReadOptions::default())? {
            let f = f?;
            features += 1;
            let neighbour = f
                .properties
                .get(neighbour_field)
                .map(property_text)
                .unwrap_or_default();
            let neighbour = neighbour.trim().to_ascii_uppercase();
            match &f.geometry {
                Geometry::LineString(l) => push_line(&mut parts, &neighbour, f.index, l),
                Geometry::MultiLineString(ml) => {
                    ml.0.iter()
                        .for_each(|l| push_line(&mut parts, &neighbour, f.index, l))
                }
                Geometry::Polygon(p) => std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .for_each(|l| push_line(&mut parts, &neighbour, f.index, l)),
                Geometry::MultiPolygon(mp) => {
                    mp.0.iter()
                        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                        .for_each(|l| push_line(&mut parts, &neighbour, f.index, l))
                }
                other => {
                    return Err(Error::invalid(
                        Location::feature(path, f.index),
                        format!(
                            "a border must be lines or polygons, found {}",
                            geometry_type(other)
                        ),
                    ))
                }
            }
        }
        if parts.is_empty() {
            return Err(Error::invalid(
                Location::file(path),
                if features == 0 {
                    "the border layer is empty".to_string()
                } else {
                    "the border layer has no line with two or more distinct vertices".to_string()
                },
            ));
        }
        Ok(Border { parts })
    }

    /// The distinct neighbour labels, sorted.
    pub fn neighbours(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|p| p.neighbour.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The parts bordering any of `neighbours` (case-insensitive); all parts
    /// when `neighbours` is empty.
    ///
    /// # Errors
    /// A requested neighbour with no part in the layer (the message lists
    /// those available).
    pub fn select(&self, neighbours: &[String], path: &Path) -> Result<Border> {
        if neighbours.is_empty() {
            return Ok(self.clone());
        }
        let wanted: Vec<String> = neighbours
            .iter()
            .map(|n| n.trim().to_ascii_uppercase())
            .collect();
        for w in &wanted {
            if !self.parts.iter().any(|p| &p.neighbour == w) {
                return Err(Error::invalid(
                    Location::file(path),
                    format!(
                        "the border has no part for neighbour '{w}' (available: {})",
                        self.neighbours().join(", ")
                    ),
                ));
            }
        }
        Ok(Border {
            parts: self
                .parts
                .iter()
                .filter(|p| wanted.contains(&p.neighbour))
                .cloned()
                .collect(),
        })
    }
}

/// GeoJSON name of a geometry's type, for messages.
pub fn geometry_type(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// A border frozen for measuring: the segment index plus each part's
/// neighbour.
#[derive(Debug)]
pub struct BorderIndex {
    index: SegmentIndex,
    neighbour_of_part: Vec<String>,
}

impl BorderIndex {
    /// Freeze `border` into an index.
    pub fn build(border: &Border) -> Self {
        BorderIndex {
            index: SegmentIndex::build(border.parts.iter().map(|p| p.coords.as_slice())),
            neighbour_of_part: border.parts.iter().map(|p| p.neighbour.clone()).collect(),
        }
    }

    /// The segment index.
    pub fn segments(&self) -> &SegmentIndex {
        &self.index
    }

    /// The neighbour of the part that segment `segment` belongs to.
    pub fn neighbour_of(&self, segment: usize) -> &str {
        &self.neighbour_of_part[self.index.segments()[segment].part as usize]
    }

    /// Exact nearest border point to `p`.
    pub fn nearest(&self, p: LonLat) -> Option<Nearest> {
        self.index.nearest(p)
    }
}
