//! ghlsync: keeps contacts, tasks, notes and appointments in sync between HighLevel (GHL API v2)
//! and peer apps, with a terminal console. See ARCHITECTURE.md for the map.

pub mod allocator;
pub mod bounded_file;
pub mod cli;
pub mod config;
pub mod console;
pub mod engine;
pub mod failpoint;
#[doc(hidden)]
pub mod fuzzing;
pub mod ghl;
pub mod logging;
pub mod net;
pub mod peers;
pub mod private_file;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod sync;
