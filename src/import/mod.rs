//! Template importers (placeholder).
