//! Where each table of the lake lives: `<root>/<layer>/<name>` for Delta tables and
//! `<root>/parquet/<name>` for the optional plain-Parquet copy of bronze.

use std::collections::HashMap;
use std::path::Path;

use url::Url;

use crate::config::LakeConfig;
use crate::error::CoreError;
use crate::retry::RetryPolicy;
use crate::tables::Layer;

/// The lake root, resolved to an absolute URL, plus the object-store options to open it with.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
    storage_options: HashMap<String, String>,
    conflict_retry: RetryPolicy,
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
        })
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
