//! ghlsync: keeps contacts, tasks, notes and appointments in sync between HighLevel (GHL API v2)
//! and peer apps, with a terminal console. See ARCHITECTURE.md for the map.

pub mod cli;
pub mod config;
pub mod ghl;
pub mod logging;
pub mod private_file;
pub mod sandbox;
