//! What users receive: map layers and tables.

pub mod html;
pub mod layers;
pub mod svg;
pub mod xlsx;
