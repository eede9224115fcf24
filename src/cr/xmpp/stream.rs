//! An incremental XMPP stream reader (RFC 6120 §4): bytes in as they arrive, the stream
//! header, whole first-level elements (stanzas, features, SASL) and the stream's end out.
//!
//! Pure and bounded: the buffer never holds more than one stanza's limit, elements nest at
//! most [`Limits::max_depth`] deep, and anything XMPP's restricted XML forbids (RFC 6120
//! §11.1: no DTD, no comments, no processing instructions) ends the stream with an error
//! rather than a panic. Each complete stanza is located first (a pass that only counts
//! depth), then built from exactly its bytes, so a partial token at the end of the buffer is
//! simply "wait for more".

use quick_xml::errors::{Error as QxError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::element::Element;
use super::error::XmppError;

/// How much one peer may make us hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of one first-level element (RFC 6120 §13.12 asks servers for at least 10,000).
    pub max_stanza: usize,
    /// Element depth inside a stanza.
    pub max_depth: usize,
    /// Attributes of one element.
    pub max_attrs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stanza: 64 * 1024,
            max_depth: 16,
            max_attrs: 32,
        }
    }
}

/// What the reader produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// `<stream:stream …>`: its attributes (`id`, `from`, `to`, `version`, `xmlns`…).
    Open(Vec<(String, String)>),
    /// A complete first-level element.
    Stanza(Element),
    /// `</stream:stream>`.
    Close,
}

/// The reader: feed bytes, then take events until it says `None`.
#[derive(Debug, Default)]
pub struct StreamReader {
    buf: Vec<u8>,
    limits: Limits,
    opened: bool,
    closed: bool,
}

/// Where a scan of the buffer ended.
enum Scan {
    /// Need more bytes.
    Partial,
    /// Whitespace or the XML declaration to drop, this many bytes.
    Skip(usize),
    Open(usize, Vec<(String, String)>),
    /// A first-level element occupies `start..end`.
    Stanza(usize, usize),
    Close(usize),
}

impl StreamReader {
    pub fn new(limits: Limits) -> Self {
        StreamReader {
            limits,
            ..StreamReader::default()
        }
    }

    /// Starts over for a new stream on the same connection (after SASL success, RFC 6120
    /// §6.4.6): whatever followed the old stream's last element is kept.
    pub fn restart(&mut self) {
        self.opened = false;
        self.closed = false;
    }

    /// Appends received bytes; too many buffered without a complete element is an error.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), XmppError> {
        // A header and one stanza may sit in the buffer together.
        if self.buf.len() + bytes.len() > self.limits.max_stanza + 4096 {
            return Err(XmppError::TooLarge);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Bytes buffered and not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next event, `Ok(None)` when more bytes are needed.
    pub fn next_event(&mut self) -> Result<Option<StreamEvent>, XmppError> {
        loop {
            if self.closed {
                return Ok(None);
            }
            let scan = scan(&self.buf, self.opened, &self.limits)?;
            match scan {
                Scan::Partial => {
                    if self.buf.len() > self.limits.max_stanza {
                        return Err(XmppError::TooLarge);
                    }
                    return Ok(None);
                }
                Scan::Skip(n) => {
                    self.buf.drain(..n);
                }
                Scan::Open(n, attrs) => {
                    self.buf.drain(..n);
                    self.opened = true;
                    return Ok(Some(StreamEvent::Open(attrs)));
                }
                Scan::Close(n) => {
                    self.buf.drain(..n);
                    self.closed = true;
                    return Ok(Some(StreamEvent::Close));
                }
                Scan::Stanza(start, end) => {
                    let el = build(&self.buf[start..end], &self.limits)?;
                    self.buf.drain(..end);
                    return Ok(Some(StreamEvent::Stanza(el)));
                }
            }
        }
    }
}

/// Errors that only mean "the buffer ends inside a token".
fn is_eof(e: &QxError) -> bool {
    matches!(
        e,
        QxError::Syntax(
            SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPIOrXmlDecl
        )
    )
}

/// `check_end` is off while scanning: the stream's closing tag has no opening tag in the
/// scanned bytes; the build pass checks every stanza's names.
fn reader(buf: &[u8], check_end: bool) -> Reader<&[u8]> {
    let mut r = Reader::from_reader(buf);
    let c = r.config_mut();
    c.check_end_names = check_end;
    c.expand_empty_elements = false;
    c.trim_text(false);
    r
}

fn pos(r: &Reader<&[u8]>) -> usize {
    usize::try_from(r.buffer_position()).unwrap_or(usize::MAX)
}

/// Finds the next unit in `buf` without building anything.
fn scan(buf: &[u8], opened: bool, limits: &Limits) -> Result<Scan, XmppError> {
    if opened && buf.starts_with(b"</") {
        return close_tag(buf);
    }
    let mut r = reader(buf, false);
    let mut depth = 0usize;
    let mut start = 0usize;
    loop {
        let before = pos(&r);
        let ev = match r.read_event() {
            Ok(ev) => ev,
            Err(e) if is_eof(&e) => return Ok(Scan::Partial),
            Err(_) => return Err(XmppError::Malformed),
        };
        match ev {
            Event::Eof => return Ok(Scan::Partial),
            Event::Decl(_) if !opened && depth == 0 => return Ok(Scan::Skip(pos(&r))),
            Event::Text(t) if depth == 0 => {
                // Whitespace between stanzas (keep-alives, RFC 6120 §4.6.1); any other text at
                // the top level is not XML XMPP allows.
                if t.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Scan::Skip(pos(&r)));
                }
                return Err(XmppError::Malformed);
            }
            Event::Start(s) if !opened => {
                return open_header(&s, pos(&r));
            }
            Event::Empty(_) | Event::End(_) if !opened => return Err(XmppError::Malformed),
            Event::Start(_) => {
                if depth == 0 {
                    start = before;
                }
                depth += 1;
                if depth > limits.max_depth {
                    return Err(XmppError::TooDeep);
                }
            }
            Event::Empty(_) if depth == 0 => return Ok(Scan::Stanza(before, pos(&r))),
            Event::End(_) if depth == 0 => return Err(XmppError::Malformed),
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return Ok(Scan::Stanza(start, pos(&r)));
                }
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) | Event::Decl(_) => {
                return Err(XmppError::RestrictedXml)
            }
            Event::Empty(_) | Event::Text(_) | Event::CData(_) => {}
        }
        if pos(&r) > limits.max_stanza + 4096 {
            return Err(XmppError::TooLarge);
        }
    }
}

/// The stream's end, read by hand: a reader that never saw its opening tag refuses it.
fn close_tag(buf: &[u8]) -> Result<Scan, XmppError> {
    const TAG: &[u8] = b"</stream:stream";
    let n = buf.len().min(TAG.len());
    if buf[..n] != TAG[..n] {
        return Err(XmppError::Malformed);
    }
    let rest = &buf[n..];
    let spaces = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    match rest.get(spaces) {
        _ if n < TAG.len() => Ok(Scan::Partial),
        Some(b'>') => Ok(Scan::Close(n + spaces + 1)),
        None if spaces < 64 => Ok(Scan::Partial),
        _ => Err(XmppError::Malformed),
    }
}

fn open_header(s: &BytesStart<'_>, end: usize) -> Result<Scan, XmppError> {
    let name = s.name();
    if name.local_name().as_ref() != b"stream" {
        return Err(XmppError::Malformed);
    }
    let attrs = attributes(s, 32)?;
    Ok(Scan::Open(end, attrs))
}

pub(super) fn attributes(
    s: &BytesStart<'_>,
    max: usize,
) -> Result<Vec<(String, String)>, XmppError> {
    let mut out = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|_| XmppError::Malformed)?;
        if out.len() == max {
            return Err(XmppError::TooLarge);
        }
        let key = std::str::from_utf8(a.key.as_ref()).map_err(|_| XmppError::Malformed)?;
        let value = a.unescape_value().map_err(|_| XmppError::Malformed)?;
        out.push((key.to_owned(), value.into_owned()));
    }
    Ok(out)
}

/// Builds the element held in exactly `bytes` (already known to be complete and balanced).
fn build(bytes: &[u8], limits: &Limits) -> Result<Element, XmppError> {
    let mut r = reader(bytes, true);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let ev = r.read_event().map_err(|_| XmppError::Malformed)?;
        match ev {
            Event::Start(s) => stack.push(Element::from_start(&s, stack.last(), limits)?),
            Event::Empty(s) => {
                let el = Element::from_start(&s, stack.last(), limits)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or(XmppError::Malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|_| XmppError::Malformed)?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::CData(c) => {
                let text = std::str::from_utf8(&c).map_err(|_| XmppError::Malformed)?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(text);
                }
            }
            Event::Eof => return Err(XmppError::Malformed),
            _ => return Err(XmppError::RestrictedXml),
        }
    }
}
