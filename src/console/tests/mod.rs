//! Console tests that need no engine: fixtures, render snapshots, style assertions.

pub(crate) mod fixtures;
mod service;
mod snapshots;
mod styles;
