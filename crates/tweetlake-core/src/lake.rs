//! Where each table of the lake lives: `<root>/<layer>/<name>` for Delta tables and
//! `<root>/parquet/<name>` for the optional plain-Parquet copy of bronze.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{CoreError, KeyError};
use crate::retry::RetryPolicy;
use crate::tables::{is_identifier, Layer};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LakeConfig {
    /// `file://./lake`, an absolute path, or `s3://bucket/prefix`.
    pub root: String,
    /// Extra object-store options (e.g. `aws_endpoint_url`); AWS_* environment variables also apply.
    pub storage_options: BTreeMap<String, String>,
    /// How often a promotion or maintenance step runs again when another writer's commit to the
    /// same table conflicted with its own (a compaction beside a merge), waiting 0.5 s, 1 s, 2 s …
    /// (at most 30 s) in between. 0 fails at the first conflict.
    pub conflict_retries: u32,
    /// The lake's id, which starts every Delta `txn` application id its readers record (see
    /// `txn::Consumer`): two deployments writing one lake need different ids. Was
    /// `bronze.app_id`, which is still read, with a deprecation warning.
    pub app_id: String,
}

impl Default for LakeConfig {
    fn default() -> Self {
        Self {
            root: "file://./lake".into(),
            storage_options: BTreeMap::new(),
            conflict_retries: 5,
            app_id: "tweetlake".into(),
        }
    }
}

impl LakeConfig {
    pub fn validate(&self) -> Result<(), KeyError> {
        Lake::from_config(self, Path::new("."))
            .map_err(|e| KeyError::of("lake.root", e.to_string()))?;
        if !is_identifier(&self.app_id, true) {
            return Err(KeyError::of(
                "lake.app_id",
                format!("`{}` must be letters, digits, `_`, `-` or `.`", self.app_id),
            ));
        }
        Ok(())
    }
}

/// The lake root, resolved to an absolute URL, plus the object-store options to open it with.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
    storage_options: HashMap<String, String>,
    conflict_retry: RetryPolicy,
    app_id: String,
}

impl Lake {
    /// Resolves `config.root`; relative local paths are taken relative to `base_dir`.
    pub fn from_config(config: &LakeConfig, base_dir: &Path) -> Result<Lake, CoreError> {
        let root = resolve_root(&config.root, base_dir)?;
        Ok(Lake {
            root,
            storage_options: config
                .storage_options
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            conflict_retry: RetryPolicy::new(config.conflict_retries),
            app_id: config.app_id.clone(),
        })
    }

    /// The lake's id (`lake.app_id`), which starts every `txn` id its readers record
    /// (`crate::txn::Consumer::app_id`).
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// How to retry a step whose commit conflicted with another writer's (`lake.conflict_retries`).
    pub fn conflict_retry(&self) -> RetryPolicy {
        self.conflict_retry
    }

    pub fn root(&self) -> &Url {
        &self.root
    }

    pub fn is_local(&self) -> bool {
        self.root.scheme() == "file"
    }

    pub fn storage_options(&self) -> &HashMap<String, String> {
        &self.storage_options
    }

    /// URL of a Delta table, ending without a slash as delta-rs expects.
    pub fn table_url(&self, layer: Layer, name: &str) -> Url {
        self.join(&format!("{}/{name}", layer.as_str()))
    }

    /// URL of the folder that holds a layer's tables.
    pub fn layer_url(&self, layer: Layer) -> Url {
        self.join(layer.as_str())
    }

    /// URL of the plain-Parquet copy of a bronze table.
    pub fn parquet_url(&self, name: &str) -> Url {
        self.join(&format!("parquet/{name}"))
    }

    fn join(&self, rel: &str) -> Url {
        let mut url = self.root.clone();
        let path = format!("{}/{rel}", self.root.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

fn resolve_root(raw: &str, base_dir: &Path) -> Result<Url, CoreError> {
    let bad = |reason: &str| CoreError::LakeRoot {
        root: raw.to_string(),
        reason: reason.to_string(),
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(bad("must not be empty"));
    }
    let local = raw
        .strip_prefix("file://")
        .or_else(|| (!raw.contains("://")).then_some(raw));
    if let Some(path) = local {
        let path = Path::new(path);
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            let base = std::path::absolute(base_dir).map_err(|e| bad(&e.to_string()))?;
            base.join(path)
        };
        let normalized = normalize(&abs);
        return Url::from_directory_path(&normalized)
            .map(|mut u| {
                let p = u.path().trim_end_matches('/').to_string();
                u.set_path(&p);
                u
            })
            .map_err(|_| bad("is not a valid local path"));
    }
    let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "s3" | "s3a" | "gs" | "az" | "abfss" | "memory" => {}
        other => {
            return Err(bad(&format!(
                "unsupported scheme `{other}` (use file://, s3://)"
            )))
        }
    }
    if url.scheme().starts_with("s3") && url.host_str().unwrap_or("").is_empty() {
        return Err(bad("needs a bucket: s3://bucket/prefix"));
    }
    let mut url = url;
    let p = url.path().trim_end_matches('/').to_string();
    url.set_path(&p);
    Ok(url)
}

/// Removes `.` and `..` segments without touching the filesystem (the lake may not exist yet).
fn normalize(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lake(root: &str) -> Result<Lake, CoreError> {
        Lake::from_config(
            &LakeConfig {
                root: root.into(),
                ..Default::default()
            },
            Path::new("/srv/app"),
        )
    }

    #[test]
    fn relative_file_root_resolves_against_base_dir() {
        let l = lake("file://./lake").unwrap();
        assert_eq!(l.root().as_str(), "file:///srv/app/lake");
        assert_eq!(
            l.table_url(Layer::Bronze, "tweets").as_str(),
            "file:///srv/app/lake/bronze/tweets"
        );
        assert!(l.is_local());
    }

    #[test]
    fn plain_and_absolute_paths() {
        assert_eq!(
            lake("data/../lk").unwrap().root().as_str(),
            "file:///srv/app/lk"
        );
        assert_eq!(lake("/tmp/x/").unwrap().root().as_str(), "file:///tmp/x");
    }

    #[test]
    fn s3_root_keeps_bucket_and_prefix() {
        let l = lake("s3://lake/prod/").unwrap();
        assert_eq!(
            l.table_url(Layer::Silver, "tweets").as_str(),
            "s3://lake/prod/silver/tweets"
        );
        assert_eq!(
            l.parquet_url("tweets").as_str(),
            "s3://lake/prod/parquet/tweets"
        );
        assert!(!l.is_local());
    }

    #[test]
    fn bad_roots_are_named() {
        let e = lake("ftp://x/y").unwrap_err().to_string();
        assert!(e.contains("unsupported scheme `ftp`"), "{e}");
        let e = lake("s3:///nobucket").unwrap_err().to_string();
        assert!(e.contains("needs a bucket"), "{e}");
    }
}
