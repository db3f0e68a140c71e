//! Rules that turn distances into decisions, each with a reason code.
//!
//! - [`tax_regime`]: eligibility for the border-zone special tax regime;
//! - [`hubs`]: ranking of logistics hub candidates toward China.

pub mod hubs;
pub mod tax_regime;
