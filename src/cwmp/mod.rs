//! CWMP codec (placeholder).
