//! Parameter paths: segments, the sort order of a device's tree, instance numbers and the
//! schema form (`Device.WiFi.SSID.{i}.SSID`) of a concrete path (`Device.WiFi.SSID.2.SSID`).
//!
//! Pure string work, no template knowledge. The sort order is segment-wise (instance numbers
//! numerically, parameters before child objects, an object before its descendants) so that the
//! subtree below any partial path is one contiguous range of a sorted table.

use std::cmp::Ordering;

/// Deepest table nesting a template may use. TR-181 2.17 nests five tables deep
/// (`Device.WiFi.DataElements.Network.Device.{i}.Radio.{i}.BSS.{i}.STA.{i}.….{i}.`).
pub const MAX_DEPTH: usize = 6;

/// The instance numbers of a concrete path, outermost first. Fixed size and `Copy` so that
/// per-device keys need no heap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Inst {
    len: u8,
    n: [u32; MAX_DEPTH],
}

impl Inst {
    pub const EMPTY: Inst = Inst {
        len: 0,
        n: [0; MAX_DEPTH],
    };

    pub fn from_slice(nums: &[u32]) -> Option<Inst> {
        let mut inst = Inst::EMPTY;
        for &v in nums {
            inst = inst.push(v)?;
        }
        Some(inst)
    }

    /// This path with one more (inner) instance number; None beyond [`MAX_DEPTH`].
    pub fn push(self, v: u32) -> Option<Inst> {
        let mut out = self;
        let slot = out.n.get_mut(usize::from(self.len))?;
        *slot = v;
        out.len += 1;
        Some(out)
    }

    pub fn as_slice(&self) -> &[u32] {
        self.n.get(..usize::from(self.len)).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first `len` numbers (the instance path of an enclosing table).
    pub fn truncate(self, len: usize) -> Inst {
        let mut out = self;
        out.len = out.len.min(u8::try_from(len).unwrap_or(u8::MAX));
        for v in out.n.iter_mut().skip(usize::from(out.len)) {
            *v = 0;
        }
        out
    }

    /// The innermost number, if any.
    pub fn last(&self) -> Option<u32> {
        self.as_slice().last().copied()
    }

    /// Whether `self` starts with all of `prefix`'s numbers.
    pub fn starts_with(&self, prefix: &Inst) -> bool {
        self.as_slice().starts_with(prefix.as_slice())
    }
}

impl std::fmt::Debug for Inst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// One segment of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// The last segment of a parameter path (`SSID` in `Device.WiFi.SSID.1.SSID`).
    Leaf(&'a str),
    /// An object name segment.
    Name(&'a str),
    /// An instance number.
    Index(u32),
    /// `{i}` in a schema path.
    Placeholder,
}

impl Seg<'_> {
    fn rank(&self) -> u8 {
        // Parameters first, then child objects, then instances: the order GetParameterNames
        // and GetParameterValues list an object's content in.
        match self {
            Seg::Leaf(_) => 0,
            Seg::Name(_) => 1,
            Seg::Placeholder => 2,
            Seg::Index(_) => 2,
        }
    }
}

/// The segments of a path. A partial path (ending in `.`) has only object segments; otherwise
/// the last one is a [`Seg::Leaf`]. Digit-only segments are instance numbers (saturating, so
/// a silly number still sorts after the sane ones rather than failing here).
pub fn segments(path: &str) -> impl Iterator<Item = Seg<'_>> + '_ {
    let partial = is_partial(path);
    let body = path.strip_suffix('.').unwrap_or(path);
    let mut parts = body.split('.').filter(move |_| !body.is_empty()).peekable();
    std::iter::from_fn(move || {
        let part = parts.next()?;
        let last = parts.peek().is_none();
        Some(if last && !partial {
            Seg::Leaf(part)
        } else if part == "{i}" {
            Seg::Placeholder
        } else if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            Seg::Index(part.parse::<u32>().unwrap_or(u32::MAX))
        } else {
            Seg::Name(part)
        })
    })
}

/// `""` (the whole tree) and anything ending in `.` name objects, not parameters.
pub fn is_partial(path: &str) -> bool {
    path.is_empty() || path.ends_with('.')
}

/// The order of a device's tree (see the module doc).
pub fn cmp_paths(a: &str, b: &str) -> Ordering {
    let mut sa = segments(a);
    let mut sb = segments(b);
    loop {
        match (sa.next(), sb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = x.rank().cmp(&y.rank()).then_with(|| match (x, y) {
                    (Seg::Leaf(p), Seg::Leaf(q)) | (Seg::Name(p), Seg::Name(q)) => p.cmp(q),
                    (Seg::Index(p), Seg::Index(q)) => p.cmp(&q),
                    (Seg::Placeholder, Seg::Index(_)) => Ordering::Less,
                    (Seg::Index(_), Seg::Placeholder) => Ordering::Greater,
                    _ => Ordering::Equal,
                });
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Number of object levels of a partial path (`Device.WiFi.` is 2, `""` is 0), or of the
/// object holding a parameter.
pub fn depth(path: &str) -> usize {
    let body = path.strip_suffix('.').unwrap_or(path);
    if body.is_empty() {
        return 0;
    }
    let dots = body.bytes().filter(|&b| b == b'.').count();
    if is_partial(path) {
        dots + 1
    } else {
        dots
    }
}

/// Whether `name` is a valid TR-106 node name (letter or `_` first, then letters, digits, `_`,
/// `-`).
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `seg` is a canonical instance number (1.., no leading zero).
pub fn parse_instance(seg: &str) -> Option<u32> {
    if seg.is_empty() || seg.starts_with('0') || !seg.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    seg.parse().ok()
}

/// The schema form of a concrete path (instance numbers replaced by `{i}`) and its instance
/// numbers. None if a segment is empty or an instance number is not canonical, or the path is
/// deeper than [`MAX_DEPTH`]. Names are not checked further: the caller looks the schema path
/// up, and an unknown one is unknown whatever its spelling.
pub fn to_schema(path: &str) -> Option<(String, Inst)> {
    let partial = is_partial(path);
    let body = path.strip_suffix('.').unwrap_or(path);
    if body.is_empty() {
        return Some((String::new(), Inst::EMPTY));
    }
    let mut out = String::with_capacity(path.len() + 8);
    let mut inst = Inst::EMPTY;
    let mut parts = body.split('.').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if part.is_empty() {
            return None;
        }
        if part.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            if last && !partial {
                return None;
            }
            inst = inst.push(parse_instance(part)?)?;
            out.push_str("{i}");
        } else {
            out.push_str(part);
        }
        if !last || partial {
            out.push('.');
        }
    }
    Some((out, inst))
}

/// The concrete form of a schema path for the given instance numbers (outermost first). Extra
/// `{i}` beyond the numbers given stay as they are.
pub fn to_concrete(schema: &str, inst: &Inst) -> String {
    let mut out = String::with_capacity(schema.len() + 8);
    let mut nums = inst.as_slice().iter();
    let mut rest = schema;
    while let Some(pos) = rest.find("{i}") {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        match nums.next() {
            Some(n) => {
                use std::fmt::Write;
                let _ = write!(out, "{n}");
            }
            None => out.push_str("{i}"),
        }
        rest = tail.get(3..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The partial path of the object holding a parameter (`Device.A.B` -> `Device.A.`), or the
/// parent object of an object (`Device.A.B.` -> `Device.A.`). `None` for a root.
pub fn parent(path: &str) -> Option<&str> {
    let body = path.strip_suffix('.').unwrap_or(path);
    let cut = body.rfind('.')?;
    path.get(..=cut)
}

/// The last segment (`SSID` of `Device.WiFi.SSID.{i}.SSID`, `SSID` of `Device.WiFi.SSID.`).
pub fn leaf(path: &str) -> &str {
    let body = path.strip_suffix('.').unwrap_or(path);
    body.rsplit('.').next().unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_order_is_segment_wise() {
        let mut v = vec![
            "Device.WiFi.SSID.10.SSID",
            "Device.WiFi.SSID.2.",
            "Device.WiFi.SSID.",
            "Device.WiFi.SSIDNumberOfEntries",
            "Device.WiFi.",
            "Device.WiFi.SSID.2.SSID",
            "Device.WiFi.SSID.10.",
            "Device.",
            "Device.WiFi.SSID.2.Enable",
            "Device.DeviceInfo.",
            "Device.RootDataModelVersion",
        ];
        v.sort_by(|a, b| cmp_paths(a, b));
        assert_eq!(
            v,
            vec![
                "Device.",
                "Device.RootDataModelVersion",
                "Device.DeviceInfo.",
                "Device.WiFi.",
                "Device.WiFi.SSIDNumberOfEntries",
                "Device.WiFi.SSID.",
                "Device.WiFi.SSID.2.",
                "Device.WiFi.SSID.2.Enable",
                "Device.WiFi.SSID.2.SSID",
                "Device.WiFi.SSID.10.",
                "Device.WiFi.SSID.10.SSID",
            ]
        );
    }

    #[test]
    fn schema_form_and_back() {
        let (s, inst) = to_schema("Device.IP.Interface.3.IPv4Address.12.IPAddress").unwrap();
        assert_eq!(s, "Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress");
        assert_eq!(inst.as_slice(), &[3, 12]);
        assert_eq!(
            to_concrete(&s, &inst),
            "Device.IP.Interface.3.IPv4Address.12.IPAddress"
        );
        let (s, inst) = to_schema("Device.WiFi.SSID.1.").unwrap();
        assert_eq!(s, "Device.WiFi.SSID.{i}.");
        assert_eq!(inst.as_slice(), &[1]);
        assert_eq!(to_schema("Device..X"), None);
        assert_eq!(to_schema("Device.WiFi.SSID.01."), None);
        assert_eq!(to_schema("Device.WiFi.SSID.0."), None);
        assert_eq!(to_schema("Device.WiFi.1"), None);
        assert_eq!(
            to_schema("").map(|(s, i)| (s, i.len())),
            Some((String::new(), 0))
        );
    }

    #[test]
    fn depth_parent_leaf() {
        assert_eq!(depth(""), 0);
        assert_eq!(depth("Device."), 1);
        assert_eq!(depth("Device.WiFi.SSID.1."), 4);
        assert_eq!(depth("Device.WiFi.SSIDNumberOfEntries"), 2);
        assert_eq!(parent("Device.WiFi.SSID.1."), Some("Device.WiFi.SSID."));
        assert_eq!(parent("Device.WiFi.Enable"), Some("Device.WiFi."));
        assert_eq!(parent("Device."), None);
        assert_eq!(leaf("Device.WiFi.SSID.{i}.SSID"), "SSID");
        assert_eq!(leaf("Device.WiFi.SSID.{i}."), "{i}");
        assert_eq!(leaf("Device.WiFi."), "WiFi");
    }

    #[test]
    fn inst_is_bounded() {
        let mut inst = Inst::EMPTY;
        for n in 1..=MAX_DEPTH as u32 {
            inst = inst.push(n).unwrap();
        }
        assert!(inst.push(7).is_none());
        assert_eq!(inst.truncate(2).as_slice(), &[1, 2]);
        assert!(inst.starts_with(&inst.truncate(3)));
        assert_eq!(Inst::from_slice(&[4, 5]).unwrap().last(), Some(5));
    }

    #[test]
    fn names() {
        assert!(is_valid_name("X_0A1B2C_Foo-bar"));
        assert!(!is_valid_name("1abc"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a.b"));
    }
}
