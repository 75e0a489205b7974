//! A tweet's hashtags, mentions, URLs and cashtags: from the API's `entities` object when the
//! payload has one (v1.1 and v2 name the lists and fields differently), else from the text.

use serde_json::Value;

use crate::extract::extract_entities;
use crate::model::UrlEntity;

/// Where an API version keeps each kind: (list, field).
pub(crate) struct EntityNames {
    hashtags: (&'static str, &'static str),
    mentions: (&'static str, &'static str),
    cashtags: (&'static str, &'static str),
}

pub(crate) const V1_NAMES: EntityNames = EntityNames {
    hashtags: ("hashtags", "text"),
    mentions: ("user_mentions", "screen_name"),
    cashtags: ("symbols", "text"),
};

pub(crate) const V2_NAMES: EntityNames = EntityNames {
    hashtags: ("hashtags", "tag"),
    mentions: ("mentions", "username"),
    cashtags: ("cashtags", "tag"),
};

pub(crate) struct Entities {
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    pub urls: Vec<UrlEntity>,
    pub cashtags: Vec<String>,
}

impl Entities {
    pub(crate) fn of(entities: &Value, text: &str, names: &EntityNames) -> Self {
        if !entities.is_object() {
            return Self::from_text(text);
        }
        let list = |(k, f): (&str, &str)| -> Vec<String> {
            entities[k]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e[f].as_str().map(str::to_string))
                .collect()
        };
        Self {
            hashtags: list(names.hashtags),
            mentions: list(names.mentions),
            // v2 may carry `unwound_url`, where a shortener finally leads.
            urls: entities["urls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| {
                    Some(UrlEntity {
                        url: u["url"].as_str()?.to_string(),
                        expanded_url: u["unwound_url"]
                            .as_str()
                            .or_else(|| u["expanded_url"].as_str())
                            .map(str::to_string),
                    })
                })
                .collect(),
            cashtags: list(names.cashtags),
        }
    }

    fn from_text(text: &str) -> Self {
        let found = extract_entities(text);
        let values = |e: Vec<crate::Extracted>| e.into_iter().map(|x| x.value).collect();
        Self {
            hashtags: values(found.hashtags),
            mentions: values(found.mentions),
            urls: found
                .urls
                .into_iter()
                .map(|u| UrlEntity {
                    url: u.value,
                    expanded_url: None,
                })
                .collect(),
            cashtags: values(found.cashtags),
        }
    }
}
