//! Jabber IDs (RFC 7622): `local@domain/resource`, compared as the connection-request check
//! needs (no stringprep: devices and the ACS use ASCII JIDs; the domain is case-folded).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jid {
    pub local: Option<String>,
    pub domain: String,
    pub resource: Option<String>,
}

impl Jid {
    pub fn parse(s: &str) -> Option<Jid> {
        let (bare, resource) = match s.split_once('/') {
            Some((b, r)) if !r.is_empty() => (b, Some(r.to_owned())),
            Some(_) => return None,
            None => (s, None),
        };
        let (local, domain) = match bare.split_once('@') {
            Some((l, d)) if !l.is_empty() => (Some(l.to_owned()), d),
            Some(_) => return None,
            None => (None, bare),
        };
        if domain.is_empty() || domain.len() > 1023 {
            return None;
        }
        Some(Jid {
            local,
            domain: domain.to_ascii_lowercase(),
            resource,
        })
    }

    /// Same account, any resource.
    pub fn bare_eq(&self, other: &Jid) -> bool {
        self.local == other.local && self.domain == other.domain
    }

    pub fn bare(&self) -> String {
        match &self.local {
            Some(l) => format!("{l}@{}", self.domain),
            None => self.domain.clone(),
        }
    }
}

impl std::fmt::Display for Jid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.bare())?;
        if let Some(r) = &self.resource {
            write!(f, "/{r}")?;
        }
        Ok(())
    }
}
