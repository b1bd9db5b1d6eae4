//! The engine types the console reads, in one place, so the console's dependence on the
//! protocol is visible at a glance.

pub use crate::engine::protocol::{
    ChildPage, ChildRow, Command, ContactDetail, ContactList, ContactRef, ContactRow, Event,
    MappingProblem, RateLimitState, Reply, RowState, Status,
};
pub use crate::sync::identity::national_digits;
pub use crate::sync::mapping::FieldPreview;
