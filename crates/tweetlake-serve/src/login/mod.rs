//! The Postgres login of `serve`: one user (`serve.user`/`serve.password`), proved with
//! SCRAM-SHA-256 or, for old clients, MD5 (`serve.auth`). Each connection runs its own exchange
//! (pgwire's handlers keep one exchange for the whole server, so simultaneous logins from a
//! Grafana pool overwrote each other's and failed at random); secrets are compared in constant
//! time, and repeated failures from one address are slowed down.

mod scram;

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use datafusion_postgres::pgwire::api::auth::md5pass::hash_md5_password;
use datafusion_postgres::pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
    DefaultServerParameterProvider, LoginInfo, StartupHandler,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::Authentication;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};
use ring::rand::{SecureRandom, SystemRandom};
use tweetlake_core::config::PgAuth;

/// The longest a failed login from one address is held back.
const MAX_DELAY: Duration = Duration::from_secs(5);
/// Failures older than this no longer slow an address down.
const FORGET_AFTER: Duration = Duration::from_secs(60);

/// How the password is proved, with what the server keeps to check it.
enum Proof {
    Scram(scram::Secret),
    Md5 { password: String },
}

/// The login every connection checks against, and what connections share: the failure counts
/// per address and the registry that cancel requests look connections up in.
pub struct Credentials {
    user: String,
    proof: Proof,
    throttle: Arc<Throttle>,
    parameters: DefaultServerParameterProvider,
    pids: RandomPidSecretKeyGenerator,
    connections: Arc<ConnectionManager>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The system's random source failing leaves zeroes: the salt or nonce is then predictable,
    // never a panic; SystemRandom reads getrandom(2), which does not fail once the system booted.
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes
}

impl Credentials {
    pub fn new(
        user: &str,
        password: &str,
        auth: PgAuth,
        throttle: Arc<Throttle>,
        connections: Arc<ConnectionManager>,
    ) -> Credentials {
        let proof = match auth {
            PgAuth::ScramSha256 => Proof::Scram(scram::Secret::new(
                password,
                &random::<16>(),
                NonZeroU32::new(scram::ITERATIONS).unwrap_or(NonZeroU32::MIN),
            )),
            PgAuth::Md5 => Proof::Md5 {
                password: password.to_string(),
            },
        };
        Credentials {
            user: user.to_string(),
            proof,
            throttle,
            parameters: DefaultServerParameterProvider::default(),
            pids: RandomPidSecretKeyGenerator::default(),
            connections,
        }
    }
}

/// Failed logins per address, shared by the Postgres and the HTTP side.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Throttle {
    /// How long to hold back a failed login from `addr`: 250 ms doubling with each recent failure.
    pub fn failed(&self, addr: IpAddr) -> Duration {
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

/// Where one connection's login stands.
enum Step {
    AwaitingStartup,
    Md5 { salt: [u8; 4] },
    ScramStart,
    ScramFinal(scram::Exchange),
}

/// One connection's login.
pub struct Login {
    credentials: Arc<Credentials>,
    step: Mutex<Step>,
}

impl Login {
    pub fn new(credentials: Arc<Credentials>) -> Login {
        Login {
            credentials,
            step: Mutex::new(Step::AwaitingStartup),
        }
    }

    fn take_step(&self) -> Step {
        self.step
            .lock()
            .map(|mut s| std::mem::replace(&mut *s, Step::AwaitingStartup))
            .unwrap_or(Step::AwaitingStartup)
    }

    fn set_step(&self, step: Step) {
        if let Ok(mut s) = self.step.lock() {
            *s = step;
        }
    }
}

/// Equal bytes, in a time that depends only on the lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn protocol_error(message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        "08P01".into(), // protocol_violation
        message,
    )))
}

#[async_trait]
impl StartupHandler for Login {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let credentials = &self.credentials;
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                let request = match credentials.proof {
                    Proof::Scram(_) => {
                        self.set_step(Step::ScramStart);
                        Authentication::SASL(vec![scram::MECHANISM.to_string()])
                    }
                    Proof::Md5 { .. } => {
                        let salt = random::<4>();
                        self.set_step(Step::Md5 { salt });
                        Authentication::MD5Password(salt.to_vec())
                    }
                };
                client
                    .send(PgWireBackendMessage::Authentication(request))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let user = LoginInfo::from_client_info(client)
                    .user()
                    .unwrap_or_default()
                    .to_string();
                let right_user = constant_time_eq(user.as_bytes(), credentials.user.as_bytes());
                let proved = match (self.take_step(), &credentials.proof) {
                    (Step::Md5 { salt }, Proof::Md5 { password }) => {
                        let given = message.into_password()?;
                        let expected = hash_md5_password(&credentials.user, password, &salt);
                        constant_time_eq(given.password.as_bytes(), expected.as_bytes())
                            .then_some(None)
                    }
                    (Step::ScramStart, Proof::Scram(secret)) => {
                        let initial = message.into_sasl_initial_response()?;
                        if initial.auth_method != scram::MECHANISM {
                            return Err(PgWireError::UnsupportedSASLAuthMethod(
                                initial.auth_method,
                            ));
                        }
                        let data = initial.data.unwrap_or_default();
                        let nonce = STANDARD.encode(random::<18>());
                        let (first, exchange) = scram::server_first(secret, &data, &nonce)
                            .map_err(|e| protocol_error(e.to_string()))?;
                        self.set_step(Step::ScramFinal(exchange));
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(first.into_bytes().into()),
                            ))
                            .await?;
                        return Ok(());
                    }
                    (Step::ScramFinal(exchange), Proof::Scram(secret)) => {
                        let response = message.into_sasl_response()?;
                        match scram::server_final(secret, &exchange, &response.data) {
                            Ok(last) => Some(Some(last)),
                            Err(scram::ScramError::WrongProof) => None,
                            Err(e) => return Err(protocol_error(e.to_string())),
                        }
                    }
                    _ => return Err(PgWireError::InvalidSASLState),
                };
                let Some(server_final) = proved.filter(|_| right_user) else {
                    let delay = credentials.throttle.failed(client.socket_addr().ip());
                    tracing::warn!(%user, addr = %client.socket_addr(), ?delay, "failed login");
                    tokio::time::sleep(delay).await;
                    return Err(PgWireError::InvalidPassword(user));
                };
                if let Some(last) = server_final {
                    client
                        .send(PgWireBackendMessage::Authentication(
                            Authentication::SASLFinal(last.into_bytes().into()),
                        ))
                        .await?;
                }
                let (pid, secret_key) = credentials.pids.generate(client);
                client.set_pid_and_secret_key(pid, secret_key.clone());
                let (handle, guard) = credentials.connections.register(pid, secret_key);
                client.session_extensions().insert(handle);
                client.session_extensions().insert(guard);
                finish_authentication(client, &credentials.parameters).await?;
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
    fn compares_in_constant_time() {
        assert!(constant_time_eq(b"md5abc", b"md5abc"));
        assert!(!constant_time_eq(b"md5abc", b"md5abd"));
        assert!(!constant_time_eq(b"md5abc", b"md5ab"));
    }

    #[test]
    fn failures_from_one_address_wait_longer_up_to_a_cap() {
        let throttle = Throttle::default();
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let waits: Vec<Duration> = (0..8).map(|_| throttle.failed(addr)).collect();
        assert_eq!(waits[0], Duration::from_millis(250));
        assert_eq!(waits[1], Duration::from_millis(500));
        assert_eq!(waits[7], MAX_DELAY);
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(throttle.failed(other), Duration::from_millis(250));
    }
}
