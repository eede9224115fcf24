//! The seam between the scheduler and the network: what runs a checked-out device's session.
//! The fleet uses [`Network`] (a real CWMP session over HTTP); tests of the scheduler plug in a
//! runner without sockets, so the paused tokio clock can drive hours of schedule in
//! milliseconds and every decision of the shard is observable.

use std::future::Future;
use std::pin::Pin;

use crate::session::trace::Trace;
use crate::session::{self, SessionConfig, SessionReport};

use super::cpe::Cpe;

/// A boxed session future (one allocation per session; sessions are bounded).
pub type SessionFuture<'a> = Pin<Box<dyn Future<Output = SessionReport> + Send + 'a>>;

pub trait Runner: Send + Sync + 'static {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a>;
}

/// The real thing: a CWMP session with the ACS.
pub struct Network;

impl Runner for Network {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        Box::pin(session::run(cfg, cpe, trace))
    }
}
