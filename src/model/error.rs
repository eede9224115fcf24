//! Errors of loading a template. Every one names the file (origin), line and column, because
//! templates are written by hand and an error without a place costs the user a search.

/// What is wrong with a template whose YAML parsed. A fixed set: it is the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// `root:` is not `Device.` or `InternetGatewayDevice.`.
    Root,
    /// `cwmp_version:` is not 1.0..1.4.
    Version,
    /// An object key or parameter name is not a valid path/name.
    Path,
    /// An object key does not start with the root.
    OutsideRoot,
    /// Two definitions of the same path (object/parameter clash, `X.1.` and `X.01.`...).
    DuplicatePath,
    /// `X.{i}.Y.` or a concrete instance `X.3.` whose table `X.{i}.` is not declared.
    UndeclaredTable,
    /// Unknown TR-106 type name, or a schema parameter without a type.
    Type,
    /// A literal (default, enum value, range) that is not valid for the parameter's type.
    Value,
    /// A generator unfit for its parameter or with a bad argument.
    Generator,
    /// A bad attribute (notification, activeNotify, access list, table options).
    Attribute,
    /// An instance override names a parameter the table schema lacks.
    UnknownParameter,
    /// A required DeviceInfo identity parameter is missing.
    Identity,
    /// Tables nested deeper than [`crate::model::path::MAX_DEPTH`], or too many entries.
    TooLarge,
}

impl Problem {
    pub fn label(self) -> &'static str {
        match self {
            Problem::Root => "model_root",
            Problem::Version => "model_version",
            Problem::Path => "model_path",
            Problem::OutsideRoot => "model_outside_root",
            Problem::DuplicatePath => "model_duplicate_path",
            Problem::UndeclaredTable => "model_undeclared_table",
            Problem::Type => "model_type",
            Problem::Value => "model_value",
            Problem::Generator => "model_generator",
            Problem::Attribute => "model_attribute",
            Problem::UnknownParameter => "model_unknown_parameter",
            Problem::Identity => "model_identity",
            Problem::TooLarge => "model_too_large",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{origin}: cannot read template: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not parse or does not have the template shape (serde_yaml's message).
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The YAML has the right shape but says something invalid.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        problem: Problem,
        message: String,
    },
}

impl ModelError {
    pub fn label(&self) -> &'static str {
        match self {
            ModelError::Io { .. } => "model_io",
            ModelError::Syntax { .. } => "model_syntax",
            ModelError::Invalid { problem, .. } => problem.label(),
        }
    }

    /// 1-based line and column, when the error has a place in the file.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            ModelError::Io { .. } => None,
            ModelError::Syntax { line, column, .. } | ModelError::Invalid { line, column, .. } => {
                Some((*line, *column))
            }
        }
    }

    pub fn problem(&self) -> Option<Problem> {
        match self {
            ModelError::Invalid { problem, .. } => Some(*problem),
            _ => None,
        }
    }
}
