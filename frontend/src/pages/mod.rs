//! One module per page.

pub mod wall;
