//! What users receive: map layers and tables.

pub mod layers;
pub mod table;
