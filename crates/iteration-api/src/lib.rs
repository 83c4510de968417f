//! Endpoint glue.
