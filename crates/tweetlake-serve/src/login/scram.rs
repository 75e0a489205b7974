//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, server side, as pure functions over
//! the exchanged messages. The server keeps only the salted keys, never the password in the clear;
//! the proof is checked in constant time. Channel binding (`-PLUS`) is not offered.

use std::num::NonZeroU32;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::{digest, hmac, pbkdf2};

pub const MECHANISM: &str = "SCRAM-SHA-256";
/// PostgreSQL's own default iteration count.
pub const ITERATIONS: u32 = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramError {
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    #[error("channel binding is not offered")]
    ChannelBinding,
    #[error("wrong password")]
    WrongProof,
}

/// What the server stores for one password.
pub struct Secret {
    salt: Vec<u8>,
    iterations: NonZeroU32,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl Secret {
    pub fn new(password: &str, salt: &[u8], iterations: NonZeroU32) -> Secret {
        // PostgreSQL uses the password as is when SASLprep rejects it.
        let normalized = stringprep::saslprep(password)
            .map(|p| p.into_owned())
            .unwrap_or_else(|_| password.to_string());
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            salt,
            normalized.as_bytes(),
            &mut salted,
        );
        let client_key = sign(&salted, b"Client Key");
        Secret {
            salt: salt.to_vec(),
            iterations,
            stored_key: digest::digest(&digest::SHA256, &client_key)
                .as_ref()
                .to_vec(),
            server_key: sign(&salted, b"Server Key"),
        }
    }
}

fn sign(key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message)
        .as_ref()
        .to_vec()
}

/// What the server remembers between its first message and the client's last.
#[derive(Debug, Clone)]
pub struct Exchange {
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// Answers the client's first message (`n,,n=user,r=nonce`): the server-first message and the
/// exchange to check the client's final message against. `server_nonce` must be fresh.
pub fn server_first(
    secret: &Secret,
    client_first: &[u8],
    server_nonce: &str,
) -> Result<(String, Exchange), ScramError> {
    let text = std::str::from_utf8(client_first).map_err(|_| ScramError::Malformed("not UTF-8"))?;
    let (flag, rest) = text
        .split_once(',')
        .ok_or(ScramError::Malformed("no GS2 header"))?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(ScramError::ChannelBinding),
        _ => return Err(ScramError::Malformed("bad channel-binding flag")),
    }
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or(ScramError::Malformed("no client-first-message-bare"))?;
    if !authzid.is_empty() && !authzid.starts_with("a=") {
        return Err(ScramError::Malformed("bad authzid"));
    }
    // PostgreSQL ignores the SCRAM user name (the startup message names the user).
    let client_nonce = bare
        .split(',')
        .find_map(|part| part.strip_prefix("r="))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b','))
        .ok_or(ScramError::Malformed("no client nonce"))?;
    if bare.split(',').any(|part| part.starts_with("m=")) {
        return Err(ScramError::Malformed(
            "mandatory extensions are not supported",
        ));
    }
    let nonce = format!("{client_nonce}{server_nonce}");
    let server_first = format!(
        "r={nonce},s={},i={}",
        STANDARD.encode(&secret.salt),
        secret.iterations
    );
    let exchange = Exchange {
        gs2_header: format!("{flag},{authzid},"),
        client_first_bare: bare.to_string(),
        server_first: server_first.clone(),
        nonce,
    };
    Ok((server_first, exchange))
}

/// Checks the client's final message (`c=…,r=…,p=proof`); on success, the server-final message
/// (`v=signature`) that proves the server knew the password too.
pub fn server_final(
    secret: &Secret,
    exchange: &Exchange,
    client_final: &[u8],
) -> Result<String, ScramError> {
    let text = std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
    let (without_proof, proof) = text
        .rsplit_once(",p=")
        .ok_or(ScramError::Malformed("no proof"))?;
    let mut parts = without_proof.split(',');
    let binding = parts
        .next()
        .and_then(|p| p.strip_prefix("c="))
        .ok_or(ScramError::Malformed("no channel binding"))?;
    if STANDARD.decode(binding).ok().as_deref() != Some(exchange.gs2_header.as_bytes()) {
        return Err(ScramError::Malformed(
            "channel binding differs from the GS2 header",
        ));
    }
    let nonce = parts
        .next()
        .and_then(|p| p.strip_prefix("r="))
        .ok_or(ScramError::Malformed("no nonce"))?;
    if nonce != exchange.nonce {
        return Err(ScramError::Malformed("the nonce is not the one agreed"));
    }
    let proof = STANDARD
        .decode(proof)
        .map_err(|_| ScramError::Malformed("proof is not base64"))?;
    let auth_message = format!(
        "{},{},{without_proof}",
        exchange.client_first_bare, exchange.server_first
    );
    let client_signature = sign(&secret.stored_key, auth_message.as_bytes());
    if proof.len() != client_signature.len() {
        return Err(ScramError::WrongProof);
    }
    let client_key: Vec<u8> = proof
        .iter()
        .zip(&client_signature)
        .map(|(p, s)| p ^ s)
        .collect();
    let stored = digest::digest(&digest::SHA256, &client_key);
    if !super::constant_time_eq(stored.as_ref(), &secret.stored_key) {
        return Err(ScramError::WrongProof);
    }
    let signature = sign(&secret.server_key, auth_message.as_bytes());
    Ok(format!("v={}", STANDARD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example exchange of RFC 7677, section 3.
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    fn rfc_secret(password: &str) -> Secret {
        let salt = STANDARD.decode(SALT).unwrap();
        Secret::new(password, &salt, NonZeroU32::new(4096).unwrap())
    }

    #[test]
    fn rfc_7677_exchange() {
        let secret = rfc_secret("pencil");
        let (first, exchange) =
            server_first(&secret, CLIENT_FIRST.as_bytes(), SERVER_NONCE).unwrap();
        assert_eq!(
            first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let last = server_final(&secret, &exchange, CLIENT_FINAL.as_bytes()).unwrap();
        assert_eq!(last, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn wrong_password_and_tampering_are_refused() {
        let secret = rfc_secret("not-pencil");
        let (_, exchange) = server_first(&secret, CLIENT_FIRST.as_bytes(), SERVER_NONCE).unwrap();
        assert_eq!(
            server_final(&secret, &exchange, CLIENT_FINAL.as_bytes()),
            Err(ScramError::WrongProof)
        );
        let secret = rfc_secret("pencil");
        let (_, exchange) = server_first(&secret, CLIENT_FIRST.as_bytes(), "other").unwrap();
        assert!(matches!(
            server_final(&secret, &exchange, CLIENT_FINAL.as_bytes()),
            Err(ScramError::Malformed(_))
        ));
        for bad in [
            "",
            "n",
            "p=tls-server-end-point,,n=u,r=x",
            "x,,n=u,r=abc",
            "n,,n=u",
            "n,,n=u,r=a,m=x",
        ] {
            assert!(server_first(&secret, bad.as_bytes(), "s").is_err(), "{bad}");
        }
        let (_, exchange) = server_first(&secret, CLIENT_FIRST.as_bytes(), SERVER_NONCE).unwrap();
        for bad in [
            "",
            "c=biws",
            "c=eSws,r=x,p=AAAA",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=@@",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
        ] {
            assert!(
                server_final(&secret, &exchange, bad.as_bytes()).is_err(),
                "{bad}"
            );
        }
    }
}
