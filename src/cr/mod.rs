//! Connection requests (ACS → CPE): one shared HTTP listener for the fleet.
//! `handler` decides (pure), `listener` serves sockets; `xmpp` is the XMPP transport (TR-069
//! Annex K).

pub mod handler;
pub mod listener;
mod nonce;
pub mod stun;
pub mod transport;
pub mod udp;
mod wire;

pub use handler::{CrAuth, CrAuthenticator, CrDevice, CrResult};
pub use listener::{serve, CrConfig, CrRouter, CrStats};
pub use transport::CrTransport;
pub mod xmpp;
