//! One module per page.

pub mod cylinder;
pub mod login;
pub mod public;
pub mod wall;
