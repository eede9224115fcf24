//! Virtual CPE state and RPC semantics (placeholder).
