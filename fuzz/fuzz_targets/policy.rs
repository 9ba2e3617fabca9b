//! Any text as a policy file: parsed and validated, or refused with diagnostics; never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use plangate::input::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Policy::parse(text, Path::new("plangate.yaml")) {
        let _ = e.to_string();
    }
});
