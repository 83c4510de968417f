//! The record the server keeps for each experiment: the experiment and
//! where it lives.
//!
//! The store keeps these records and a world file seeds them, so the type
//! belongs to neither: both import it from here (the store re-exports it
//! as `store::ExperimentRecord`), and the store, which reads worlds, stays
//! the only one of the two that imports the other.

use serde::{Deserialize, Serialize};

/// One experiment and where it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentRecord {
    /// The project key.
    pub project_key: String,
    /// The environment key.
    pub environment_key: String,
    /// The full experiment: every iteration with its treatments, the
    /// analysis configuration and so on. Handlers trim it per `expand` when
    /// they answer.
    pub experiment: iteration_model::Experiment,
}

impl ExperimentRecord {
    /// The experiment key.
    pub fn key(&self) -> &str {
        &self.experiment.key
    }
}

/// The bytes `serde_json` writes for the record (its derive above), written
/// directly: `SqliteStore` writes one on every change.
impl iteration_model::WriteJson for ExperimentRecord {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"projectKey\":");
        self.project_key.write_json(out);
        out.extend_from_slice(b",\"environmentKey\":");
        self.environment_key.write_json(out);
        out.extend_from_slice(b",\"experiment\":");
        self.experiment.write_json(out);
        out.push(b'}');
    }
}
