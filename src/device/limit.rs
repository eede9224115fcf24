//! [`AnswerLimit`]: how much a device builds in answer to one ACS request.
//!
//! The ACS chooses the size of some answers: a GetParameterValues naming `Device.` 200 times
//! in 5 KB asks for the whole tree 200 times (36 MB on the TR-181 gateway template). A real
//! CPE has finite memory and answers such a request with fault 9004 "Resources exceeded"
//! (TR-069 A.5.1); so does this one. The bound is counted while the answer is gathered, before
//! each item is built, so no more than the limit is ever held: never build, then measure.

use crate::cwmp::Fault;

/// Per-request bounds, per group (`answer_limit:` in a scenario group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerLimit {
    /// Most parameters named in a request (SetParameterValues, SetParameterAttributes,
    /// GetParameterValues/Attributes) or listed in an answer (GetParameterNames/Values/
    /// Attributes).
    pub parameters: u32,
    /// Most bytes of an answer's list: names, values and [`ENTRY_OVERHEAD`] per entry.
    pub bytes: u64,
}

/// The XML around one list entry (`<ParameterValueStruct><Name>…</Name><Value
/// xsi:type="xsd:unsignedInt">…</Value></ParameterValueStruct>` is about 100 bytes): counted
/// per entry so a list of empty names still costs what its encoding costs.
pub const ENTRY_OVERHEAD: u64 = 100;

impl Default for AnswerLimit {
    /// 32,768 parameters and 4 MiB: the shipped TR-181 gateway's whole tree is ~1,250
    /// parameters / 180 KB, so a full dump fits 20 times over, while a fleet holding one
    /// answer per session in flight stays within max_sessions × 4 MiB. 4 MiB is also the body
    /// the embedded ACS accepts.
    fn default() -> Self {
        AnswerLimit {
            parameters: 32_768,
            bytes: 4 << 20,
        }
    }
}

/// What one answer has used of its [`AnswerLimit`] so far.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    limit: AnswerLimit,
    parameters: u32,
    bytes: u64,
    exceeded: bool,
}

impl Budget {
    pub fn new(limit: AnswerLimit) -> Budget {
        Budget {
            limit,
            parameters: 0,
            bytes: 0,
            exceeded: false,
        }
    }

    /// A request naming `n` parameters: 9004 if that alone is over the limit (checked before
    /// any of them is looked at).
    pub fn request(limit: AnswerLimit, n: usize) -> Result<(), Fault> {
        if n > limit.parameters as usize {
            return Err(Fault::new(9004));
        }
        Ok(())
    }

    /// Account for one more entry whose text is `bytes` long; false (and stays false) once the
    /// answer would pass the limit, so the caller builds nothing more.
    pub fn entry(&mut self, bytes: usize) -> bool {
        if self.exceeded {
            return false;
        }
        self.parameters = self.parameters.saturating_add(1);
        self.add(bytes as u64 + ENTRY_OVERHEAD)
    }

    /// Account for `bytes` more in the current entry (a value read after its name).
    pub fn add(&mut self, bytes: u64) -> bool {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.parameters > self.limit.parameters || self.bytes > self.limit.bytes {
            self.exceeded = true;
        }
        !self.exceeded
    }

    /// 9004 once the limit was passed.
    pub fn check(&self) -> Result<(), Fault> {
        if self.exceeded {
            Err(Fault::new(9004))
        } else {
            Ok(())
        }
    }

    /// Entries and bytes accounted so far (what the answer built, or would have).
    pub fn used(&self) -> (u32, u64) {
        (self.parameters, self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_stops_at_the_first_entry_over_the_limit() {
        let mut b = Budget::new(AnswerLimit {
            parameters: 2,
            bytes: 1 << 20,
        });
        assert!(b.entry(10));
        assert!(b.entry(10));
        assert!(b.check().is_ok());
        assert!(!b.entry(10));
        assert!(!b.entry(10), "stays exceeded");
        assert_eq!(b.check().unwrap_err().code, 9004);
        assert_eq!(b.used().0, 3, "counting stopped at the first entry over");
    }

    #[test]
    fn bytes_count_names_values_and_overhead() {
        let mut b = Budget::new(AnswerLimit {
            parameters: 100,
            bytes: 2 * ENTRY_OVERHEAD + 20,
        });
        assert!(b.entry(10) && b.add(5));
        assert!(b.entry(5));
        assert!(!b.add(1));
        assert!(Budget::request(b.limit, 100).is_ok());
        assert_eq!(Budget::request(b.limit, 101).unwrap_err().code, 9004);
    }
}
