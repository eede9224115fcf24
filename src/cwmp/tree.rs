//! A compact, namespace-resolved element tree built from one envelope: the decoder's first pass.
//!
//! Building a small arena first (one Vec of nodes, names in one byte buffer, texts borrowed from
//! the input when no entity needs expanding) keeps the second pass simple (look-ups by local
//! name, in any order, with the element path at hand for errors) without a DOM library. Hostile
//! input is bounded here: nesting depth and element count.
//!
//! Namespaces are resolved here rather than by quick-xml's `NsReader`: each `xmlns`
//! declaration is classified once, where it is declared, and element and `xsi:type` prefixes
//! are resolved in the one pass over an element's attributes that reads `xsi:type` anyway.
//! `NsReader` scanned every element's attributes a second time and its callers compared the
//! namespace URI of every element; on the null ACS that was about a third of decoding an
//! Inform (BENCHMARKS.md, figure 2).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::error::DecodeError;
use super::version::CwmpVersion;

pub const NS_SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_SOAP_ENC: &str = "http://schemas.xmlsoap.org/soap/encoding/";
pub const NS_XSD: &str = "http://www.w3.org/2001/XMLSchema";
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Deepest element nesting accepted. CWMP needs 7 (Envelope/Body/SPA/ParameterList/Struct/AccessList/string).
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one envelope (a 100k-item ParameterValueStruct array needs ~300k).
pub const MAX_ELEMENTS: usize = 1 << 20;
/// Most namespace declarations in scope at once. Real envelopes have under ten; each prefix
/// look-up searches them all, so without a bound one hostile envelope could cost
/// declarations × elements comparisons.
pub const MAX_NS_DECLS: usize = 256;

pub type NodeId = u32;
const NONE: NodeId = u32::MAX;

/// The namespace of an element, classified once while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// No namespace (unqualified, as CWMP argument elements are).
    None,
    SoapEnv,
    Cwmp(CwmpVersion),
    /// A `urn:dslforum-org:cwmp-*` URI that is not a known version.
    CwmpUnknown,
    /// Any other namespace, or an undeclared prefix (tolerated).
    Other,
}

/// The `xsi:type` of an element, when it has one, classified once while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XsiType {
    None,
    /// The local part of the value (prefix dropped), stored in the name arena.
    Named {
        start: u32,
        len: u16,
    },
}

#[derive(Debug)]
pub struct Node<'a> {
    pub ns: Ns,
    name_start: u32,
    name_len: u16,
    pub xsi: XsiType,
    pub text: Cow<'a, str>,
    pub parent: NodeId,
    first_child: NodeId,
    last_child: NodeId,
    next_sibling: NodeId,
}

/// The parsed envelope. Node 0 is the root element.
#[derive(Debug)]
pub struct Tree<'a> {
    nodes: Vec<Node<'a>>,
    names: Vec<u8>,
    /// The first unknown cwmp-like namespace URI seen, for the error message.
    pub unknown_cwmp_ns: Option<String>,
}

/// Classifies a namespace URI bound by a declaration; the empty URI un-binds (`xmlns=""`).
fn classify(uri: &[u8]) -> Ns {
    if uri.is_empty() {
        Ns::None
    } else if uri == NS_SOAP_ENV.as_bytes() {
        Ns::SoapEnv
    } else if let Some(v) = CwmpVersion::from_namespace(uri) {
        Ns::Cwmp(v)
    } else if uri.starts_with(b"urn:dslforum-org:cwmp-") {
        Ns::CwmpUnknown
    } else {
        Ns::Other
    }
}

/// One `xmlns` or `xmlns:p` declaration in scope.
struct Decl {
    /// The prefix in `Scope::prefixes`; empty for the default namespace.
    prefix_start: u32,
    prefix_len: u16,
    /// Nesting depth of the declaring element: in scope for it and its descendants.
    depth: u32,
    ns: Ns,
    xsi: bool,
    /// The URI, kept only when it looks like CWMP but is no known version (for the error).
    unknown_cwmp: Option<Box<str>>,
}

/// The namespace declarations in scope, innermost last. A CWMP envelope declares a handful,
/// on its root element, so a linear search from the back is the fastest look-up.
#[derive(Default)]
struct Scope {
    decls: Vec<Decl>,
    prefixes: Vec<u8>,
}

impl Scope {
    fn declare(&mut self, prefix: &[u8], uri: &[u8], depth: u32) {
        let prefix_start = self.prefixes.len() as u32;
        let prefix_len = prefix.len().min(usize::from(u16::MAX));
        self.prefixes
            .extend_from_slice(prefix.get(..prefix_len).unwrap_or_default());
        let ns = classify(uri);
        self.decls.push(Decl {
            prefix_start,
            prefix_len: prefix_len as u16,
            depth,
            ns,
            xsi: uri == NS_XSI.as_bytes(),
            unknown_cwmp: (ns == Ns::CwmpUnknown).then(|| String::from_utf8_lossy(uri).into()),
        });
    }

    fn find(&self, prefix: &[u8]) -> Option<&Decl> {
        self.decls.iter().rev().find(|d| {
            let start = d.prefix_start as usize;
            self.prefixes.get(start..start + usize::from(d.prefix_len)) == Some(prefix)
        })
    }

    /// The namespace of an element named with `prefix` (empty: unprefixed, which takes the
    /// default namespace). An undeclared prefix is tolerated as some other namespace.
    fn element_ns(&self, prefix: &[u8]) -> (Ns, Option<&str>) {
        match self.find(prefix) {
            Some(d) => (d.ns, d.unknown_cwmp.as_deref()),
            None if prefix.is_empty() => (Ns::None, None),
            // `xml:` is bound by definition; neither it nor an undeclared prefix is CWMP.
            None => (Ns::Other, None),
        }
    }

    /// True when an attribute prefix names the XML Schema instance namespace (unprefixed
    /// attributes have no namespace).
    fn is_xsi(&self, prefix: &[u8]) -> bool {
        !prefix.is_empty() && self.find(prefix).is_some_and(|d| d.xsi)
    }

    /// Drops the declarations made by the element at `depth` and below: it has ended.
    fn leave(&mut self, depth: u32) {
        let keep = self
            .decls
            .iter()
            .rposition(|d| d.depth < depth)
            .map_or(0, |i| i + 1);
        if let Some(d) = self.decls.get(keep) {
            self.prefixes.truncate(d.prefix_start as usize);
        }
        self.decls.truncate(keep);
    }
}

/// Splits `p:local` into (`p`, `local`); an unprefixed name has an empty prefix.
fn split_qname(name: &[u8]) -> (&[u8], &[u8]) {
    match name.iter().position(|&c| c == b':') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => (&[], name),
    }
}

fn xml_error(path: String, offset: u64, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Xml {
        path,
        offset,
        message: e.to_string(),
    }
}

impl<'a> Tree<'a> {
    /// Parses `xml` into a tree. Errors: not well-formed, no root element, text or a second
    /// element after the root, limits exceeded.
    pub fn parse(xml: &'a [u8]) -> Result<Tree<'a>, DecodeError> {
        let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
        if xml.iter().all(u8::is_ascii_whitespace) {
            return Err(DecodeError::Empty);
        }
        let mut reader = Reader::from_reader(xml);
        let mut scope = Scope::default();
        let mut tree = Tree {
            nodes: Vec::with_capacity((xml.len() / 48).clamp(8, 4096)),
            names: Vec::with_capacity((xml.len() / 8).clamp(64, 16384)),
            unknown_cwmp_ns: None,
        };
        let mut stack: Vec<NodeId> = Vec::with_capacity(16);
        loop {
            let event = match reader.read_event() {
                Ok(x) => x,
                Err(e) => {
                    let path = stack.last().map_or_else(String::new, |&n| tree.path(n));
                    return Err(xml_error(path, reader.error_position(), e));
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    tree.start_element(e, empty, &mut scope, &mut stack, &reader)?;
                }
                Event::End(_) => {
                    stack.pop();
                    scope.leave(stack.len() as u32);
                }
                Event::Text(t) => {
                    if let Some(&top) = stack.last() {
                        let s = t
                            .unescape()
                            .map_err(|e| xml_error(tree.path(top), reader.buffer_position(), e))?;
                        tree.append_text(top, s);
                    } else if !t.iter().all(u8::is_ascii_whitespace) {
                        return Err(DecodeError::Envelope {
                            path: String::new(),
                            reason: "text outside the root element: not an XML document",
                        });
                    }
                }
                Event::CData(c) => {
                    if let Some(&top) = stack.last() {
                        let s = c
                            .decode()
                            .map_err(|e| xml_error(tree.path(top), reader.buffer_position(), e))?;
                        tree.append_text(top, s);
                    }
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if let Some(&open) = stack.last() {
            return Err(xml_error(
                tree.path(open),
                reader.buffer_position(),
                "document ends inside an element",
            ));
        }
        if tree.nodes.is_empty() {
            return Err(DecodeError::Envelope {
                path: String::new(),
                reason: "no root element",
            });
        }
        Ok(tree)
    }

    /// A start (or empty, `empty`) tag: appends its node under the top of `stack`, with its
    /// namespace and `xsi:type`, and opens it unless it is empty.
    fn start_element(
        &mut self,
        e: &BytesStart<'_>,
        empty: bool,
        scope: &mut Scope,
        stack: &mut Vec<NodeId>,
        reader: &Reader<&[u8]>,
    ) -> Result<(), DecodeError> {
        let parent = stack.last().copied().unwrap_or(NONE);
        self.check_room(parent, stack.len())?;
        let depth = stack.len() as u32;
        let (prefix, local) = split_qname(e.name().into_inner());
        let id = self.push(parent, Ns::Other, local);
        let xsi_type = self
            .attributes(e, scope, depth)
            .map_err(|err| xml_error(self.path(id), reader.buffer_position(), err))?;
        if scope.decls.len() > MAX_NS_DECLS {
            return Err(DecodeError::Limit {
                path: self.path(id),
                what: "too many namespace declarations",
            });
        }
        // The element's own declarations are in scope for its name.
        let (ns, unknown_uri) = scope.element_ns(prefix);
        if let (Some(uri), None) = (unknown_uri, &self.unknown_cwmp_ns) {
            self.unknown_cwmp_ns = Some(uri.to_string());
        }
        if let Some(node) = self.nodes.last_mut() {
            node.ns = ns;
        }
        if let Some(v) = xsi_type {
            self.set_last_xsi_type(&v);
        }
        if empty {
            scope.leave(depth);
        } else {
            stack.push(id);
        }
        Ok(())
    }

    /// A new element under `parent` (with `open` elements open) must be the only root and stay
    /// within the depth and element limits.
    fn check_room(&self, parent: NodeId, open: usize) -> Result<(), DecodeError> {
        if parent == NONE && !self.nodes.is_empty() {
            return Err(DecodeError::Envelope {
                path: self.path(0),
                reason: "a second element follows the root element",
            });
        }
        if open >= MAX_DEPTH {
            return Err(DecodeError::Limit {
                path: self.path(parent),
                what: "element nesting too deep",
            });
        }
        if self.nodes.len() >= MAX_ELEMENTS {
            return Err(DecodeError::Limit {
                path: self.path(parent),
                what: "too many elements",
            });
        }
        Ok(())
    }

    /// Records the local part of the raw `xsi:type` value `v` on the last node pushed.
    fn set_last_xsi_type(&mut self, v: &[u8]) {
        let v = v.trim_ascii();
        let (_, local) = split_qname(v);
        let start = self.names.len();
        let len = local.len().min(usize::from(u16::MAX));
        self.names
            .extend_from_slice(local.get(..len).unwrap_or_default());
        if let Some(node) = self.nodes.last_mut() {
            node.xsi = XsiType::Named {
                start: start as u32,
                len: len as u16,
            };
        }
    }

    /// One pass over an element's attributes: declares its namespaces (in `scope`, at `depth`)
    /// and returns the raw value of its `xsi:type`, if any. A `p:type` attribute is resolved
    /// after the pass, since the declaration of `p` may follow it on the same element.
    fn attributes<'e>(
        &mut self,
        e: &'e BytesStart<'_>,
        scope: &mut Scope,
        depth: u32,
    ) -> Result<Option<Cow<'e, [u8]>>, quick_xml::events::attributes::AttrError> {
        let mut typed: Option<(&'e [u8], Cow<'e, [u8]>)> = None;
        let mut more_typed = false;
        for attr in e.attributes() {
            let attr = attr?;
            let (p, l) = split_qname(attr.key.into_inner());
            if p == b"xmlns" {
                scope.declare(l, &attr.value, depth);
            } else if p.is_empty() && l == b"xmlns" {
                scope.declare(b"", &attr.value, depth);
            } else if l == b"type" && !p.is_empty() {
                more_typed |= typed.is_some();
                typed.get_or_insert((p, attr.value));
            }
        }
        if more_typed {
            // Several prefixed `type`s (never seen in CWMP): the first in the xsi namespace.
            return Ok(e.attributes().with_checks(false).flatten().find_map(|a| {
                let (p, l) = split_qname(a.key.into_inner());
                (l == b"type" && scope.is_xsi(p)).then_some(a.value)
            }));
        }
        Ok(typed.and_then(|(p, v)| scope.is_xsi(p).then_some(v)))
    }

    fn push(&mut self, parent: NodeId, ns: Ns, local: &[u8]) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let name_start = self.names.len() as u32;
        let name_len = local.len().min(usize::from(u16::MAX));
        self.names
            .extend_from_slice(local.get(..name_len).unwrap_or_default());
        self.nodes.push(Node {
            ns,
            name_start,
            name_len: name_len as u16,
            xsi: XsiType::None,
            text: Cow::Borrowed(""),
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            let prev_last = p.last_child;
            p.last_child = id;
            if prev_last == NONE {
                p.first_child = id;
            } else if let Some(prev) = self.nodes.get_mut(prev_last as usize) {
                prev.next_sibling = id;
            }
        }
        id
    }

    fn append_text(&mut self, id: NodeId, s: Cow<'a, str>) {
        if let Some(node) = self.nodes.get_mut(id as usize) {
            if node.text.is_empty() {
                node.text = s;
            } else {
                node.text.to_mut().push_str(&s);
            }
        }
    }

    pub fn root(&self) -> NodeId {
        0
    }

    fn node(&self, id: NodeId) -> Option<&Node<'a>> {
        self.nodes.get(id as usize)
    }

    pub fn ns(&self, id: NodeId) -> Ns {
        self.node(id).map_or(Ns::Other, |n| n.ns)
    }

    /// The local name as bytes (any prefix removed).
    pub fn local(&self, id: NodeId) -> &[u8] {
        self.node(id)
            .and_then(|n| {
                self.names
                    .get(n.name_start as usize..n.name_start as usize + usize::from(n.name_len))
            })
            .unwrap_or_default()
    }

    /// The local name of the element's `xsi:type` value, if any.
    pub fn xsi_local(&self, id: NodeId) -> Option<&[u8]> {
        match self.node(id)?.xsi {
            XsiType::None => None,
            XsiType::Named { start, len } => self
                .names
                .get(start as usize..start as usize + usize::from(len)),
        }
    }

    /// All character data directly inside the element, entities expanded, untrimmed.
    pub fn text(&self, id: NodeId) -> &str {
        self.node(id).map_or("", |n| &n.text)
    }

    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            tree: self,
            next: self.node(id).map_or(NONE, |n| n.first_child),
        }
    }

    /// The first child element with this local name, in any namespace (CWMP argument elements
    /// are unqualified, but some agents qualify them).
    pub fn child(&self, id: NodeId, local: &str) -> Option<NodeId> {
        self.children(id)
            .find(|&c| self.local(c) == local.as_bytes())
    }

    /// "Envelope/Body/GetParameterNames/NextLevel": local names from the root down.
    pub fn path(&self, id: NodeId) -> String {
        let mut ids = Vec::with_capacity(8);
        let mut cur = id;
        while let Some(n) = self.node(cur) {
            ids.push(cur);
            if ids.len() > MAX_DEPTH {
                break;
            }
            cur = n.parent;
        }
        let mut s = String::with_capacity(ids.len() * 12);
        for (i, &n) in ids.iter().rev().enumerate() {
            if i > 0 {
                s.push('/');
            }
            s.push_str(&String::from_utf8_lossy(self.local(n)));
        }
        s
    }

    /// The path of a child that is absent.
    pub fn child_path(&self, id: NodeId, local: &str) -> String {
        let mut p = self.path(id);
        p.push('/');
        p.push_str(local);
        p
    }
}

pub struct Children<'t, 'a> {
    tree: &'t Tree<'a>,
    next: NodeId,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next;
        let n = self.tree.node(cur)?;
        self.next = n.next_sibling;
        Some(cur)
    }
}

#[cfg(test)]
mod tests;
