//! The four entity types silver stores, and the explicit map from whatever a model or a
//! corpus emits (CoNLL, WNUT-17, OntoNotes names) onto them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What silver stores as an entity's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EntityLabel {
    #[serde(rename = "PER")]
    Per,
    #[serde(rename = "ORG")]
    Org,
    #[serde(rename = "LOC")]
    Loc,
    #[serde(rename = "MISC")]
    Misc,
}

impl EntityLabel {
    pub const ALL: [EntityLabel; 4] = [Self::Per, Self::Org, Self::Loc, Self::Misc];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Per => "PER",
            Self::Org => "ORG",
            Self::Loc => "LOC",
            Self::Misc => "MISC",
        }
    }
}

impl fmt::Display for EntityLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's tag after mapping: outside, or the beginning / inside of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    Outside,
    Begin(EntityLabel),
    Inside(EntityLabel),
}

impl Tag {
    /// The tag set the trained model predicts, in class-index order.
    pub const CLASSES: [Tag; 9] = [
        Tag::Outside,
        Tag::Begin(EntityLabel::Per),
        Tag::Inside(EntityLabel::Per),
        Tag::Begin(EntityLabel::Org),
        Tag::Inside(EntityLabel::Org),
        Tag::Begin(EntityLabel::Loc),
        Tag::Inside(EntityLabel::Loc),
        Tag::Begin(EntityLabel::Misc),
        Tag::Inside(EntityLabel::Misc),
    ];

    pub fn class_index(self) -> i64 {
        Self::CLASSES.iter().position(|c| *c == self).unwrap_or(0) as i64
    }

    pub fn name(self) -> String {
        match self {
            Tag::Outside => "O".to_string(),
            Tag::Begin(l) => format!("B-{l}"),
            Tag::Inside(l) => format!("I-{l}"),
        }
    }

    pub fn label(self) -> Option<EntityLabel> {
        match self {
            Tag::Outside => None,
            Tag::Begin(l) | Tag::Inside(l) => Some(l),
        }
    }
}

/// Maps entity type names (without the B-/I- prefix) to an [`EntityLabel`]. Built-in names cover
/// CoNLL-2003, WNUT-17, the Broad Twitter Corpus and OntoNotes; `extra` adds or overrides names.
/// A type mapped to `None` (e.g. OntoNotes `DATE`) is treated as outside.
#[derive(Debug, Clone, Default)]
pub struct LabelMap {
    extra: BTreeMap<String, Option<EntityLabel>>,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown entity label `{0}`: map it to PER, ORG, LOC, MISC or \"\" (ignored) in [silver.ner.labels], or in a --labels file for `ner eval`/`ner train`")]
pub struct UnknownLabel(pub String);

impl LabelMap {
    pub fn new(extra: BTreeMap<String, Option<EntityLabel>>) -> Self {
        Self { extra }
    }

    /// From config names: `"PER"`, `"ORG"`, `"LOC"`, `"MISC"`, or `""` to ignore the type.
    pub fn from_names(names: &BTreeMap<String, String>) -> Result<Self, UnknownLabel> {
        let mut extra = BTreeMap::new();
        for (name, label) in names {
            let l = match label.as_str() {
                "PER" => Some(EntityLabel::Per),
                "ORG" => Some(EntityLabel::Org),
                "LOC" => Some(EntityLabel::Loc),
                "MISC" => Some(EntityLabel::Misc),
                "" => None,
                other => return Err(UnknownLabel(other.to_string())),
            };
            extra.insert(name.clone(), l);
        }
        Ok(Self { extra })
    }

    /// The entity type a name stands for; `Ok(None)` for types deliberately dropped.
    pub fn entity(&self, name: &str) -> Result<Option<EntityLabel>, UnknownLabel> {
        if let Some(mapped) = self.extra.get(name) {
            return Ok(*mapped);
        }
        let l = match name.to_ascii_lowercase().as_str() {
            "per" | "person" | "pers" => Some(EntityLabel::Per),
            // WNUT's `group` is teams, bands and other organised groups: ORG in CoNLL terms.
            "org" | "organization" | "organisation" | "corporation" | "group" => {
                Some(EntityLabel::Org)
            }
            "loc" | "location" | "gpe" | "fac" | "geo" => Some(EntityLabel::Loc),
            // WNUT's products and creative works, OntoNotes' named things that are not the above.
            "misc" | "product" | "creative-work" | "work_of_art" | "event" | "norp" | "law"
            | "language" => Some(EntityLabel::Misc),
            "date" | "time" | "percent" | "money" | "quantity" | "ordinal" | "cardinal" => None,
            _ => return Err(UnknownLabel(name.to_string())),
        };
        Ok(l)
    }

    /// Parses a BIO/IOB tag such as `B-person`, `I-LOC`, `E-ORG`, `S-PER` or `O`.
    pub fn tag(&self, raw: &str) -> Result<Tag, UnknownLabel> {
        let raw = raw.trim();
        if raw == "O" || raw.is_empty() {
            return Ok(Tag::Outside);
        }
        let (prefix, name) = match raw.split_once('-') {
            Some((p, n)) if p.len() == 1 => (p, n),
            // A bare type name (some models emit `PER` without BIO prefixes).
            _ => ("I", raw),
        };
        Ok(match self.entity(name)? {
            None => Tag::Outside,
            Some(l) if matches!(prefix, "B" | "S" | "U") => Tag::Begin(l),
            Some(l) => Tag::Inside(l),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_corpus_scheme_explicitly() {
        let m = LabelMap::default();
        assert_eq!(m.tag("B-person").unwrap(), Tag::Begin(EntityLabel::Per));
        assert_eq!(
            m.tag("I-corporation").unwrap(),
            Tag::Inside(EntityLabel::Org)
        );
        assert_eq!(m.tag("B-group").unwrap(), Tag::Begin(EntityLabel::Org));
        assert_eq!(
            m.tag("B-creative-work").unwrap(),
            Tag::Begin(EntityLabel::Misc)
        );
        assert_eq!(m.tag("B-GPE").unwrap(), Tag::Begin(EntityLabel::Loc));
        assert_eq!(m.tag("B-DATE").unwrap(), Tag::Outside);
        assert_eq!(m.tag("O").unwrap(), Tag::Outside);
        assert!(m.tag("B-spaceship").is_err());
        let custom = LabelMap::new([("spaceship".to_string(), Some(EntityLabel::Misc))].into());
        assert_eq!(
            custom.tag("B-spaceship").unwrap(),
            Tag::Begin(EntityLabel::Misc)
        );
    }

    #[test]
    fn class_indices_round_trip() {
        for (i, t) in Tag::CLASSES.iter().enumerate() {
            assert_eq!(t.class_index(), i as i64);
        }
    }
}
