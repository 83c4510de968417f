//! The administration API of this project's server (`/_iteration/...`,
//! `docs/behaviour.md` section 6), for a server started as a test double:
//! put it back in its starting state, read or replace its whole state,
//! read the requests it answered, make requests fail on purpose. Each
//! needs a token of role `admin`; LaunchDarkly itself has none of these.
//!
//! The state travels as the world file's JSON text, unparsed: the server
//! owns that format, and passing the bytes through keeps
//! export → import → export byte for byte.

use bytes::Bytes;
use http::{Method, Request};
use serde::Deserialize;

use super::Client;
use super::error::Error;
use super::query::join_query;
use super::request::{JSON, RequestFactory};
use super::response;
use crate::admin::{FaultRule, RecordedRequest, RequestFilter};

const RESET: &str = "/_iteration/reset";
const STATE: &str = "/_iteration/state";
const REQUESTS: &str = "/_iteration/requests";
const FAULTS: &str = "/_iteration/faults";

/// `{"items": [...]}`, how the administration API answers a list.
#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

impl RequestFactory {
    /// `POST /_iteration/reset`.
    pub(crate) fn reset_state(&self) -> Result<Request<Bytes>, Error> {
        self.without_body(Method::POST, &self.url(RESET, &[])?, "")
    }

    /// `GET /_iteration/state`.
    pub(crate) fn get_state(&self) -> Result<Request<Bytes>, Error> {
        self.without_body(Method::GET, &self.url(STATE, &[])?, "")
    }

    /// `PUT /_iteration/state` with a world file's JSON text.
    pub(crate) fn put_state(&self, world: Bytes) -> Result<Request<Bytes>, Error> {
        self.with_json_text(Method::PUT, &self.url(STATE, &[])?, world)
    }

    /// `GET /_iteration/requests?operation=&status=&limit=`.
    pub(crate) fn list_requests(&self, filter: &RequestFilter) -> Result<Request<Bytes>, Error> {
        let mut pairs = Vec::new();
        if let Some(operation) = &filter.operation {
            pairs.push(("operation", operation.clone()));
        }
        if let Some(status) = filter.status {
            pairs.push(("status", status.to_string()));
        }
        if let Some(limit) = filter.limit {
            pairs.push(("limit", limit.to_string()));
        }
        self.without_body(Method::GET, &self.url(REQUESTS, &[])?, &join_query(&pairs))
    }

    /// `DELETE /_iteration/requests`.
    pub(crate) fn clear_requests(&self) -> Result<Request<Bytes>, Error> {
        self.without_body(Method::DELETE, &self.url(REQUESTS, &[])?, "")
    }

    /// `GET /_iteration/faults`.
    pub(crate) fn list_faults(&self) -> Result<Request<Bytes>, Error> {
        self.without_body(Method::GET, &self.url(FAULTS, &[])?, "")
    }

    /// `PUT /_iteration/faults`.
    pub(crate) fn set_faults(&self, rules: &[FaultRule]) -> Result<Request<Bytes>, Error> {
        self.with_body(Method::PUT, &self.url(FAULTS, &[])?, JSON, &rules)
    }

    /// `DELETE /_iteration/faults`.
    pub(crate) fn clear_faults(&self) -> Result<Request<Bytes>, Error> {
        self.without_body(Method::DELETE, &self.url(FAULTS, &[])?, "")
    }
}

/// The administration API of this project's server (not LaunchDarkly's).
impl Client {
    /// Puts the server back in the state it started with: its world's
    /// tokens, projects, catalogs and experiments, and nothing else.
    pub async fn reset_state(&self) -> Result<(), Error> {
        let _: serde_json::Value = self.send(self.requests.reset_state()?).await?;
        Ok(())
    }

    /// The server's whole state, as a world file's JSON text (what
    /// `serve --world` reads).
    pub async fn get_state(&self) -> Result<Bytes, Error> {
        let response = self.exchange(self.requests.get_state()?).await?;
        response::read_bytes(&response, std::time::SystemTime::now())
    }

    /// Replaces the server's whole state with a world file's JSON text;
    /// answers the state as the server now exports it. A file that breaks
    /// the world file's rules is refused with every problem
    /// ([`Error::InvalidRequest`]), and nothing changes.
    pub async fn put_state(&self, world: impl Into<Bytes>) -> Result<Bytes, Error> {
        let response = self.exchange(self.requests.put_state(world.into())?).await?;
        response::read_bytes(&response, std::time::SystemTime::now())
    }

    /// The requests the server answered (its last 1000 at most), newest
    /// first, that pass `filter`.
    pub async fn list_requests(&self, filter: &RequestFilter) -> Result<Vec<RecordedRequest>, Error> {
        let items: Items<RecordedRequest> = self.send(self.requests.list_requests(filter)?).await?;
        Ok(items.items)
    }

    /// Empties the server's request journal.
    pub async fn clear_requests(&self) -> Result<(), Error> {
        self.send_no_content(self.requests.clear_requests()?).await
    }

    /// The fault rules in force.
    pub async fn list_faults(&self) -> Result<Vec<FaultRule>, Error> {
        let items: Items<FaultRule> = self.send(self.requests.list_faults()?).await?;
        Ok(items.items)
    }

    /// Replaces the fault rules in force with `rules`; answers them as the
    /// server keeps them. Rules that break the rules of faults (a status
    /// outside 400 to 599, say) are refused with every problem at its
    /// pointer ([`Error::InvalidRequest`]), and nothing changes.
    pub async fn set_faults(&self, rules: &[FaultRule]) -> Result<Vec<FaultRule>, Error> {
        let items: Items<FaultRule> = self.send(self.requests.set_faults(rules)?).await?;
        Ok(items.items)
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) -> Result<(), Error> {
        self.send_no_content(self.requests.clear_faults()?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, factory, header};

    #[test]
    fn each_operation_addresses_the_administration_api() {
        let cases = [
            (factory().reset_state().unwrap(), Method::POST, "/_iteration/reset"),
            (factory().get_state().unwrap(), Method::GET, "/_iteration/state"),
            (factory().clear_requests().unwrap(), Method::DELETE, "/_iteration/requests"),
            (factory().list_faults().unwrap(), Method::GET, "/_iteration/faults"),
            (factory().clear_faults().unwrap(), Method::DELETE, "/_iteration/faults"),
            (
                factory().list_requests(&RequestFilter::default()).unwrap(),
                Method::GET,
                "/_iteration/requests",
            ),
        ];
        for (request, method, path) in cases {
            assert_eq!(request.method(), method);
            assert_eq!(request.uri().to_string(), format!("https://app.launchdarkly.com{path}"));
            assert!(request.body().is_empty());
            assert_common_headers(&request);
        }
    }

    #[test]
    fn the_journal_filter_is_the_query_and_bodies_are_json() {
        let filter = RequestFilter::default().operation("createIteration").status(503).limit(5);
        let request = factory().list_requests(&filter).unwrap();
        assert_eq!(request.uri().query(), Some("operation=createIteration&status=503&limit=5"));

        let request =
            factory().set_faults(&[FaultRule::status(503).operation("getExperiment").times(1)]).unwrap();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(request.body().as_ref(), br#"[{"operation":"getExperiment","status":503,"times":1}]"#);

        let world = Bytes::from_static(b"{\"formatVersion\": 2}");
        let request = factory().put_state(world.clone()).unwrap();
        assert_eq!((request.method(), request.body()), (&Method::PUT, &world));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
    }
}
