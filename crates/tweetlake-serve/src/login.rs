//! The Postgres login of `serve`: MD5 password authentication with the salt kept in each
//! connection's own state. pgwire's MD5 handler keeps one salted hash for the whole server, so
//! simultaneous logins (a Grafana connection pool) overwrote each other's and failed at random.
//! The secret is compared in constant time, and repeated failures from one address are slowed down.

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::md5pass::hash_md5_password;
use datafusion_postgres::pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
    DefaultServerParameterProvider, LoginInfo, StartupHandler,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::Authentication;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};

/// Where a connection keeps the salt it was sent.
const SALT_KEY: &str = "tweetlake.md5_salt";
/// The longest a failed login from one address is held back.
const MAX_DELAY: Duration = Duration::from_secs(5);
/// Failures older than this no longer slow an address down.
const FORGET_AFTER: Duration = Duration::from_secs(60);

/// One user (`serve.user` / `serve.password`), each connection salted on its own.
pub struct Md5Login {
    user: String,
    password: String,
    parameters: DefaultServerParameterProvider,
    pids: RandomPidSecretKeyGenerator,
    connections: Arc<ConnectionManager>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Md5Login {
    pub fn new(user: &str, password: &str, connections: Arc<ConnectionManager>) -> Self {
        Self {
            user: user.to_string(),
            password: password.to_string(),
            parameters: DefaultServerParameterProvider::default(),
            pids: RandomPidSecretKeyGenerator::default(),
            connections,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long to hold back a failed login from `addr`: 250 ms doubling with each recent failure.
    fn failed(&self, addr: IpAddr) -> Duration {
        let Ok(mut failures) = self.failures.lock() else {
            return MAX_DELAY;
        };
        failures.retain(|_, (_, at)| at.elapsed() < FORGET_AFTER);
        let entry = failures.entry(addr).or_insert((0, Instant::now()));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = Instant::now();
        Duration::from_millis(250)
            .saturating_mul(1 << entry.0.saturating_sub(1).min(5))
            .min(MAX_DELAY)
    }
}

/// Equal bytes, in a time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[async_trait]
impl StartupHandler for Md5Login {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                let salt = crate::pg::salt();
                client
                    .metadata_mut()
                    .insert(SALT_KEY.to_string(), hex(&salt));
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::MD5Password(salt.to_vec()),
                    ))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let given = message.into_password()?;
                let login = LoginInfo::from_client_info(client);
                let user = login.user().unwrap_or_default().to_string();
                let salt = client.metadata().get(SALT_KEY).and_then(|s| unhex(s));
                let expected =
                    salt.map(|salt| hash_md5_password(&self.user, &self.password, &salt));
                let right_user = constant_time_eq(user.as_bytes(), self.user.as_bytes());
                let right_password = expected
                    .is_some_and(|e| constant_time_eq(given.password.as_bytes(), e.as_bytes()));
                if !(right_user && right_password) {
                    let delay = self.failed(client.socket_addr().ip());
                    tracing::warn!(%user, addr = %client.socket_addr(), ?delay, "failed login");
                    tokio::time::sleep(delay).await;
                    return Err(PgWireError::InvalidPassword(user));
                }
                client.metadata_mut().remove(SALT_KEY);
                let (pid, secret_key) = self.pids.generate(client);
                client.set_pid_and_secret_key(pid, secret_key.clone());
                let (handle, guard) = self.connections.register(pid, secret_key);
                client.session_extensions().insert(handle);
                client.session_extensions().insert(guard);
                finish_authentication(client, &self.parameters).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_and_encodes() {
        assert!(constant_time_eq(b"md5abc", b"md5abc"));
        assert!(!constant_time_eq(b"md5abc", b"md5abd"));
        assert!(!constant_time_eq(b"md5abc", b"md5ab"));
        assert_eq!(unhex(&hex(&[0, 7, 255, 16])), Some(vec![0, 7, 255, 16]));
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn failures_from_one_address_wait_longer_up_to_a_cap() {
        let login = Md5Login::new("u", "p", Arc::new(ConnectionManager::new()));
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let waits: Vec<Duration> = (0..8).map(|_| login.failed(addr)).collect();
        assert_eq!(waits[0], Duration::from_millis(250));
        assert_eq!(waits[1], Duration::from_millis(500));
        assert_eq!(waits[7], MAX_DELAY);
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(login.failed(other), Duration::from_millis(250));
    }
}
