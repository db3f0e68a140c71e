pub mod error;
pub mod geodesy;
pub mod io;
pub mod zone;
pub use error::{Error, Result};
