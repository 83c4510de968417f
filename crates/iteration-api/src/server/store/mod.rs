//! Storage of experiments.
