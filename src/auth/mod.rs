//! HTTP authentication, client and server side: Basic and Digest (MD5, MD5-sess, qop=auth);
//! and the HMAC-SHA1 that signs UDP connection requests and STUN messages.
//! Pure: no sockets, no clock, no randomness of its own.

pub mod basic;
pub mod challenge;
pub mod digest;
pub mod hmac;

pub use challenge::Challenge;
pub use digest::{DigestAuthorization, DigestChallenge, DigestError, DigestResponse};
