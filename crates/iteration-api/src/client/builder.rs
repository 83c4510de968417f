//! Configuring a [`Client`]: where it sends requests, with which token, and
//! how patiently.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderValue;
use iteration_transport::{ClientConfig, HttpClient, ProxyConfig, RetryNotice, RetryObserver, RetryPolicy};

use super::Client;
use super::error::Error;
use super::request::RequestFactory;

/// The `LD-API-Version` sent unless told otherwise.
pub const DEFAULT_API_VERSION: &str = "20240415";

/// Environment variables read for the token, in this order.
pub const TOKEN_ENV_VARS: [&str; 2] = ["LD_API_KEY", "LD_ACCESS_TOKEN"];

/// Where the API lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseUrl {
    /// `https://app.launchdarkly.com`.
    #[default]
    Commercial,
    /// `https://app.launchdarkly.us` (federal).
    Federal,
    /// `https://app.eu.launchdarkly.com`.
    Eu,
    /// Any other server, such as `http://127.0.0.1:8080`.
    Custom(String),
}

impl BaseUrl {
    /// The URL as text.
    pub fn as_str(&self) -> &str {
        match self {
            BaseUrl::Commercial => "https://app.launchdarkly.com",
            BaseUrl::Federal => "https://app.launchdarkly.us",
            BaseUrl::Eu => "https://app.eu.launchdarkly.com",
            BaseUrl::Custom(url) => url,
        }
    }

    /// `scheme://authority[/prefix]` without a trailing slash, after checking
    /// that requests can be built on it.
    fn normalised(&self) -> Result<String, Error> {
        let text = self.as_str().trim_end_matches('/');
        let uri: http::Uri = text.parse().map_err(|_| invalid_base_url(text))?;
        let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
        if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
            return Err(invalid_base_url(text));
        }
        Ok(text.to_owned())
    }
}

fn invalid_base_url(text: &str) -> Error {
    Error::Config(format!("base URL {text:?} is not an http or https URL such as http://127.0.0.1:8080"))
}

/// The API token, never shown by `Debug`.
#[derive(Clone)]
struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The retry observer, which `Debug` can only name.
#[derive(Clone)]
struct OnRetry(RetryObserver);

impl fmt::Debug for OnRetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<fn>")
    }
}

/// Builds a [`Client`]; start with [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    token: Option<Token>,
    base_url: BaseUrl,
    api_version: String,
    user_agent: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    on_retry: Option<OnRetry>,
    extra_root_pems: Vec<Vec<u8>>,
    extra_root_files: Vec<PathBuf>,
    system_roots: bool,
    proxy: ProxyConfig,
    validate_before_send: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        let transport = ClientConfig::default();
        Self {
            token: None,
            base_url: BaseUrl::default(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            user_agent: concat!("iteration/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: transport.connect_timeout,
            request_timeout: transport.request_timeout,
            retry: RetryPolicy::default(),
            on_retry: None,
            extra_root_pems: Vec::new(),
            extra_root_files: Vec::new(),
            system_roots: transport.system_roots,
            proxy: ProxyConfig::none(),
            validate_before_send: true,
        }
    }
}

impl ClientBuilder {
    /// The access token, sent raw in `Authorization`. Without one, `build`
    /// reads `LD_API_KEY`, then `LD_ACCESS_TOKEN`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token(token.into()));
        self
    }

    /// Where the API lives; default [`BaseUrl::Commercial`].
    pub fn base_url(mut self, base_url: BaseUrl) -> Self {
        self.base_url = base_url;
        self
    }

    /// The `LD-API-Version` header; default [`DEFAULT_API_VERSION`].
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The `User-Agent` header; default `iteration/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Limit for connecting (TCP and TLS); default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for each attempt, body included; default 30 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// When to retry. The default retries 429 for every method (honouring
    /// `Retry-After` and the `X-Ratelimit-*-Reset` headers), 5xx only for
    /// reads, and connection failures of writes only when the request never
    /// left; never 400, 401, 403, 404 or 409. [`RetryPolicy::never`] turns
    /// retries off.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Calls `observer` right before the client waits to send a request
    /// again, with the attempt that ended, the most allowed, the wait and
    /// whether the server rate-limited it: a command line can say why it is
    /// slow. Whatever [`retry_policy`](Self::retry_policy) is set, before or
    /// after, it keeps this observer.
    pub fn on_retry(mut self, observer: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(OnRetry(Arc::new(observer)));
        self
    }

    /// Trusts the certificates of a PEM document in addition to the public
    /// web roots (a private CA, a local test server).
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_root_pems.push(pem.into());
        self
    }

    /// Trusts the certificates of a PEM file in addition to the public web
    /// roots; the file is read by [`build`](Self::build).
    pub fn add_root_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_root_files.push(path.into());
        self
    }

    /// Whether to trust the operating system's root certificates besides
    /// the bundled public web roots; default true.
    pub fn system_roots(mut self, trust: bool) -> Self {
        self.system_roots = trust;
        self
    }

    /// The proxies to go through; default none. The environment is read
    /// only when asked: `ProxyConfig::from_env()`.
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Whether the experiment and iteration create and patch methods check
    /// their input locally first and return every violation without
    /// sending; default true. Catalog bodies (flags, metrics, groups,
    /// context kinds, settings) are checked by the server, which answers
    /// every problem at once; path keys are always checked before sending.
    pub fn validate_before_send(mut self, validate: bool) -> Self {
        self.validate_before_send = validate;
        self
    }

    /// Builds the client. Needs no runtime; calls need Tokio.
    pub fn build(self) -> Result<Client, Error> {
        let token = match self.token {
            Some(token) => token.0,
            None => token_from_env().ok_or_else(|| {
                Error::Config(format!("no API token: set {} or {}", TOKEN_ENV_VARS[0], TOKEN_ENV_VARS[1]))
            })?,
        };
        let mut token = HeaderValue::try_from(token)
            .map_err(|_| Error::Config("the API token has characters a header cannot carry".to_owned()))?;
        token.set_sensitive(true);
        let api_version = HeaderValue::try_from(self.api_version)
            .map_err(|_| Error::Config("the API version is not a valid header value".to_owned()))?;
        let user_agent = HeaderValue::try_from(self.user_agent.clone())
            .map_err(|_| Error::Config("the user agent is not a valid header value".to_owned()))?;

        let mut config = ClientConfig::default();
        config.connect_timeout = self.connect_timeout;
        config.request_timeout = self.request_timeout;
        config.user_agent = self.user_agent;
        config.retry = self.retry;
        if let Some(OnRetry(observer)) = self.on_retry {
            config.retry.observer = Some(observer);
        }
        for pem in &self.extra_root_pems {
            config
                .add_root_certificate_pem(pem)
                .map_err(|e| Error::Config(format!("cannot trust the extra CA certificate: {e}")))?;
        }
        for path in &self.extra_root_files {
            config.add_root_certificate_file(path).map_err(|e| Error::Config(with_causes(&e)))?;
        }
        config.system_roots = self.system_roots;
        config.proxy = self.proxy;
        let http = HttpClient::new(config)
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let requests = RequestFactory { base: self.base_url.normalised()?, token, api_version, user_agent };
        Ok(Client { http, requests, validate_before_send: self.validate_before_send })
    }
}

/// `error: cause: cause...`, since a configuration error keeps only text.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The first non-empty token among [`TOKEN_ENV_VARS`].
pub fn token_from_env() -> Option<String> {
    TOKEN_ENV_VARS.iter().filter_map(|name| std::env::var(name).ok()).find(|value| !value.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_custom_urls() {
        assert_eq!(BaseUrl::Commercial.normalised().unwrap(), "https://app.launchdarkly.com");
        assert_eq!(BaseUrl::Federal.normalised().unwrap(), "https://app.launchdarkly.us");
        assert_eq!(BaseUrl::Eu.normalised().unwrap(), "https://app.eu.launchdarkly.com");
        assert_eq!(
            BaseUrl::Custom("http://127.0.0.1:8080/".into()).normalised().unwrap(),
            "http://127.0.0.1:8080"
        );
        let error = BaseUrl::Custom("ftp://example".into()).normalised().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid client configuration: base URL \"ftp://example\" is not an http or https URL such as \
             http://127.0.0.1:8080"
        );
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let builder = ClientBuilder::default().token("api-very-secret");
        assert!(!format!("{builder:?}").contains("api-very-secret"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("api-very-secret"));
    }

    #[test]
    fn a_missing_ca_file_is_named_when_building() {
        let path = std::env::temp_dir().join("iteration-api-no-such-ca.pem");
        let error = ClientBuilder::default().token("t").add_root_certificate_file(&path).build().unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "invalid client configuration: cannot read the CA certificate file {}: ",
                path.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn proxies_and_roots_reach_the_transport_without_showing_credentials() {
        let proxy = ProxyConfig::from_env_with(|name| {
            (name == "HTTPS_PROXY").then(|| "http://user:hunter2@127.0.0.1:3128".to_owned())
        })
        .unwrap();
        let builder = ClientBuilder::default().token("t").proxy(proxy).system_roots(false);
        assert!(!format!("{builder:?}").contains("hunter2"));
        builder.build().unwrap();
    }

    #[test]
    fn a_token_that_cannot_be_a_header_is_refused() {
        let error = ClientBuilder::default().token("bad\ntoken").build().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid client configuration: the API token has characters a header cannot carry"
        );
    }
}
