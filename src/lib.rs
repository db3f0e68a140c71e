pub mod error;
pub mod geodesy;
pub use error::{Error, Result};
pub mod network;
