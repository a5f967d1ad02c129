//! Reusable pieces of the pages, one component per file.

pub mod district_panel;
pub mod header;
pub mod kpi;
pub mod map;
