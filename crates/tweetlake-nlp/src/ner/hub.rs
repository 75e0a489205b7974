//! A model named `hf:owner/name` is fetched once from a Hugging Face–style hub
//! (`<hub>/<owner>/<name>/resolve/main/<file>`) into a local directory, which later runs use
//! as is; any other model setting is a local directory already.

use std::path::{Path, PathBuf};

use crate::NlpError;

pub const HUB_PREFIX: &str = "hf:";

/// The files a BERT token classifier needs, and whether a missing one is an error.
const FILES: [(&str, bool); 4] = [
    ("config.json", true),
    ("model.safetensors", true),
    ("vocab.txt", true),
    ("tokenizer_config.json", false),
];

fn valid_id(id: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    matches!(id.split_once('/'), Some((owner, name)) if ok(owner) && ok(name))
}

/// The local directory of `model`: itself, or for `hf:owner/name` the cached download under
/// `cache` (fetched from `hub_url` first when missing).
pub async fn resolve_model(model: &str, hub_url: &str, cache: &Path) -> Result<PathBuf, NlpError> {
    let Some(id) = model.strip_prefix(HUB_PREFIX) else {
        return Ok(PathBuf::from(model));
    };
    if !valid_id(id) {
        return Err(NlpError::Model(format!(
            "`{model}`: expected hf:owner/name"
        )));
    }
    let dir = cache.join(id.replace('/', "--"));
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    let partial = dir.with_extension("partial");
    std::fs::create_dir_all(&partial).map_err(|e| NlpError::io(&partial, e))?;
    let client = reqwest::Client::new();
    for (file, required) in FILES {
        let url = format!("{}/{id}/resolve/main/{file}", hub_url.trim_end_matches('/'));
        let fail = |what: String| NlpError::Model(format!("fetching {url}: {what}"));
        let resp = client
            .get(&url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND && !required {
            continue;
        }
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
        let path = partial.join(file);
        std::fs::write(&path, &body).map_err(|e| NlpError::io(&path, e))?;
    }
    std::fs::write(partial.join(".complete"), id).map_err(|e| NlpError::io(&partial, e))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| NlpError::io(&dir, e))?;
    }
    std::fs::rename(&partial, &dir).map_err(|e| NlpError::io(&dir, e))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_owner_slash_name() {
        assert!(valid_id("dslim/bert-base-NER"));
        assert!(!valid_id("bert-base-NER"));
        assert!(!valid_id("../etc/passwd"));
        assert!(!valid_id("a/b/c"));
    }

    #[tokio::test]
    async fn a_local_directory_is_used_as_is() {
        let got = resolve_model("models/x", "http://unused", Path::new("/nope"))
            .await
            .unwrap();
        assert_eq!(got, PathBuf::from("models/x"));
    }
}
