//! The normalised world the rules see: projects with environments, and the changes of each
//! project's plan with one `Action` each.

pub mod change;
pub mod environment;
pub mod project;
