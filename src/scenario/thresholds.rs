//! The scenario's `thresholds:` section: pass/fail limits on the end-of-run report.

use super::validate::Validator;
use super::ScenarioError;
use crate::threshold::{Threshold, ThresholdSpec};
use crate::units::line_column;

impl Validator<'_> {
    /// The thresholds, or the default verdict when the file sets none.
    pub(super) fn thresholds(
        &self,
        specs: &[ThresholdSpec],
        group_names: &[&str],
    ) -> Result<Vec<Threshold>, ScenarioError> {
        let mut thresholds = Vec::new();
        for t in specs {
            let v = t.validate(group_names).map_err(|e| {
                // Point into the thresholds section, not at the first "session" of the file.
                let from = self.src.find("thresholds").unwrap_or(0);
                let at = self.src[from..].find(&e.near).map_or(from, |o| from + o);
                let (line, column) = line_column(self.src, at);
                ScenarioError::Invalid {
                    path: self.origin.to_string(),
                    line,
                    column,
                    message: e.message,
                }
            })?;
            thresholds.push(v);
        }
        if thresholds.is_empty() {
            thresholds = crate::threshold::default_thresholds();
        }
        Ok(thresholds)
    }
}
