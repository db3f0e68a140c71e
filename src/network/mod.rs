//! Road network and access to services.
//!
//! The pipeline, one file each:
//! - read: [`osm_pbf`] (OpenStreetMap PBF) and [`geojson_roads`] (line
//!   layers) feed a [`graph::GraphBuilder`];
//! - build, then freeze: [`graph::RoadGraph`] with CSR adjacency (forward and
//!   reversed), exact geodesic edge lengths, travel times from
//!   [`speeds::SpeedTable`], edge geometry and a packed R-tree of segments;
//! - snap: [`snap`] attaches places to the exact nearest point on a road
//!   (filter by R-tree, refine by geodesic);
//! - search: [`dijkstra`], multi-source with per-thread scratch;
//! - measure: [`access::nearest_services`], the nearest facility of every
//!   category from every settlement, by road.
//!
//! # Example
//! ```no_run
//! use borderzone::network::{access, osm_pbf, speeds::SpeedTable};
//! # fn main() -> borderzone::Result<()> {
//! let (graph, stats) = osm_pbf::read_roads("roads.osm.pbf".as_ref(), &Default::default(), &SpeedTable::default())?;
//! let settlements = vec![geo::coord! { x: 76.95, y: 43.25 }];
//! let facilities = vec![access::Facility { id: "h1".into(), category: "hospital".into(), position: geo::coord! { x: 76.93, y: 43.25 } }];
//! let report = access::nearest_services(&graph, &settlements, &facilities, &Default::default())?;
//! for cat in &report.categories {
//!     println!("{}: {}", cat.category, cat.results[0].status(&cat.category));
//! }
//! # Ok(()) }
//! ```

pub mod access;
pub mod dijkstra;
pub mod geojson_roads;
pub mod graph;
pub mod osm_pbf;
mod radix_heap;
mod segment_index;
pub mod snap;
pub mod speeds;

pub use access::{
    nearest_services, Access, AccessOptions, AccessReport, CategoryAccess, Facility, Nearest,
    Unreachable,
};
pub use dijkstra::Metric;
pub use graph::RoadGraph;
pub use snap::{Snap, SnapStatus};
pub use speeds::{RoadClass, SpeedTable};
