//! Connection requests (ACS → CPE): one shared HTTP listener for the fleet.
//! `handler` decides (pure), `listener` serves sockets.

pub mod handler;
pub mod listener;
mod nonce;

pub use handler::{CrAuth, CrAuthenticator, CrDevice, CrResult};
pub use listener::{serve, CrConfig, CrRouter, CrStats};
