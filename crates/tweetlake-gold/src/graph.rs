//! The models of a `sql/` folder in the order they run: a model after every gold model it reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tweetlake_core::tables::{Layer, TableName};

use crate::model::Model;
use crate::GoldError;

/// Every model of a folder, sorted so that each runs after the gold models it reads.
#[derive(Debug, Clone)]
pub struct ModelGraph {
    ordered: Vec<Model>,
}

impl ModelGraph {
    /// Reads every `*.sql` file of `dir`.
    pub fn load(dir: &Path) -> Result<ModelGraph, GoldError> {
        let read_err = |error| GoldError::ModelDir {
            dir: dir.to_path_buf(),
            error,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_some_and(|e| e == "sql") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut models = Vec::new();
        for path in paths {
            let sql = std::fs::read_to_string(&path).map_err(|e| GoldError::Model {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            models.push(Model::parse(&path, sql)?);
        }
        ModelGraph::new(models)
    }

    /// Orders `models`; a gold table no model builds, or a cycle, is an error naming the file.
    pub fn new(models: Vec<Model>) -> Result<ModelGraph, GoldError> {
        let by_name: BTreeMap<String, Model> =
            models.into_iter().map(|m| (m.name.clone(), m)).collect();
        for model in by_name.values() {
            for gold in gold_sources(model) {
                if !by_name.contains_key(&gold.table) {
                    return Err(GoldError::Model {
                        path: model.path.clone(),
                        reason: format!("reads `{gold}`, but no model builds it"),
                    });
                }
            }
        }
        // Depth-first, visiting names in order, so the result does not depend on the file system.
        let mut ordered = Vec::new();
        let mut done = BTreeSet::new();
        for name in by_name.keys() {
            visit(name, &by_name, &mut Vec::new(), &mut done, &mut ordered)?;
        }
        Ok(ModelGraph { ordered })
    }

    pub fn models(&self) -> &[Model] {
        &self.ordered
    }

    /// The named models and every model they read from, in run order.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Model>, GoldError> {
        if names.is_empty() {
            return Ok(self.ordered.iter().collect());
        }
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = Vec::new();
        for name in names {
            if !self.ordered.iter().any(|m| &m.name == name) {
                let mut known: Vec<&str> = self.ordered.iter().map(|m| m.name.as_str()).collect();
                known.sort();
                return Err(GoldError::UnknownModel {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
            stack.push(name);
        }
        while let Some(name) = stack.pop() {
            if wanted.insert(name) {
                if let Some(model) = self.ordered.iter().find(|m| m.name == name) {
                    stack.extend(gold_sources(model).map(|t| t.table.as_str()));
                }
            }
        }
        Ok(self
            .ordered
            .iter()
            .filter(|m| wanted.contains(m.name.as_str()))
            .collect())
    }
}

fn gold_sources(model: &Model) -> impl Iterator<Item = &TableName> {
    model.sources.iter().filter(|s| s.layer == Layer::Gold)
}

fn visit<'a>(
    name: &'a str,
    models: &'a BTreeMap<String, Model>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
    ordered: &mut Vec<Model>,
) -> Result<(), GoldError> {
    if done.contains(name) {
        return Ok(());
    }
    let Some(model) = models.get(name) else {
        return Ok(());
    };
    if let Some(at) = path.iter().position(|p| *p == name) {
        let cycle: Vec<&str> = path[at..].iter().copied().chain([name]).collect();
        return Err(GoldError::Model {
            path: model.path.clone(),
            reason: format!("models read each other in a cycle: {}", cycle.join(" → ")),
        });
    }
    path.push(name);
    for source in gold_sources(model) {
        visit(&source.table, models, path, done, ordered)?;
    }
    path.pop();
    done.insert(name);
    ordered.push(model.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, sql: &str) -> Model {
        Model::parse(Path::new(&format!("sql/{name}.sql")), sql.to_string()).unwrap()
    }

    fn names(models: &[&Model]) -> Vec<String> {
        models.iter().map(|m| m.name.clone()).collect()
    }

    #[test]
    fn orders_models_after_what_they_read() {
        let graph = ModelGraph::new(vec![
            model("a", "SELECT * FROM gold.c JOIN gold.b ON true"),
            model("b", "SELECT * FROM gold.c"),
            model("c", "SELECT * FROM silver.tweets"),
            model("d", "SELECT * FROM silver.tweets"),
        ])
        .unwrap();
        let all: Vec<&Model> = graph.models().iter().collect();
        assert_eq!(names(&all), ["c", "b", "a", "d"]);
        assert_eq!(names(&graph.select(&["b".into()]).unwrap()), ["c", "b"]);
        let err = graph.select(&["zz".into()]).unwrap_err().to_string();
        assert!(err.contains("`zz`") && err.contains("a, b, c, d"), "{err}");
    }

    #[test]
    fn cycles_and_unknown_tables_name_the_file() {
        let err = ModelGraph::new(vec![
            model("a", "SELECT * FROM gold.b"),
            model("b", "SELECT * FROM gold.a"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("sql/a.sql") && err.contains("a → b → a"),
            "{err}"
        );
        let err = ModelGraph::new(vec![model("a", "SELECT * FROM gold.nope")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sql/a.sql") && err.contains("`gold.nope`"),
            "{err}"
        );
    }
}
