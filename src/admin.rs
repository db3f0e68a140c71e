//! Administrative units (oblasts, districts): which polygon holds a point.

use std::path::Path;

use geo::{BoundingRect, Contains, Geometry, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use crate::config::AdminLayer;
use crate::error::{Error, Location, Result};
use crate::geodesy::LonLat;
use crate::io::{property_text, read_layer, ReadOptions};

/// One administrative unit.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminUnit {
    /// Name.
    pub name: String,
    /// Code (e.g. KATO), empty when the layer has none.
    pub code: String,
    area: MultiPolygon<f64>,
}

/// A frozen layer of units with a bounding-box R-tree (filter) and exact
/// point-in-polygon (refine; edges taken as straight in lon/lat, as the
/// source layers are drawn).
#[derive(Debug)]
pub struct AdminIndex {
    units: Vec<AdminUnit>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl AdminIndex {
    /// Read a polygon layer.
    ///
    /// # Errors
    /// Unreadable file, a non-polygon feature, a missing name attribute.
    pub fn read(layer: &AdminLayer) -> Result<AdminIndex> {
        let path: &Path = &layer.path;
        let mut units = Vec::new();
        for f in read_layer(path, &ReadOptions::default())? {
            let f = f?;
            let area = match f.geometry {
                Geometry::Polygon(p) => MultiPolygon(vec![p]),
                Geometry::MultiPolygon(mp) => mp,
                _ => {
                    return Err(Error::invalid(
                        Location::feature(path, f.index),
                        "an admin unit must be a polygon",
                    ))
                }
            };
            let name = f
                .properties
                .get(&layer.name_field)
                .map(property_text)
                .ok_or_else(|| {
                    Error::invalid(
                        Location::feature(path, f.index).with_field(layer.name_field.clone()),
                        "missing name attribute",
                    )
                })?;
            let code = layer
                .code_field
                .as_ref()
                .and_then(|c| f.properties.get(c))
                .map(property_text)
                .unwrap_or_default();
            units.push(AdminUnit { name, code, area });
        }
        let rects = units
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                u.area.bounding_rect().map(|r| {
                    GeomWithData::new(Rectangle::from_corners(r.min().into(), r.max().into()), i)
                })
            })
            .collect();
        Ok(AdminIndex {
            units,
            tree: RTree::bulk_load(rects),
        })
    }

    /// The unit containing `p` (the lowest index if units overlap).
    pub fn locate(&self, p: LonLat) -> Option<&AdminUnit> {
        let pt = Point(p);
        self.tree
            .locate_all_at_point(&[p.x, p.y])
            .map(|g| g.data)
            .filter(|&i| self.units[i].area.contains(&pt))
            .min()
            .map(|i| &self.units[i])
    }
}
