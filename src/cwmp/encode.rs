//! Encoding of CWMP envelopes (placeholder while the types settle).

use super::envelope::Envelope;
use super::message::{AcsMessage, CpeMessage};

pub fn encode_cpe(_env: &Envelope<CpeMessage>, _out: &mut Vec<u8>) {}

pub fn encode_acs(_env: &Envelope<AcsMessage>, _out: &mut Vec<u8>) {}
