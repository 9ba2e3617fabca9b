//! Any text as atlantis.yaml: read, or refused with file:line diagnostics; never a panic.
//! Uses `plangate::input::atlantis::parse(source, path)`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = plangate::input::atlantis::parse(text, Path::new("atlantis.yaml")) {
        let _ = e.to_string();
    }
});
