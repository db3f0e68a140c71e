//! # borderzone
//!
//! Exact border-zone analysis on the WGS84 ellipsoid for whole countries in
//! one batch: which settlements lie within N km of the state border (all of
//! it or chosen neighbours), how far each is from services by road, and which
//! are eligible for a border-zone tax regime or suited as logistics hubs.
//!
//! The code follows the pipeline **read → index → measure → rules → write**:
//!
//! | stage   | module | what |
//! |---------|--------|------|
//! | read    | [`io`] | streaming GeoJSON / NDJSON / CSV readers, atomic writers |
//! | index   | [`zone::index`] | frozen R-tree of geodesic segments (filter) |
//! | measure | [`geodesy`], [`zone::measure`](mod@zone::measure) | exact WGS84 geodesic distances (refine) |
//! | zone    | [`zone`] | border selection, zone strip polygon |
//! | write   | [`report`] | settlements layer and table, zone layer |
//! | jobs    | [`jobs`] | the end-to-end runs behind the CLI |
//!
//! Distances are metres on the WGS84 ellipsoid; coordinates are lon/lat
//! degrees (x = longitude) unless a name says otherwise.

pub mod admin;
pub mod config;
pub mod error;
pub mod geodesy;
pub mod io;
pub mod jobs;
pub mod progress;
pub mod report;
pub mod rules;
pub mod settlement;
#[cfg(test)]
mod test_dir;
#[cfg(test)]
mod test_rand;
pub mod zone;

pub use error::{Error, Result};
pub mod network;
