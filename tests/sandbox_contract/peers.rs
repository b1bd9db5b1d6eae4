//! The peer emulations against hand-written schemas (`peers/*.json`).
