//! UDP connection requests (TR-069 Annex G, from TR-111 Part 2): the message check and replay
//! window (pure), the simulated NAT that decides when a device's binding changes (pure), and
//! the shared listener (I/O).

pub mod keepalive;
pub mod listener;
pub mod message;
pub mod nat;
pub mod replay;
pub mod stats;

pub use keepalive::{BindingSink, KeepAliveConfig};
pub use listener::{serve, StunReceived, UdpCrConfig, UdpEndpoint, UdpRouter};
pub use message::{UdpCr, UdpCrReject};
pub use nat::{NatEvent, NatModel, NatSpec};
pub use replay::ReplayWindow;
pub use stats::UdpStats;

#[cfg(test)]
mod tests;
