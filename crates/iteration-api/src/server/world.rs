//! Worlds: the projects, flags, metrics and tokens a server starts with.
//!
//! A world is one JSON document; `docs/world-format.md` describes the format.
//! [`World::demo`] is the fixed demo world that `serve --demo` starts with;
//! [`World::from_json`] reads a user's own, checking that everything it
//! refers to exists.

use iteration_model::{Experiment, links};
use serde::Serialize;

use crate::server::store::ExperimentRecord;

mod catalog;
mod document;
mod read;

pub use document::{
    ContextKind, Covariate, Environment, Flag, FlagEnvironment, GroupMember, Layer, Metric, MetricGroup,
    Project, Role, Rule, SeedExperiment, SeedHoldout, Token, Variation,
};

/// The version of the world format this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The demo world's file, as shipped.
const DEMO: &str = include_str!("../../worlds/demo.json");

/// Everything a server knows besides experiments: tokens, and projects with
/// their environments, flags, metrics, layers, covariates and seed experiments.
///
/// A `World` that exists has passed every check of [`World::from_json`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    format_version: u32,
    tokens: Vec<Token>,
    projects: Vec<Project>,
    /// Derived from `projects`, so equal whenever they are.
    #[serde(skip)]
    catalogs: catalog::Catalogs,
}

/// Why a world file was rejected.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorldError {
    /// The file is not JSON.
    #[error("the world file is not valid JSON: {message}")]
    Syntax {
        /// What is wrong, with its line and column.
        message: String,
        /// The line (1-based).
        line: usize,
        /// The column (1-based).
        column: usize,
    },
    /// The file is JSON but not a valid world; every problem found is listed.
    #[error("the world file is not valid: {}", list(problems))]
    Invalid {
        /// Each problem, in file order.
        problems: Vec<WorldProblem>,
    },
}

/// One thing wrong in a world file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WorldProblem {
    /// Where, as a JSON Pointer (`/projects/0/flags/2/environments`).
    pub path: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

fn list(problems: &[WorldProblem]) -> String {
    problems.iter().map(WorldProblem::to_string).collect::<Vec<_>>().join("; ")
}

impl World {
    /// The demo world described in `docs/demo-world.md`.
    pub fn demo() -> World {
        match World::from_json(DEMO.as_bytes()) {
            Ok(world) => world,
            // The shipped file is checked by this crate's tests, so this cannot happen in a release.
            Err(err) => unreachable!("the shipped demo world is invalid: {err}"),
        }
    }

    /// Reads and checks a world file.
    pub fn from_json(bytes: &[u8]) -> Result<World, WorldError> {
        read::world(bytes)
    }

    /// A world of checked parts, with what is derived from them.
    fn assemble(format_version: u32, tokens: Vec<Token>, projects: Vec<Project>) -> World {
        let catalogs = catalog::catalogs(&projects);
        World { format_version, tokens, projects, catalogs }
    }

    /// The world in its file format (pretty-printed JSON).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Every token.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Every project.
    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// The project `key`.
    pub fn project(&self, key: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.key == key)
    }

    /// Whether the project exists.
    pub fn has_project(&self, project: &str) -> bool {
        self.project(project).is_some()
    }

    /// Whether the project exists and has the environment.
    pub fn has_environment(&self, project: &str, environment: &str) -> bool {
        self.project(project).is_some_and(|p| p.environment(environment).is_some())
    }

    /// The token whose secret is `token`.
    pub fn token(&self, token: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.token == token)
    }

    /// The world's experiments, as records to insert into an empty store, in
    /// file order, then the base experiment of each holdout. The world's
    /// own experiments have no iterations; a base experiment has its draft.
    pub fn seed_experiments(&self) -> Vec<ExperimentRecord> {
        let mut records: Vec<ExperimentRecord> = self
            .projects
            .iter()
            .flat_map(|project| project.experiments.iter().map(move |seed| seed_record(&project.key, seed)))
            .collect();
        for project in &self.projects {
            let catalog = catalog::seed_catalog(project);
            for holdout in &catalog.holdouts {
                records.push(ExperimentRecord {
                    project_key: project.key.clone(),
                    environment_key: holdout.environment_key.clone(),
                    experiment: catalog::seed_base_experiment(&catalog, holdout),
                });
            }
        }
        records
    }
}

fn seed_record(project: &str, seed: &SeedExperiment) -> ExperimentRecord {
    let environment_path = format!("/api/v2/projects/{project}/environments/{}", seed.environment_key);
    ExperimentRecord {
        project_key: project.to_owned(),
        environment_key: seed.environment_key.clone(),
        experiment: Experiment {
            id: Some(seed.id.clone()),
            key: seed.key.clone(),
            name: seed.name.clone(),
            description: seed.description.clone(),
            maintainer_id: seed.maintainer_id.clone(),
            creation_date: seed.creation_date,
            environment_key: seed.environment_key.clone(),
            methodology: None,
            data_source: None,
            archived_date: seed.archived_date,
            tags: None,
            links: links([
                ("self", format!("{environment_path}/experiments/{}", seed.key)),
                ("parent", environment_path),
            ]),
            holdout_id: None,
            current_iteration: None,
            r#type: Some(seed.r#type.clone()),
            draft_iteration: None,
            previous_iterations: None,
            analysis_config: None,
            extra: Default::default(),
        },
    }
}

#[cfg(test)]
mod tests;
