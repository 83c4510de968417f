//! Rules on `ExperimentPost`: name, key, tags, and its first iteration.

use std::collections::BTreeSet;

use crate::experiment::ExperimentPost;
use crate::key::is_valid_key;
use crate::violation::{ViolationCode, Violations, pointer};

impl ExperimentPost {
    /// Checks every rule that needs no catalog: the name is not blank, the
    /// key is valid, tags are unique and not blank, and the iteration follows
    /// [`IterationInput::validate`](crate::IterationInput::validate)'s rules,
    /// reported under `/iteration`.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut violations = Violations::default();
        experiment_name_not_blank(self, &mut violations);
        experiment_key_valid(self, &mut violations);
        tags_valid(self, &mut violations);
        super::check_iteration(&self.iteration, "/iteration", &mut violations);
        violations.into_result()
    }
}

fn experiment_name_not_blank(post: &ExperimentPost, out: &mut Violations) {
    if super::is_blank(&post.name) {
        out.push("/name", ViolationCode::Blank, "name is blank; give the experiment a name");
    }
}

fn experiment_key_valid(post: &ExperimentPost, out: &mut Violations) {
    if !is_valid_key(&post.key) {
        out.push(
            "/key",
            ViolationCode::InvalidKey,
            format!("{:?} is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -", post.key),
        );
    }
}

fn tags_valid(post: &ExperimentPost, out: &mut Violations) {
    let Some(tags) = &post.tags else { return };
    let mut seen = BTreeSet::new();
    for (i, tag) in tags.iter().enumerate() {
        if super::is_blank(tag) {
            out.push(pointer("/tags", i), ViolationCode::Blank, "tag is blank; remove it or give it text");
        } else if !seen.insert(super::visible(tag)) {
            out.push(
                pointer("/tags", i),
                ViolationCode::Duplicate,
                format!("tag `{tag}` is given twice; list each tag once"),
            );
        }
    }
}
