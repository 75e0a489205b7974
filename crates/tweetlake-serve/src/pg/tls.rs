//! TLS for the Postgres endpoint, built here from `serve.tls_cert`/`serve.tls_key`: a file that is
//! missing, not PEM, a corrupt key or a key that is not the certificate's stops the command (the
//! library's own loader falls back to plain text with a warning).

use std::sync::Arc;

use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::ServeError;

fn bad(key: &'static str, reason: String) -> ServeError {
    ServeError::Config { key, reason }
}

fn read_pem(path: &str, key: &'static str, label: &str) -> Result<Vec<u8>, ServeError> {
    let bytes = std::fs::read(path).map_err(|e| bad(key, format!("{path}: {e}")))?;
    let marker = format!("-----BEGIN {label}-----");
    if !String::from_utf8_lossy(&bytes).contains(&marker) {
        return Err(bad(
            key,
            format!("{path} holds no PEM `{label}` block (the key must be PKCS#8)"),
        ));
    }
    Ok(bytes)
}

/// The acceptor for `cert` and `key`, or the reason they cannot serve TLS.
pub fn acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, ServeError> {
    let cert_pem = read_pem(cert, "tls_cert", "CERTIFICATE")?;
    let key_pem = read_pem(key, "tls_key", "PRIVATE KEY")?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("tls_cert", format!("{cert}: {e}")))?;
    let private = rustls_pemfile::pkcs8_private_keys(&mut key_pem.as_slice())
        .next()
        .ok_or_else(|| bad("tls_key", format!("{key}: no PKCS#8 private key")))?
        .map_err(|e| bad("tls_key", format!("{key}: {e}")))?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("tls_cert", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, PrivateKeyDer::from(private))
        .map_err(|e| {
            bad(
                "tls_key",
                format!("{key} cannot serve {cert}: {e} (is it that certificate's key?)"),
            )
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
