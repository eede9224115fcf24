//! CWMP protocol versions and the namespace URI each one uses on the wire.

/// A CWMP protocol version. 1.3 and 1.4 reuse the `cwmp-1-2` namespace; they are told apart by
/// the Inform headers (`SessionTimeout`, `SupportedCWMPVersions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum CwmpVersion {
    #[default]
    V1_0,
    V1_1,
    V1_2,
    V1_3,
    V1_4,
}

/// Namespace URIs of the three schemas the BBF publishes.
pub const NS_CWMP_1_0: &str = "urn:dslforum-org:cwmp-1-0";
pub const NS_CWMP_1_1: &str = "urn:dslforum-org:cwmp-1-1";
pub const NS_CWMP_1_2: &str = "urn:dslforum-org:cwmp-1-2";
/// Never published by the BBF, but emitted by icwmp and accepted by GenieACS: tolerated on decode.
pub const NS_CWMP_1_3: &str = "urn:dslforum-org:cwmp-1-3";
/// Never published by the BBF (GenieACS rejects it); tolerated on decode.
pub const NS_CWMP_1_4: &str = "urn:dslforum-org:cwmp-1-4";

impl CwmpVersion {
    /// Every version, oldest first.
    pub const ALL: [CwmpVersion; 5] = [Self::V1_0, Self::V1_1, Self::V1_2, Self::V1_3, Self::V1_4];

    /// The namespace URI to encode with. 1.3 and 1.4 use the 1.2 namespace (there is no other).
    pub fn namespace(self) -> &'static str {
        match self {
            Self::V1_0 => NS_CWMP_1_0,
            Self::V1_1 => NS_CWMP_1_1,
            Self::V1_2 | Self::V1_3 | Self::V1_4 => NS_CWMP_1_2,
        }
    }

    /// Parses "1.0" .. "1.4".
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "1.0" => Some(Self::V1_0),
            "1.1" => Some(Self::V1_1),
            "1.2" => Some(Self::V1_2),
            "1.3" => Some(Self::V1_3),
            "1.4" => Some(Self::V1_4),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
            Self::V1_3 => "1.3",
            Self::V1_4 => "1.4",
        }
    }

    /// The version a cwmp namespace URI stands for before header inspection. Includes the
    /// non-standard `cwmp-1-3`/`cwmp-1-4` URIs that real agents emit.
    pub fn from_namespace(uri: &[u8]) -> Option<Self> {
        match uri {
            b"urn:dslforum-org:cwmp-1-0" => Some(Self::V1_0),
            b"urn:dslforum-org:cwmp-1-1" => Some(Self::V1_1),
            b"urn:dslforum-org:cwmp-1-2" => Some(Self::V1_2),
            b"urn:dslforum-org:cwmp-1-3" => Some(Self::V1_3),
            b"urn:dslforum-org:cwmp-1-4" => Some(Self::V1_4),
            _ => None,
        }
    }

    /// The comma-separated list a 1.4 CPE announces in `SupportedCWMPVersions`: every version up
    /// to and including this one.
    pub fn supported_list(self) -> &'static str {
        match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.0,1.1",
            Self::V1_2 => "1.0,1.1,1.2",
            Self::V1_3 => "1.0,1.1,1.2,1.3",
            Self::V1_4 => "1.0,1.1,1.2,1.3,1.4",
        }
    }
}

impl std::fmt::Display for CwmpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_follow_the_published_schemas() {
        assert_eq!(CwmpVersion::V1_0.namespace(), "urn:dslforum-org:cwmp-1-0");
        assert_eq!(CwmpVersion::V1_1.namespace(), "urn:dslforum-org:cwmp-1-1");
        for v in [CwmpVersion::V1_2, CwmpVersion::V1_3, CwmpVersion::V1_4] {
            assert_eq!(v.namespace(), "urn:dslforum-org:cwmp-1-2");
        }
    }

    #[test]
    fn parse_and_as_str_round_trip() {
        for v in CwmpVersion::ALL {
            assert_eq!(CwmpVersion::parse(v.as_str()), Some(v));
        }
        assert_eq!(CwmpVersion::parse("1.5"), None);
        assert_eq!(CwmpVersion::parse(""), None);
        assert_eq!(CwmpVersion::default(), CwmpVersion::V1_0);
        assert!(CwmpVersion::V1_0 < CwmpVersion::V1_4);
    }

    #[test]
    fn tolerated_namespaces() {
        assert_eq!(
            CwmpVersion::from_namespace(b"urn:dslforum-org:cwmp-1-3"),
            Some(CwmpVersion::V1_3)
        );
        assert_eq!(
            CwmpVersion::from_namespace(b"urn:dslforum-org:cwmp-1-4"),
            Some(CwmpVersion::V1_4)
        );
        assert_eq!(
            CwmpVersion::from_namespace(b"urn:dslforum-org:cwmp-2-0"),
            None
        );
    }
}
