//! One module per page.

pub mod cylinder;
pub mod public;
pub mod wall;
