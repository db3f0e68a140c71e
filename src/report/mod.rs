//! What users receive: map layers, tables, the HTML report.

pub mod html;
pub mod layers;
pub mod svg;
pub mod table;
pub mod xlsx;
