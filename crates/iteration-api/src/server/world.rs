//! Worlds: the projects, flags, metrics and tokens a server starts with.
//!
//! A world is one JSON document; `docs/world-format.md` describes the format.
//! [`World::demo`] is the fixed demo world that `serve --demo` starts with;
//! [`World::from_json`] reads a user's own, checking that everything it
//! refers to exists.

use iteration_model::{Experiment, ProjectCatalog, links};
use serde::Serialize;

use crate::server::record::ExperimentRecord;

mod catalog;
mod document;
mod read;

pub use document::{
    ContextKind, Covariate, Environment, Flag, FlagEnvironment, GroupMember, Layer, Metric, MetricGroup,
    Project, Role, Rule, SeedExperiment, SeedHoldout, Token, Variation,
};

/// The version of the world format this code writes. It reads this one and
/// every earlier one (version 1 has no `catalog` and only the short form of
/// experiments).
pub const FORMAT_VERSION: u32 = 2;

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

    /// A world of checked parts, with what is derived from them. It is
    /// written in the current format, whichever version it was read from.
    fn assemble(tokens: Vec<Token>, projects: Vec<Project>) -> World {
        let catalogs = catalog::catalogs(&projects);
        World { format_version: FORMAT_VERSION, tokens, projects, catalogs }
    }

    /// This world's tokens and projects with `catalogs` as their catalogs and
    /// `experiments` as their experiments, whole: the state of a server as a
    /// world file, which starts a server in that same state. A project
    /// without a catalog in `catalogs` keeps the one it has; experiments of
    /// projects this world does not have are left out.
    pub fn with_state(&self, catalogs: Vec<ProjectCatalog>, experiments: Vec<ExperimentRecord>) -> World {
        let mut catalogs: std::collections::HashMap<String, ProjectCatalog> =
            catalogs.into_iter().map(|c| (c.key.clone(), c)).collect();
        let projects = self
            .projects
            .iter()
            .map(|project| {
                let catalog = catalogs.remove(&project.key).unwrap_or_else(|| catalog::seed_catalog(project));
                Project {
                    key: project.key.clone(),
                    name: project.name.clone(),
                    default_randomization_unit: None,
                    context_kinds: Vec::new(),
                    environments: project.environments.clone(),
                    flags: Vec::new(),
                    metrics: Vec::new(),
                    metric_groups: Vec::new(),
                    // The catalog holds the layers and holdouts too.
                    layers: Vec::new(),
                    holdouts: Vec::new(),
                    covariates: Vec::new(),
                    catalog: Some(catalog),
                    experiments: experiments
                        .iter()
                        .filter(|record| record.project_key == project.key)
                        .map(|record| record.experiment.clone())
                        .collect(),
                }
            })
            .collect();
        World::assemble(self.tokens.clone(), projects)
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
    ///
    /// Every token is compared, each in time that does not depend on where
    /// the secrets differ, so that timing does not tell a caller how much of
    /// a guess was right.
    pub fn token(&self, token: &str) -> Option<&Token> {
        self.tokens.iter().fold(None, |found, t| {
            let equal = constant_time_eq(t.token.as_bytes(), token.as_bytes());
            if equal && found.is_none() { Some(t) } else { found }
        })
    }

    /// The world's experiments, as records to insert into an empty store, in
    /// file order, then the base experiment of each holdout. The world's
    /// own experiments have no iterations; a base experiment has its draft.
    pub fn seed_experiments(&self) -> Vec<ExperimentRecord> {
        let mut records: Vec<ExperimentRecord> = self
            .projects
            .iter()
            .flat_map(|project| {
                project.experiments.iter().map(move |experiment| ExperimentRecord {
                    project_key: project.key.clone(),
                    environment_key: experiment.environment_key.clone(),
                    experiment: experiment.clone(),
                })
            })
            .collect();
        for project in &self.projects {
            let catalog = catalog::seed_catalog(project);
            for holdout in &catalog.holdouts {
                // A saved state (format 2) holds the base experiment already.
                let held = project
                    .experiments
                    .iter()
                    .any(|e| e.key == holdout.key && e.environment_key == holdout.environment_key);
                if !held {
                    records.push(ExperimentRecord {
                        project_key: project.key.clone(),
                        environment_key: holdout.environment_key.clone(),
                        experiment: catalog::seed_base_experiment(&catalog, holdout),
                    });
                }
            }
        }
        records
    }
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Every byte of the longer is looked at; the difference of the lengths
    // and of each pair of bytes is folded in without branching on it.
    let len = a.len().max(b.len());
    let mut difference = u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        difference |= x ^ y;
    }
    std::hint::black_box(difference) == 0
}

/// A version 1 file's short experiment, whole: no iterations yet.
pub(crate) fn seed_experiment(project: &str, seed: &SeedExperiment) -> Experiment {
    let environment_path = format!("/api/v2/projects/{project}/environments/{}", seed.environment_key);
    {
        Experiment {
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
            mutable_fields_by_status: None,
            access: None,
            extra: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests;
