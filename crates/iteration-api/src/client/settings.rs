//! A project's experimentation settings: which context kinds experiments
//! may randomize by, and which one new iterations get
//! (`/api/v2/projects/{projectKey}/experimentation-settings`).

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{RandomizationSettingsRep, RandomizationUnit};
use serde::Serialize;

use super::Client;
use super::error::Error;
use super::request::{JSON, RequestFactory};

const SETTINGS: &str = "/api/v2/projects/{projectKey}/experimentation-settings";

/// `RandomizationSettingsPut`: the whole new list of units.
#[derive(Serialize)]
struct RandomizationSettingsPut<'a> {
    #[serde(rename = "randomizationUnits")]
    randomization_units: Vec<RandomizationUnitInput<'a>>,
}

/// `RandomizationUnitInput`.
#[derive(Serialize)]
struct RandomizationUnitInput<'a> {
    #[serde(rename = "randomizationUnit")]
    randomization_unit: &'a str,
    default: bool,
}

impl RequestFactory {
    /// `GET .../experimentation-settings` (getExperimentationSettings).
    pub(crate) fn get_experimentation_settings(&self, project: &str) -> Result<Request<Bytes>, Error> {
        let url = self.url(SETTINGS, &[("projectKey", project)])?;
        self.without_body(Method::GET, &url, "")
    }

    /// `PUT .../experimentation-settings` (putExperimentationSettings).
    pub(crate) fn put_experimentation_settings(
        &self,
        project: &str,
        units: &[RandomizationUnit],
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(SETTINGS, &[("projectKey", project)])?;
        let body = RandomizationSettingsPut {
            randomization_units: units
                .iter()
                .map(|unit| RandomizationUnitInput { randomization_unit: &unit.key, default: unit.default })
                .collect(),
        };
        self.with_body(Method::PUT, &url, JSON, &body)
    }
}

impl Client {
    /// The project's experimentation settings.
    pub async fn get_experimentation_settings(
        &self,
        project: &str,
    ) -> Result<RandomizationSettingsRep, Error> {
        self.send(self.requests.get_experimentation_settings(project)?).await
    }

    /// Replaces the context kinds enabled for experiments: each an existing
    /// context kind, none twice, exactly one `default`. New iterations that
    /// name no unit get the default; existing ones keep theirs.
    pub async fn put_experimentation_settings(
        &self,
        project: &str,
        units: &[RandomizationUnit],
    ) -> Result<RandomizationSettingsRep, Error> {
        self.send(self.requests.put_experimentation_settings(project, units)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, factory, header};

    #[test]
    fn get_and_put_address_the_settings() {
        let get = factory().get_experimentation_settings("my-project").unwrap();
        assert_eq!(get.method(), Method::GET);
        assert_eq!(
            get.uri(),
            "https://app.launchdarkly.com/api/v2/projects/my-project/experimentation-settings"
        );
        assert!(get.body().is_empty());
        assert_common_headers(&get);

        let units = [
            RandomizationUnit { key: "user".into(), default: true },
            RandomizationUnit { key: "organization".into(), default: false },
        ];
        let put = factory().put_experimentation_settings("my-project", &units).unwrap();
        assert_eq!(put.method(), Method::PUT);
        assert_eq!(put.uri(), get.uri());
        assert_eq!(header(&put, "content-type"), Some("application/json"));
        assert_eq!(
            put.body().as_ref(),
            br#"{"randomizationUnits":[{"randomizationUnit":"user","default":true},{"randomizationUnit":"organization","default":false}]}"#
        );
    }
}
