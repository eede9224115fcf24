//! Decoding of CWMP envelopes (placeholder while the types settle).

use super::envelope::Envelope;
use super::error::DecodeError;
use super::message::{AcsMessage, CpeMessage};

pub fn decode_acs(_xml: &[u8]) -> Result<Envelope<AcsMessage>, DecodeError> {
    Err(DecodeError::Empty)
}

pub fn decode_cpe(_xml: &[u8]) -> Result<Envelope<CpeMessage>, DecodeError> {
    Err(DecodeError::Empty)
}
