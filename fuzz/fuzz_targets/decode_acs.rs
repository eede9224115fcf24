//! The CPE side of the codec: any bytes an ACS may send. Never panics; whatever decodes
//! re-encodes to a message that decodes to the same bytes again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = cpefleet::cwmp::decode_acs(data) {
        cpefleet_fuzz::acs_round_trip(&env);
    }
});
