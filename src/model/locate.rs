//! Places in YAML source text: where a key of a template file is, so that errors found after
//! deserialising (which has forgotten positions) can still say line and column. A text search,
//! not a parser: it follows block indentation and flow mappings (`{ type: int }`), which is
//! all the template format uses.

/// The key of serde_yaml's "duplicate entry with key \"K\"" message.
pub(crate) fn duplicate_key(message: &str) -> Option<&str> {
    let rest = message.split_once("duplicate entry with key \"")?.1;
    Some(rest.rsplit_once('"')?.0)
}

/// Finds keys in the YAML source to give semantic errors a line and column.
pub(crate) struct Locator<'a> {
    src: &'a str,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Locator { src }
    }

    /// The place of the innermost key of `keys` (each looked for inside the previous one's
    /// block) that can be found; the first non-blank character if none.
    pub(crate) fn find(&self, keys: &[&str]) -> (usize, usize) {
        let mut start = 0;
        let mut end = self.src.len();
        let mut best = self.line_col(self.src.len() - self.src.trim_start().len());
        for (depth, key) in keys.iter().enumerate() {
            let Some(pos) = self.find_key(key, start, end, depth == 0) else {
                break;
            };
            best = self.line_col(pos);
            start = pos;
            end = self.block_end(pos);
        }
        best
    }

    /// The first place of `key` as a mapping key in `start..end`, skipping comments; a
    /// top-level key must start its line.
    fn find_key(&self, key: &str, start: usize, end: usize, top: bool) -> Option<usize> {
        let hay = self.src.get(start..end)?;
        let forms = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        let mut best: Option<usize> = None;
        for form in &forms {
            let mut from = 0;
            while let Some(off) = hay.get(from..).and_then(|h| h.find(form.as_str())) {
                let at = from + off;
                let before = hay.get(..at).and_then(|h| h.chars().next_back());
                let after = hay.get(at + form.len()..).and_then(|h| h.chars().next());
                // A key starts a line, or follows a flow mapping's opening brace or comma.
                let key_start = before.is_none_or(|c| c.is_whitespace() || "{,".contains(c));
                let key_end = after.is_none_or(|c| c.is_whitespace());
                let abs = start + at;
                let line_start = self
                    .src
                    .get(..abs)
                    .and_then(|s| s.rfind('\n'))
                    .map_or(0, |i| i + 1);
                let lead = self.src.get(line_start..abs).unwrap_or("");
                // YAML comments start at a '#' that begins the line or follows whitespace.
                let commented = lead.trim_start().starts_with('#') || lead.contains(" #");
                let placed = !top || lead.is_empty();
                if key_start && key_end && !commented && placed {
                    best = Some(best.map_or(at, |b| b.min(at)));
                    break;
                }
                from = at + 1;
            }
        }
        best.map(|b| start + b)
    }

    /// End of the block a key at `pos` opens: its line, then following lines indented deeper
    /// than the key (blank and comment lines included).
    fn block_end(&self, pos: usize) -> usize {
        let line_start = self
            .src
            .get(..pos)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1);
        let col = pos - line_start;
        let mut cursor = self
            .src
            .get(pos..)
            .and_then(|s| s.find('\n'))
            .map_or(self.src.len(), |i| pos + i + 1);
        while cursor < self.src.len() {
            let line_end = self
                .src
                .get(cursor..)
                .and_then(|s| s.find('\n'))
                .map_or(self.src.len(), |i| cursor + i + 1);
            let line = self.src.get(cursor..line_end).unwrap_or("");
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if !(trimmed.is_empty() || trimmed.starts_with('#') || indent > col) {
                break;
            }
            cursor = line_end;
        }
        cursor
    }

    /// The second occurrence of `key` as a key of the mapping whose first key is at
    /// (line, column), 1-based.
    pub(crate) fn second_key(
        &self,
        key: &str,
        line: usize,
        column: usize,
    ) -> Option<(usize, usize)> {
        let start = self
            .src
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let mut found = 0;
        let mut offset = start;
        for l in self.src.get(start..)?.split_inclusive('\n') {
            let trimmed = l.trim_start();
            let indent = l.len() - trimmed.len();
            let is_key = [
                format!("{key}:"),
                format!("\"{key}\":"),
                format!("'{key}':"),
            ]
            .iter()
            .any(|f| trimmed.starts_with(f.as_str()));
            if indent + 1 == column && is_key {
                found += 1;
                if found == 2 {
                    return Some(self.line_col(offset + indent));
                }
            }
            offset += l.len();
        }
        None
    }

    fn line_col(&self, pos: usize) -> (usize, usize) {
        crate::units::line_column(self.src, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "a:\n  b:\n    c: 1\n  d: { c: 2, e: 3 }\n# c: 9\nc: 4\n";

    #[test]
    fn finds_nested_keys_in_blocks_and_flow_maps() {
        let l = Locator::new(SRC);
        assert_eq!(l.find(&["a", "b", "c"]), (3, 5));
        assert_eq!(l.find(&["a", "d", "e"]), (4, 14));
        assert_eq!(l.find(&["a", "d", "c"]), (4, 8));
        assert_eq!(l.find(&["c"]), (6, 1));
        // falls back to the innermost key found
        assert_eq!(l.find(&["a", "b", "zz"]), (2, 3));
        assert_eq!(l.find(&["zz"]), (1, 1));
    }

    #[test]
    fn second_occurrence_of_a_duplicate() {
        let src = "m:\n  x: 1\n  y: 2\n  x: 3\n";
        assert_eq!(Locator::new(src).second_key("x", 2, 3), Some((4, 3)));
        assert_eq!(
            duplicate_key("m: duplicate entry with key \"x\""),
            Some("x")
        );
    }
}
