//! How a connection request reached a device: the one label every transport-aware count, report
//! section and metric uses (`connection_requests` grouped by transport in the reports).
//!
//! Here, in the lowest layer that receives connection requests, so the listeners (`cr`), the
//! embedded ACS that sends them, the metrics and the reports all name the same three values.

/// TR-069 §3.2.2 (HTTP), Annex G (UDP via STUN, from TR-111 Part 2), Annex K (XMPP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum CrTransport {
    #[default]
    Http,
    Udp,
    Xmpp,
}

impl CrTransport {
    pub const ALL: [CrTransport; 3] = [CrTransport::Http, CrTransport::Udp, CrTransport::Xmpp];

    /// The fixed metric label and report key.
    pub fn label(self) -> &'static str {
        match self {
            CrTransport::Http => "http",
            CrTransport::Udp => "udp",
            CrTransport::Xmpp => "xmpp",
        }
    }

    /// Position in [`CrTransport::ALL`], for fixed-size per-transport arrays.
    pub fn slot(self) -> usize {
        self as usize
    }

    /// Parses a scenario or NBI value (`http`, `udp`, `xmpp`, any case).
    pub fn parse(s: &str) -> Option<CrTransport> {
        CrTransport::ALL
            .into_iter()
            .find(|t| t.label().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for CrTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_slots_index_all() {
        for (i, t) in CrTransport::ALL.into_iter().enumerate() {
            assert_eq!(CrTransport::parse(t.label()), Some(t));
            assert_eq!(t.slot(), i);
        }
        assert_eq!(CrTransport::parse(" UDP "), Some(CrTransport::Udp));
        assert_eq!(CrTransport::parse("sms"), None);
    }
}
