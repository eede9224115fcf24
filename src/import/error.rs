//! The importers' error type: where in the source the problem is, and a bounded metric label.

/// Why an import failed. CSV errors carry the 1-based line of the offending record; XML errors
/// carry the byte offset and the line/column it maps to, so a user can open the 4 MB file there.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The CSV text is not well formed (quoting, field count, header).
    #[error("line {line}: {message}")]
    CsvSyntax { line: usize, message: String },
    /// A CSV record is well formed but does not describe a valid parameter or object.
    #[error("line {line}: {message}")]
    CsvRecord { line: usize, message: String },
    /// The XML is not well formed.
    #[error("line {line}, column {column} (byte {byte}): {message}")]
    XmlSyntax {
        line: usize,
        column: usize,
        byte: u64,
        message: String,
    },
    /// The XML is well formed but not a usable data model (unknown type, bad attribute...).
    #[error("line {line}, column {column} (byte {byte}): {message}")]
    XmlModel {
        line: usize,
        column: usize,
        byte: u64,
        message: String,
    },
    /// The import options do not fit the source (root not in the model, nothing selected).
    #[error("{message}")]
    Options { message: String },
    /// A recipe file is not valid YAML of the recipe's shape (the message has line and column).
    #[error("{message}")]
    Recipe { message: String },
    /// Serialising the result failed.
    #[error("writing YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// A bug in the importer (its output failed its own check).
    #[error("internal error: {message}")]
    Internal { message: String },
}

impl ImportError {
    /// A fixed label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            ImportError::CsvSyntax { .. } => "csv_syntax",
            ImportError::CsvRecord { .. } => "csv_record",
            ImportError::XmlSyntax { .. } => "xml_syntax",
            ImportError::XmlModel { .. } => "xml_model",
            ImportError::Options { .. } => "options",
            ImportError::Recipe { .. } => "recipe",
            ImportError::Yaml(_) => "yaml",
            ImportError::Internal { .. } => "internal",
        }
    }

    /// The 1-based source line the error points at, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ImportError::CsvSyntax { line, .. }
            | ImportError::CsvRecord { line, .. }
            | ImportError::XmlSyntax { line, .. }
            | ImportError::XmlModel { line, .. } => Some(*line),
            ImportError::Options { .. }
            | ImportError::Recipe { .. }
            | ImportError::Yaml(_)
            | ImportError::Internal { .. } => None,
        }
    }

    pub(crate) fn options(message: impl Into<String>) -> ImportError {
        ImportError::Options {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_lines() {
        let e = ImportError::CsvRecord {
            line: 7,
            message: "x".into(),
        };
        assert_eq!(e.label(), "csv_record");
        assert_eq!(e.line(), Some(7));
        assert_eq!(e.to_string(), "line 7: x");
        assert_eq!(ImportError::options("nope").line(), None);
    }
}
