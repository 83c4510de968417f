//! HTTP transport.
