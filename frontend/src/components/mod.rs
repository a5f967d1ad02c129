//! Reusable pieces of the pages, one component per file.

pub mod archive;
pub mod cylinder_search;
pub mod district_panel;
pub mod header;
pub mod kpi;
pub mod map;
pub mod shell;
pub mod timeline;
pub mod trajectory;
