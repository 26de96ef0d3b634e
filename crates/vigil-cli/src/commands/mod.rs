//! One module per subcommand.

pub(crate) mod formats;
pub(crate) mod hunt;
pub(crate) mod parse;
pub(crate) mod rules;
