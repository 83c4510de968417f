//! HTTP proxies: which one a request goes through, and the `CONNECT` tunnel
//! that carries TLS through it.
//!
//! Nothing here reads the process environment on its own: a
//! [`ProxyConfig`] is either built by hand or by
//! [`ProxyConfig::from_env`], which the application calls explicitly.

use std::fmt;

use http::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::BuildError;

/// An HTTP proxy: where it listens and the credentials it wants.
///
/// `Debug` never shows the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    /// `Basic <base64(user:password)>`, marked sensitive.
    authorization: Option<HeaderValue>,
}

impl Proxy {
    /// Parses a proxy URL, `http://[user:password@]host[:port]`.
    ///
    /// The scheme may be left out (`host:port` means `http://host:port`); the
    /// port defaults to 80. User and password are percent-decoded and sent as
    /// `Proxy-Authorization: Basic ...`. Only plain-HTTP proxies are
    /// supported: `https://` and `socks5://` proxies are refused. A trailing
    /// `/` is accepted; any other path, a query or a fragment is refused.
    ///
    /// Error messages never repeat the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<Self, BuildError> {
        let invalid = |reason: &'static str| BuildError::InvalidProxy { variable: None, reason };
        let url = url.trim();
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(invalid("only http:// proxies are supported")),
            None => url,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(invalid("a proxy URL has no path, query or fragment"));
        }
        // The userinfo ends at the last `@`: a raw `@` in a password is
        // common enough to tolerate.
        let (userinfo, host_port) = match rest.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, rest),
        };
        let (host, port) = split_host_port(host_port).ok_or_else(|| invalid("the port is not a number"))?;
        if host.is_empty() {
            return Err(invalid("the proxy URL has no host"));
        }
        let authorization = match userinfo {
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user =
                    percent_decode(user).ok_or_else(|| invalid("the user name is badly percent-encoded"))?;
                let password = percent_decode(password)
                    .ok_or_else(|| invalid("the password is badly percent-encoded"))?;
                let mut credentials = user;
                credentials.push(b':');
                credentials.extend_from_slice(&password);
                let mut value = HeaderValue::try_from(format!("Basic {}", base64(&credentials)))
                    .map_err(|_| invalid("the credentials cannot be sent in a header"))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self { host: host.to_ascii_lowercase(), port: port.unwrap_or(80), authorization })
    }

    /// The proxy's host name or IP address (without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some()
    }

    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::str::FromStr for Proxy {
    type Err = BuildError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Self::parse(url)
    }
}

/// Which proxy each request goes through.
///
/// `https` targets are reached through an HTTP `CONNECT` tunnel to
/// [`https`](Self::https), with TLS to the target inside it; `http` targets
/// are sent to [`http`](Self::http) with the full URL as request target.
/// Hosts matched by [`no_proxy`](Self::no_proxy) are reached directly. The
/// default uses no proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// The proxy for `https` URLs.
    pub https: Option<Proxy>,
    /// The proxy for `http` URLs. With `http2_only` set on the client this
    /// proxy must itself speak HTTP/2 without upgrade, which few do.
    pub http: Option<Proxy>,
    /// Hosts reached without a proxy.
    pub no_proxy: NoProxy,
}

/// Environment variables [`ProxyConfig::from_env`] reads, each in the order
/// tried: the lower-case spelling wins when both are set.
pub const PROXY_ENV_VARS: [[&str; 2]; 3] =
    [["https_proxy", "HTTPS_PROXY"], ["http_proxy", "HTTP_PROXY"], ["no_proxy", "NO_PROXY"]];

impl ProxyConfig {
    /// No proxy at all (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads `https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY` and
    /// `no_proxy`/`NO_PROXY` from the process environment (see
    /// [`PROXY_ENV_VARS`]). Empty values count as unset.
    pub fn from_env() -> Result<Self, BuildError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `var`
    /// (a map lookup in tests, for instance).
    pub fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let lookup = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                let value = var(name)?;
                let value = value.trim();
                (!value.is_empty()).then(|| (name, value.to_owned()))
            })
        };
        let proxy = |names| match lookup(names) {
            Some((name, url)) => Proxy::parse(&url).map(Some).map_err(|e| e.for_setting(name)),
            None => Ok(None),
        };
        let [https, http, no_proxy] = PROXY_ENV_VARS;
        Ok(Self {
            https: proxy(https)?,
            http: proxy(http)?,
            no_proxy: lookup(no_proxy).map(|(_, list)| NoProxy::parse(&list)).unwrap_or_default(),
        })
    }

    /// The proxy a request to `scheme://host:port` goes through, if any.
    pub fn proxy_for(&self, https: bool, host: &str, port: u16) -> Option<&Proxy> {
        let proxy = if https { self.https.as_ref() } else { self.http.as_ref() }?;
        (!self.no_proxy.matches(host, port)).then_some(proxy)
    }
}

/// Hosts that bypass the proxy, as in `NO_PROXY`.
///
/// A comma-separated list; each entry is
/// - `*`: every host;
/// - a domain, with or without a leading `.` or `*.`: `example.com` and
///   `.example.com` both match `example.com` itself and every name under it
///   (`api.example.com`), but not `badexample.com`;
/// - an IP address (`127.0.0.1`, `::1` or `[::1]`), matched exactly; address
///   ranges (CIDR) are not understood.
///
/// An entry may end in `:port`, and then matches that port only; without a
/// port it matches every port. Matching ignores case and a trailing dot.
/// Names are compared as written: `localhost` does not match `127.0.0.1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    entries: Vec<NoProxyEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct NoProxyEntry {
    /// Lower case, without brackets, leading dots or trailing dot.
    host: String,
    port: Option<u16>,
}

impl NoProxy {
    /// Parses a `NO_PROXY` list; entries that cannot be understood (a bad
    /// port) are ignored with a warning.
    pub fn parse(list: &str) -> Self {
        let mut no_proxy = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no_proxy.everything = true;
                continue;
            }
            let Some((host, port)) = split_host_port(entry) else {
                tracing::warn!(entry, "ignoring a NO_PROXY entry whose port is not a number");
                continue;
            };
            let host = host.trim_start_matches("*.").trim_start_matches('.');
            let host = normalise_host(host);
            if !host.is_empty() {
                no_proxy.entries.push(NoProxyEntry { host, port });
            }
        }
        no_proxy
    }

    /// Whether a request to `host:port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let host = normalise_host(host);
        self.entries.iter().any(|entry| {
            let port_ok = entry.port.is_none_or(|p| p == port);
            let host_ok = host == entry.host
                || (host.len() > entry.host.len()
                    && host.ends_with(entry.host.as_str())
                    && host.as_bytes()[host.len() - entry.host.len() - 1] == b'.'
                    // An IP address has no subdomains: `1.0.0.1` must not
                    // match an entry `0.0.1`.
                    && host.parse::<std::net::IpAddr>().is_err());
            port_ok && host_ok
        })
    }
}

fn normalise_host(host: &str) -> String {
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
/// `None` when a port is present but not a number.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match text.split_once(':') {
        // More than one colon: a bare IPv6 address, which has no port.
        Some((_, rest)) if rest.contains(':') => Some((text, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((text, None)),
    }
}

/// Decodes `%XX` escapes; `None` when an escape is malformed.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Standard base64 with padding (RFC 4648, section 4), as Basic auth wants.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // A chunk of k bytes gives k + 1 significant characters.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `host:port` as written in a request target, with brackets for IPv6.
pub(crate) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// Largest `CONNECT` answer head we read: proxies answer in a few hundred
/// bytes, so this only bounds a misbehaving one.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// Why a `CONNECT` tunnel could not be opened.
#[derive(Debug)]
pub(crate) enum TunnelError {
    /// Writing or reading the socket failed.
    Io(std::io::Error),
    /// The proxy answered with this non-2xx status.
    Status(u16),
    /// The proxy's answer is not an HTTP response head, or is too large, or
    /// is followed by bytes before the TLS handshake started.
    Invalid,
}

/// Asks the proxy on `stream` to open a tunnel to `host:port` and reads its
/// answer. On success the stream carries bytes to and from the target.
pub(crate) async fn connect_tunnel(
    stream: &mut TcpStream,
    host: &str,
    port: u16,
    authorization: Option<&HeaderValue>,
) -> Result<(), TunnelError> {
    let target = authority(host, port);
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(value) = authorization {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await.map_err(TunnelError::Io)?;

    let mut buffer = Vec::with_capacity(512);
    let end = loop {
        if let Some(at) = find_head_end(&buffer) {
            break at;
        }
        if buffer.len() >= MAX_CONNECT_RESPONSE {
            return Err(TunnelError::Invalid);
        }
        let mut chunk = [0u8; 1024];
        let read = stream.read(&mut chunk).await.map_err(TunnelError::Io)?;
        if read == 0 {
            return Err(TunnelError::Invalid);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let status = parse_status_line(&buffer[..end]).ok_or(TunnelError::Invalid)?;
    if !(200..300).contains(&status) {
        return Err(TunnelError::Status(status));
    }
    // The TLS client speaks first, so a proxy that already sent more is
    // confused, and those bytes would corrupt the handshake.
    if buffer.len() > end {
        return Err(TunnelError::Invalid);
    }
    Ok(())
}

/// The index just past the blank line ending a response head.
fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}

/// The status code of `HTTP/1.x SSS reason`.
fn parse_status_line(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn base64_known_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn proxy_urls() {
        let proxy = Proxy::parse("http://proxy.corp:3128").unwrap();
        assert_eq!((proxy.host(), proxy.port(), proxy.has_credentials()), ("proxy.corp", 3128, false));
        let proxy = Proxy::parse("PROXY.corp").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("proxy.corp", 80));
        let proxy = Proxy::parse("http://[::1]:8080/").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("::1", 8080));
        let proxy = Proxy::parse("10.0.0.1:9").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("10.0.0.1", 9));
    }

    #[test]
    fn proxy_credentials_are_percent_decoded_into_basic_auth() {
        let proxy = Proxy::parse("http://us%40er:p%3Ass@w@127.0.0.1:3128").unwrap();
        // base64("us@er:p:ss@w")
        assert_eq!(proxy.authorization().unwrap(), "Basic dXNAZXI6cDpzc0B3");
        assert!(proxy.authorization().unwrap().is_sensitive());
        assert_eq!(Proxy::parse("http://user@h:1").unwrap().authorization().unwrap(), "Basic dXNlcjo=");
        assert!(!format!("{proxy:?}").contains("dXNAZXI6cDpzc0B3"));
    }

    #[test]
    fn bad_proxy_urls_say_why_without_repeating_the_url() {
        for (url, reason) in [
            ("https://proxy:443", "only http:// proxies are supported"),
            ("socks5://proxy:1080", "only http:// proxies are supported"),
            ("http://proxy:port", "the port is not a number"),
            ("http://proxy:99999", "the port is not a number"),
            ("http://proxy/path", "a proxy URL has no path, query or fragment"),
            ("http://:8080", "the proxy URL has no host"),
            ("http://u:%zz@proxy:1", "the password is badly percent-encoded"),
        ] {
            let error = Proxy::parse(url).unwrap_err();
            assert_eq!(error.to_string(), format!("invalid proxy URL: {reason}"), "{url}");
        }
        let error = Proxy::parse("http://user:secret@proxy:port").unwrap_err();
        assert!(!error.to_string().contains("secret"));
    }

    #[test]
    fn env_lower_case_wins_and_empty_is_unset() {
        let config = ProxyConfig::from_env_with(env(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
            ("http_proxy", "  "),
            ("HTTP_PROXY", "http://upper:3"),
            ("NO_PROXY", "localhost,.corp"),
        ]))
        .unwrap();
        assert_eq!(config.https.as_ref().map(Proxy::host), Some("lower"));
        assert_eq!(config.http.as_ref().map(|p| (p.host(), p.port())), Some(("upper", 3)));
        assert!(config.no_proxy.matches("localhost", 80));
        assert!(config.no_proxy.matches("api.corp", 443));
        assert_eq!(ProxyConfig::from_env_with(env(&[])).unwrap(), ProxyConfig::none());
    }

    #[test]
    fn env_errors_name_the_variable() {
        let error = ProxyConfig::from_env_with(env(&[("HTTPS_PROXY", "https://proxy")])).unwrap_err();
        assert_eq!(error.to_string(), "invalid proxy in HTTPS_PROXY: only http:// proxies are supported");
    }

    #[test]
    fn proxy_for_picks_by_scheme_and_honours_no_proxy() {
        let config = ProxyConfig::from_env_with(env(&[
            ("HTTPS_PROXY", "http://secure:1"),
            ("NO_PROXY", "internal.example:8443"),
        ]))
        .unwrap();
        assert_eq!(config.proxy_for(true, "example.com", 443).map(Proxy::host), Some("secure"));
        assert_eq!(config.proxy_for(false, "example.com", 80), None);
        assert_eq!(config.proxy_for(true, "internal.example", 8443), None);
        assert!(config.proxy_for(true, "internal.example", 443).is_some());
    }

    #[test]
    fn no_proxy_domains_match_themselves_and_subdomains() {
        for list in ["example.com", ".example.com", "*.example.com", "EXAMPLE.com."] {
            let no_proxy = NoProxy::parse(list);
            assert!(no_proxy.matches("example.com", 443), "{list}");
            assert!(no_proxy.matches("api.example.com", 443), "{list}");
            assert!(no_proxy.matches("A.B.Example.COM.", 80), "{list}");
            assert!(!no_proxy.matches("badexample.com", 443), "{list}");
            assert!(!no_proxy.matches("example.com.evil", 443), "{list}");
            assert!(!no_proxy.matches("com", 443), "{list}");
        }
    }

    #[test]
    fn no_proxy_ips_ports_and_wildcard() {
        let no_proxy = NoProxy::parse(" 127.0.0.1 , ::1,[fe80::1]:8080, 0.0.1, localhost:3000 ,, ");
        assert!(no_proxy.matches("127.0.0.1", 1));
        assert!(no_proxy.matches("::1", 443));
        assert!(no_proxy.matches("[::1]", 443));
        assert!(no_proxy.matches("fe80::1", 8080));
        assert!(!no_proxy.matches("fe80::1", 8081));
        assert!(!no_proxy.matches("127.0.0.2", 1));
        assert!(!no_proxy.matches("1.0.0.1", 1), "an IP address has no subdomains");
        assert!(no_proxy.matches("localhost", 3000));
        assert!(!no_proxy.matches("localhost", 3001));
        assert!(!no_proxy.matches("example.com", 443));

        assert!(NoProxy::parse("foo,*").matches("anything.at.all", 1));
        assert!(!NoProxy::parse("").matches("localhost", 80));
        // A bad port drops that entry only.
        let no_proxy = NoProxy::parse("a.example:http,b.example");
        assert!(!no_proxy.matches("a.example", 80));
        assert!(no_proxy.matches("b.example", 80));
    }

    #[test]
    fn connect_status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 Connection established\r\n\r\n"), Some(200));
        assert_eq!(parse_status_line(b"HTTP/1.0 407 Proxy Authentication Required\r\n"), Some(407));
        assert_eq!(parse_status_line(b"HTTP/1.1 200\r\n\r\n"), Some(200));
        assert_eq!(parse_status_line(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 2000 OK\r\n\r\n"), None);
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\r\n\r\nrest"), Some(19));
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\r\n"), None);
    }

    #[test]
    fn authorities_bracket_ipv6() {
        assert_eq!(authority("::1", 443), "[::1]:443");
        assert_eq!(authority("example.com", 443), "example.com:443");
    }
}
