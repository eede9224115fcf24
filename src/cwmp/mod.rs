//! The CWMP SOAP codec: bytes in, typed messages out, and back. Pure, no I/O.
//!
//! - [`decode_acs`] reads what an ACS sends (CPE side), [`decode_cpe`] what a CPE sends (ACS side).
//! - [`encode_cpe`] / [`encode_acs`] append an envelope to a reused buffer.
//!
//! Decoding matches namespace URI + local name, never prefixes, and is lenient where real ACSs
//! vary (prefixes, whitespace, missing optional headers, boolean spellings, GenieACS's
//! `soap-env:Body:Fault`) but strict where values matter (numbers, required elements).

pub mod decode;
pub mod encode;
pub mod envelope;
pub mod error;
pub mod fault;
pub mod message;
pub mod methods;
pub mod rpc;
pub mod sample;
pub mod time;
mod tree;
pub mod value;
pub mod version;

pub use decode::{decode_acs, decode_cpe, MAX_ARRAY_ITEMS};
pub use encode::{encode_acs, encode_cpe, encode_cpe_parts};
pub use envelope::{Envelope, Header};
pub use error::DecodeError;
pub use fault::{Fault, SetParameterValuesFault};
pub use message::{AcsMessage, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse};
pub use rpc::*;
pub use time::DateTime;
pub use value::XsdType;
pub use version::CwmpVersion;
