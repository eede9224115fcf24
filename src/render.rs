//! Rendering a device's messages (placeholder).
