//! Shared test fixtures: a throwaway CA, servers on loopback, clients.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bytes::Bytes;
use iteration_transport::{ClientConfig, Handler, HttpClient, Server, ServerConfig, ServerHandle, TlsConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A CA and a leaf it signed for the given names.
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn pki_for(names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "iteration test CA");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf = CertificateParams::new(names).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    Pki { ca_pem: ca_cert.pem(), cert_pem: leaf.pem(), key_pem: leaf_key.serialize_pem() }
}

pub fn pki() -> Pki {
    pki_for(&["localhost", "127.0.0.1"])
}

pub fn tls_config(pki: &Pki) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.tls = Some(TlsConfig::from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes()).unwrap());
    config
}

pub async fn start(config: ServerConfig, handler: impl Handler) -> ServerHandle {
    Server::bind("127.0.0.1:0".parse().unwrap(), config).await.unwrap().spawn(handler)
}

pub fn client(config: ClientConfig) -> HttpClient {
    HttpClient::new(config).unwrap()
}

pub fn trusting(pki: &Pki) -> ClientConfig {
    let mut config = ClientConfig::default();
    config.add_root_certificate_pem(pki.ca_pem.as_bytes()).unwrap();
    config
}

pub fn get(uri: impl AsRef<str>) -> http::Request<Bytes> {
    http::Request::get(uri.as_ref()).body(Bytes::new()).unwrap()
}

pub fn post(uri: impl AsRef<str>, body: &'static [u8]) -> http::Request<Bytes> {
    http::Request::post(uri.as_ref()).body(Bytes::from_static(body)).unwrap()
}

pub fn text(status: u16, body: impl Into<Bytes>) -> http::Response<Bytes> {
    let mut response = http::Response::new(body.into());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

pub const SHORT: Duration = Duration::from_millis(200);
