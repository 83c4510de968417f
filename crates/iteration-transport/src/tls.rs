//! rustls configuration for both sides.
//!
//! The ring provider is named explicitly instead of relying on a process-wide
//! default, so that linking another crate that installs a different provider
//! can never change (or break) this crate's behaviour.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{BuildError, TlsConfigError, TlsFailure};

/// ALPN protocols we offer/accept over TLS, preferred first.
const ALPN_H2_AND_H1: [&[u8]; 2] = [b"h2", b"http/1.1"];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS 1.3 and 1.2 only: anything older is broken and refused.
const VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Parses every certificate of a PEM document; fails if there is none.
pub(crate) fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BuildError::InvalidRootCertificate(Box::new(e)))?;
    if certs.is_empty() {
        return Err(BuildError::NoCertificate);
    }
    Ok(certs)
}

/// Reads a PEM file of CA certificates.
pub(crate) fn read_pem_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    let pem = std::fs::read(path)
        .map_err(|source| BuildError::ReadCertificateFile { path: path.to_path_buf(), source })?;
    parse_pem_certificates(&pem)
        .map_err(|e| BuildError::CertificateFile { path: path.to_path_buf(), source: Box::new(e) })
}

/// Adds the operating system's trusted roots to `roots`.
///
/// A machine without a readable store (a minimal container) still has the
/// bundled public roots, so failures are logged, never fatal. Certificates
/// the store holds but rustls cannot use are skipped the same way.
fn add_system_roots(roots: &mut rustls::RootCertStore) {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "could not load some of the system's trusted certificates");
    }
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::debug!(added, ignored, "skipped unusable system certificates");
    }
}

/// Client config: webpki public roots, the system's roots when
/// `system_roots`, plus `extra_roots`; ALPN h2 + http/1.1 (or h2 only when
/// the client speaks nothing else).
pub(crate) fn client_config(
    extra_roots: &[CertificateDer<'static>],
    system_roots: bool,
    http2_only: bool,
) -> Result<rustls::ClientConfig, BuildError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if system_roots {
        add_system_roots(&mut roots);
    }
    for cert in extra_roots {
        roots.add(cert.clone()).map_err(|e| BuildError::InvalidRootCertificate(Box::new(e)))?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| BuildError::Tls(Box::new(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols =
        if http2_only { vec![b"h2".to_vec()] } else { ALPN_H2_AND_H1.iter().map(|p| p.to_vec()).collect() };
    Ok(config)
}

/// Classifies a failed client handshake. tokio-rustls reports rustls errors
/// wrapped in an `io::Error`; anything else is a transport problem during the
/// handshake and counts as a generic handshake failure.
pub(crate) fn classify_handshake_error(err: &std::io::Error) -> TlsFailure {
    use rustls::CertificateError as C;
    match err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(cert)) => match cert {
            C::UnknownIssuer => TlsFailure::UntrustedCertificate,
            _ => TlsFailure::InvalidCertificate,
        },
        _ => TlsFailure::Handshake,
    }
}

/// Server-side TLS: a certificate chain and its private key.
///
/// ALPN offers `h2` and `http/1.1`, so one port serves both protocols.
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1) from files.
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, TlsConfigError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsConfigError::Read { path: path.to_path_buf(), source })
        };
        let cert = read(cert_path.as_ref())?;
        let key = read(key_path.as_ref())?;
        Self::from_pem(&cert, &key)
    }

    /// Builds the configuration from in-memory PEM documents.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsConfigError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsConfigError::InvalidCertificate(Box::new(e)))?;
        if chain.is_empty() {
            return Err(TlsConfigError::NoCertificate);
        }
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsConfigError::InvalidKey(Box::new(e)))?;
        let mut server = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(VERSIONS)
            .map_err(|e| TlsConfigError::Rejected(Box::new(e)))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsConfigError::Rejected(Box::new(e)))?;
        server.alpn_protocols = ALPN_H2_AND_H1.iter().map(|p| p.to_vec()).collect();
        Ok(Self { server: Arc::new(server) })
    }
}
