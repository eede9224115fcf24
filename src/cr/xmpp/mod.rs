//! XMPP connection requests (TR-069 Annex K). The pure core: a bounded incremental stream
//! reader, JIDs, SASL (PLAIN, SCRAM-SHA-1), the login state machines (client: RFC 6120;
//! external component: XEP-0114) and the connection-request decision. The I/O edge — one
//! client connection per device, or one component connection for a whole domain — builds on
//! it.

pub mod client;
pub mod component;
pub mod conn;
pub mod connreq;
pub mod element;
pub mod error;
pub mod handshake;
pub mod jid;
pub mod login;
pub mod sasl;
pub mod sender;
pub mod serve;
pub mod stats;
pub mod stream;

pub use connreq::{ConnReq, XmppCrResult};
pub use element::Element;
pub use error::XmppError;
pub use jid::Jid;
pub use login::{ClientLogin, ComponentLogin, Step};
pub use stats::XmppStats;
pub use stream::{Limits, StreamEvent, StreamReader};
