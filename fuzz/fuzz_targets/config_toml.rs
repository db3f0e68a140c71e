#![no_main]
//! The batch configuration loader (TOML syntax, unknown keys, value checks).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = borderzone_fuzz::scratch(data, "toml");
    let _ = borderzone::config::Config::load(&p);
});
