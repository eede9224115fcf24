//! One parsed XML element of an XMPP stream: its qualified name, its resolved namespace, its
//! attributes, its children and its text. Small on purpose: stanzas here are short (a
//! connection request, SASL, a bind), so a tree is simpler than streaming callbacks.

use quick_xml::events::BytesStart;

use super::error::XmppError;
use super::stream::{attributes, Limits};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// As written, prefix included (`stream:features`, `iq`).
    pub name: String,
    /// The namespace in scope: its own `xmlns`, else the parent's (None at a stanza's top
    /// without one: the stream's default, `jabber:client` or `jabber:component:accept`).
    pub ns: Option<String>,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub(super) fn from_start(
        s: &BytesStart<'_>,
        parent: Option<&Element>,
        limits: &Limits,
    ) -> Result<Element, XmppError> {
        let name = std::str::from_utf8(s.name().as_ref())
            .map_err(|_| XmppError::Malformed)?
            .to_owned();
        let attrs = attributes(s, limits.max_attrs)?;
        let prefix = name.split_once(':').map(|(p, _)| p);
        let own = match prefix {
            None => attr_in(&attrs, "xmlns"),
            Some(p) => attr_in(&attrs, &format!("xmlns:{p}")),
        };
        let ns = own
            .map(str::to_owned)
            .or_else(|| parent.and_then(|p| p.ns.clone()));
        Ok(Element {
            name,
            ns,
            attrs,
            children: Vec::new(),
            text: String::new(),
        })
    }

    /// The name without its prefix.
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn attr(&self, key: &str) -> Option<&str> {
        attr_in(&self.attrs, key)
    }

    /// The first child with this local name (and namespace, when given).
    pub fn child(&self, local: &str, ns: Option<&str>) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.local() == local && (ns.is_none() || c.ns.as_deref() == ns))
    }

    /// `true` when this is `local` in `ns`.
    pub fn is(&self, local: &str, ns: &str) -> bool {
        self.local() == local && self.ns.as_deref() == Some(ns)
    }
}

fn attr_in<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}
