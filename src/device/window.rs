//! ScheduleDownload's time windows (TR-069 A.4.1.8): one or two windows, in seconds after the
//! CPE accepted the request, each with a WindowMode saying when in it the CPE may start. Pure:
//! the moment inside a window is drawn from a seeded unit value the caller passes in, never
//! from a clock.

use crate::cwmp::{Fault, TimeWindowStruct};

/// A TimeWindowStruct's WindowMode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowMode {
    /// `1 At Any Time`: any moment inside the window.
    AtAnyTime,
    /// `2 Immediately`: at the window's start.
    Immediately,
    /// `3 When Idle`: once the device is idle; a simulated device has no subscriber traffic,
    /// so it turns idle at a seeded moment inside the window.
    WhenIdle,
    /// `4 Confirmation Needed`: once the subscriber confirms (UserMessage shown); the
    /// simulated subscriber confirms at a seeded moment inside the window.
    ConfirmationNeeded,
    /// `X <OUI> <name>`: vendor modes, treated as `1 At Any Time`.
    Vendor,
}

impl WindowMode {
    pub fn parse(s: &str) -> Option<WindowMode> {
        Some(match s.trim() {
            "1 At Any Time" => WindowMode::AtAnyTime,
            "2 Immediately" => WindowMode::Immediately,
            "3 When Idle" => WindowMode::WhenIdle,
            "4 Confirmation Needed" => WindowMode::ConfirmationNeeded,
            v if v.starts_with("X ") => WindowMode::Vendor,
            _ => return None,
        })
    }
}

/// Checks a TimeWindowList: one or two windows, each `WindowStart <= WindowEnd` with a known
/// mode, the second starting no earlier than the first ends (windows do not overlap), and
/// MaxRetries at least -1 (-1: the CPE decides). Anything else is 9003.
pub fn validate(list: &[TimeWindowStruct]) -> Result<(), Fault> {
    let each_ok = list.iter().all(|w| {
        w.window_start <= w.window_end
            && WindowMode::parse(&w.window_mode).is_some()
            && w.max_retries >= -1
    });
    let ordered = match list {
        [a, b] => b.window_start >= a.window_end,
        _ => true,
    };
    if (1..=2).contains(&list.len()) && each_ok && ordered {
        Ok(())
    } else {
        Err(Fault::new(9003))
    }
}

/// Seconds after acceptance at which the attempt in window `w` starts; `draw` is a seeded
/// value in `[0, 1)`.
pub fn attempt_start(w: &TimeWindowStruct, draw: f64) -> u32 {
    let mode = WindowMode::parse(&w.window_mode).unwrap_or(WindowMode::AtAnyTime);
    if mode == WindowMode::Immediately {
        return w.window_start;
    }
    let span = f64::from(w.window_end - w.window_start.min(w.window_end));
    w.window_start + (span * draw.clamp(0.0, 1.0)).floor().min(span) as u32
}

/// How many attempts a window allows: MaxRetries + 1; -1 (the CPE decides) is one retry.
pub fn attempts(w: &TimeWindowStruct) -> u32 {
    match w.max_retries {
        -1 => 2,
        n => u32::try_from(n).unwrap_or(0).saturating_add(1).min(16),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: u32, end: u32, mode: &str) -> TimeWindowStruct {
        TimeWindowStruct {
            window_start: start,
            window_end: end,
            window_mode: mode.into(),
            user_message: String::new(),
            max_retries: 0,
        }
    }

    #[test]
    fn modes_parse_as_the_spec_spells_them() {
        assert_eq!(
            WindowMode::parse("1 At Any Time"),
            Some(WindowMode::AtAnyTime)
        );
        assert_eq!(
            WindowMode::parse("2 Immediately"),
            Some(WindowMode::Immediately)
        );
        assert_eq!(WindowMode::parse("3 When Idle"), Some(WindowMode::WhenIdle));
        assert_eq!(
            WindowMode::parse("4 Confirmation Needed"),
            Some(WindowMode::ConfirmationNeeded)
        );
        assert_eq!(
            WindowMode::parse("X 00D09E Night"),
            Some(WindowMode::Vendor)
        );
        assert_eq!(WindowMode::parse("5 Later"), None);
        assert_eq!(WindowMode::parse("immediately"), None);
    }

    #[test]
    fn lists_are_checked_whole() {
        assert!(validate(&[w(0, 60, "2 Immediately")]).is_ok());
        assert!(validate(&[w(0, 60, "1 At Any Time"), w(60, 120, "3 When Idle")]).is_ok());
        for bad in [
            vec![],
            vec![w(60, 0, "1 At Any Time")],
            vec![w(0, 60, "6 Whenever")],
            vec![w(0, 60, "1 At Any Time"), w(30, 90, "1 At Any Time")],
            vec![w(0, 1, "2 Immediately"); 3],
        ] {
            assert_eq!(validate(&bad).unwrap_err().code, 9003, "{bad:?}");
        }
        let mut neg = w(0, 60, "1 At Any Time");
        neg.max_retries = -2;
        assert_eq!(validate(&[neg]).unwrap_err().code, 9003);
    }

    #[test]
    fn starts_follow_the_mode() {
        assert_eq!(attempt_start(&w(30, 90, "2 Immediately"), 0.99), 30);
        assert_eq!(attempt_start(&w(30, 90, "1 At Any Time"), 0.0), 30);
        assert_eq!(attempt_start(&w(30, 90, "1 At Any Time"), 0.5), 60);
        assert!(attempt_start(&w(30, 90, "3 When Idle"), 0.999_999) <= 90);
        assert_eq!(attempt_start(&w(5, 5, "4 Confirmation Needed"), 0.7), 5);
        let mut r = w(0, 1, "1 At Any Time");
        assert_eq!(attempts(&r), 1);
        r.max_retries = 2;
        assert_eq!(attempts(&r), 3);
        r.max_retries = -1;
        assert_eq!(attempts(&r), 2);
    }
}
