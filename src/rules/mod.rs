//! Rules that turn distances into decisions, each with a reason code.
//!
//! - [`tax_regime`]: eligibility for the border-zone special tax regime;
//! - [`hubs`]: ranking of logistics hub candidates toward China;
//! - [`standards`]: regional standards of access to services (road km /
//!   minutes per category), shares of cities and rural settlements meeting
//!   them against the national targets.

pub mod hubs;
pub mod standards;
pub mod tax_regime;
