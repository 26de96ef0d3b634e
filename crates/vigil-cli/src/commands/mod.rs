//! One module per subcommand.

pub(crate) mod formats;
pub(crate) mod parse;
