//! A compact, namespace-resolved element tree built from one envelope: the decoder's first pass.
//!
//! Building a small arena first (one Vec of nodes, names in one byte buffer, texts borrowed from
//! the input when no entity needs expanding) keeps the second pass simple (look-ups by local
//! name, in any order, with the element path at hand for errors) without a DOM library. Hostile
//! input is bounded here: nesting depth and element count.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

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

fn classify(res: &ResolveResult<'_>) -> Ns {
    match res {
        ResolveResult::Unbound => Ns::None,
        ResolveResult::Unknown(_) => Ns::Other,
        ResolveResult::Bound(ns) => {
            let uri = ns.as_ref();
            if uri == NS_SOAP_ENV.as_bytes() {
                Ns::SoapEnv
            } else if let Some(v) = CwmpVersion::from_namespace(uri) {
                Ns::Cwmp(v)
            } else if uri.starts_with(b"urn:dslforum-org:cwmp-") {
                Ns::CwmpUnknown
            } else {
                Ns::Other
            }
        }
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
        let mut reader = NsReader::from_reader(xml);
        let mut tree = Tree {
            nodes: Vec::with_capacity((xml.len() / 48).clamp(8, 4096)),
            names: Vec::with_capacity((xml.len() / 8).clamp(64, 16384)),
            unknown_cwmp_ns: None,
        };
        let mut stack: Vec<NodeId> = Vec::with_capacity(16);
        loop {
            let (res, event) = match reader.read_resolved_event() {
                Ok(x) => x,
                Err(e) => {
                    let path = stack.last().map_or_else(String::new, |&n| tree.path(n));
                    return Err(xml_error(path, reader.error_position(), e));
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let parent = stack.last().copied().unwrap_or(NONE);
                    if parent == NONE && !tree.nodes.is_empty() {
                        return Err(DecodeError::Envelope {
                            path: tree.path(0),
                            reason: "a second element follows the root element",
                        });
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(DecodeError::Limit {
                            path: tree.path(parent),
                            what: "element nesting too deep",
                        });
                    }
                    if tree.nodes.len() >= MAX_ELEMENTS {
                        return Err(DecodeError::Limit {
                            path: tree.path(parent),
                            what: "too many elements",
                        });
                    }
                    let ns = classify(&res);
                    if ns == Ns::CwmpUnknown && tree.unknown_cwmp_ns.is_none() {
                        if let ResolveResult::Bound(n) = &res {
                            tree.unknown_cwmp_ns =
                                Some(String::from_utf8_lossy(n.as_ref()).into_owned());
                        }
                    }
                    let id = tree.push(parent, ns, e.local_name().as_ref());
                    for attr in e.attributes() {
                        let attr = attr.map_err(|err| {
                            xml_error(tree.path(id), reader.buffer_position(), err)
                        })?;
                        let (ans, local) = reader.resolve_attribute(attr.key);
                        let is_xsi = matches!(ans, ResolveResult::Bound(n) if n.as_ref() == NS_XSI.as_bytes());
                        if is_xsi && local.as_ref() == b"type" {
                            let v = attr.value.as_ref().trim_ascii();
                            let local = v.rsplit(|&c| c == b':').next().unwrap_or(v);
                            let start = tree.names.len();
                            let len = local.len().min(usize::from(u16::MAX));
                            tree.names
                                .extend_from_slice(local.get(..len).unwrap_or_default());
                            if let Some(node) = tree.nodes.last_mut() {
                                node.xsi = XsiType::Named {
                                    start: start as u32,
                                    len: len as u16,
                                };
                            }
                        }
                    }
                    if !empty {
                        stack.push(id);
                    }
                }
                Event::End(_) => {
                    stack.pop();
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
mod tests {
    use super::*;

    #[test]
    fn builds_namespace_resolved_tree() {
        let xml = br#"<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-1" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">
          <e:Body><c:X><A x:type="xsd:int">1 &amp; 2</A><B/><A>second<![CDATA[<raw>]]></A></c:X></e:Body></e:Envelope>"#;
        let t = Tree::parse(xml).expect("parses");
        assert_eq!(t.ns(0), Ns::SoapEnv);
        let body = t.child(0, "Body").expect("body");
        let x = t.children(body).next().expect("rpc");
        assert_eq!(t.ns(x), Ns::Cwmp(CwmpVersion::V1_1));
        let kids: Vec<_> = t.children(x).collect();
        assert_eq!(kids.len(), 3);
        assert_eq!(t.text(kids[0]), "1 & 2");
        assert_eq!(t.xsi_local(kids[0]), Some(&b"int"[..]));
        assert_eq!(t.ns(kids[1]), Ns::None);
        assert_eq!(t.text(kids[2]), "second<raw>");
        assert_eq!(t.path(kids[1]), "Envelope/Body/X/B");
    }

    #[test]
    fn rejects_hostile_and_broken_input() {
        assert_eq!(Tree::parse(b"  \r\n").err(), Some(DecodeError::Empty));
        assert_eq!(
            Tree::parse(b"Invalid session").err().map(|e| e.label()),
            Some("decode_envelope")
        );
        assert_eq!(
            Tree::parse(b"<a><b></a>").err().map(|e| e.label()),
            Some("decode_xml")
        );
        assert_eq!(
            Tree::parse(b"<a><b>").err().map(|e| e.label()),
            Some("decode_xml")
        );
        assert_eq!(
            Tree::parse(b"<a/><b/>").err().map(|e| e.label()),
            Some("decode_envelope")
        );
        assert_eq!(
            Tree::parse(b"<a>&bogus;</a>").err().map(|e| e.label()),
            Some("decode_xml")
        );
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            Tree::parse(deep.as_bytes()).err().map(|e| e.label()),
            Some("decode_limit")
        );
    }
}
