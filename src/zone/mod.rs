//! Border-zone analysis: which settlements lie within a distance of the
//! state border.
//!
//! - [`border`]: read the border layer, select neighbours, freeze an index;
//! - [`index`]: the R-tree filter and exact geodesic refinement;
//! - [`cells`]: certified inside/outside cells, so most points of a large
//!   batch are classified without a distance query;
//! - [`measure`](mod@measure): distance of a point / polygon settlement to the border;
//! - [`strip`]: the zone as a polygon;
//! - [`strip_cache`]: strips cached by content, bit for bit;
//! - [`validity`]: self-intersection check of settlement polygons (warnings).

pub mod border;
pub mod cells;
pub mod index;
pub mod measure;
pub mod strip;
pub mod strip_cache;
pub mod validity;

pub use border::{Border, BorderIndex};
pub use measure::{measure, Measurement, PolygonMode};
