//! Worlds: the projects, flags, metrics and tokens a server starts with.
