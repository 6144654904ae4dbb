#![no_main]
//! Arbitrary bytes read as `azure-cost` input (see `aispend_fuzz::check`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| aispend_fuzz::check("azure-cost", data));
