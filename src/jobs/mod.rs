//! End-to-end jobs that the CLI runs: each reads, indexes, measures, applies
//! rules and writes, and returns a summary for the terminal.

pub mod access;
pub mod run;
pub mod zone;
