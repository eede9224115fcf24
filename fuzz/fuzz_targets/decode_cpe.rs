//! The ACS side of the codec: any bytes a CPE may send. Never panics; whatever decodes
//! re-encodes to a message that decodes to the same bytes again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = cpefleet::cwmp::decode_cpe(data) {
        cpefleet_fuzz::cpe_round_trip(&env);
    }
});
