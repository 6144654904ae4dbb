#![no_main]
//! Arbitrary bytes read as `openai-costs` input (see `aispend_fuzz::check`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| aispend_fuzz::check("openai-costs", data));
