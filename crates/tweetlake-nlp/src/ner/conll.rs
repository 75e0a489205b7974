//! Reads CoNLL-style NER files (`token<TAB>tag`, a blank line between sentences) into
//! word-level examples, re-cut by [`split_words`] so training and inference see the same words.

use std::path::Path;

use super::labels::{LabelMap, Tag};
use super::words::split_words;
use crate::NlpError;

/// One sentence: its words and their tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub words: Vec<String>,
    pub tags: Vec<Tag>,
}

/// Reads `path`, mapping every tag through `labels`. A malformed line or an unknown label
/// is an error naming the file and line.
pub fn read_conll(path: &Path, labels: &LabelMap) -> Result<Vec<Sentence>, NlpError> {
    let text = std::fs::read_to_string(path).map_err(|e| NlpError::io(path, e))?;
    parse_conll(&text, labels).map_err(|(line, reason)| NlpError::Data {
        path: path.to_path_buf(),
        line,
        reason,
    })
}

pub fn parse_conll(text: &str, labels: &LabelMap) -> Result<Vec<Sentence>, (usize, String)> {
    let mut out = Vec::new();
    let mut cur = Sentence {
        words: Vec::new(),
        tags: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.words.is_empty() {
                out.push(std::mem::replace(
                    &mut cur,
                    Sentence {
                        words: Vec::new(),
                        tags: Vec::new(),
                    },
                ));
            }
            continue;
        }
        let (token, raw) = line
            .rsplit_once('\t')
            .or_else(|| line.rsplit_once(' '))
            .ok_or((i + 1, format!("expected `token<TAB>tag`, got {line:?}")))?;
        let tag = labels.tag(raw).map_err(|e| (i + 1, e.to_string()))?;
        push_token(&mut cur, token, tag);
    }
    if !cur.words.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// A corpus token may hold several of our words (`@paulwalk`, `Theory_Versa`): the first keeps
/// the tag, the rest continue the entity.
fn push_token(s: &mut Sentence, token: &str, tag: Tag) {
    for (k, w) in split_words(token).into_iter().enumerate() {
        s.words.push(w.text(token).to_string());
        s.tags.push(match (k, tag) {
            (0, t) => t,
            (_, Tag::Begin(l)) | (_, Tag::Inside(l)) => Tag::Inside(l),
            (_, Tag::Outside) => Tag::Outside,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::labels::EntityLabel::*;

    #[test]
    fn recuts_tokens_and_continues_entities() {
        let text = "Empire\tB-location\nState\tI-location\n@paul_walk\tB-person\n.\tO\n\t\nhi\tO\n";
        let s = parse_conll(text, &LabelMap::default()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].words,
            ["Empire", "State", "@", "paul", "_", "walk", "."]
        );
        assert_eq!(
            s[0].tags,
            [
                Tag::Begin(Loc),
                Tag::Inside(Loc),
                Tag::Begin(Per),
                Tag::Inside(Per),
                Tag::Inside(Per),
                Tag::Inside(Per),
                Tag::Outside
            ]
        );
        assert_eq!(s[1].words, ["hi"]);
    }

    #[test]
    fn names_the_line_of_a_bad_tag() {
        let err = parse_conll("a\tO\nb\tB-alien\n", &LabelMap::default()).unwrap_err();
        assert_eq!(err.0, 2);
        assert!(err.1.contains("alien"), "{}", err.1);
    }
}
