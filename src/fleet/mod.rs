//! The fleet: many devices, their life between sessions, and the scheduler.

pub mod life;
