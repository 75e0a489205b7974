//! Scoring the way users get entities: each sentence becomes a tweet text, the model finds
//! entities in it exactly as silver does (`NerModel::entities`: links skipped, spans without a
//! letter or digit dropped), and they are compared with the gold entities by exact character span
//! and type. @mentions are left out on both sides: silver keeps them in `mentions`, and the
//! corpora disagree on them (BTC tags a lone `@` and the handle apart; WNUT-17 types a few).

use super::conll::Sentence;
use super::eval::{spans, Scores, Span};
use super::Entity;

/// A sentence as tweet text: words joined by spaces, except that a lone `@` is joined to the
/// handle after it (`@ user` was `@user` in the tweet). Returns the text and each word's
/// character range in it.
pub fn tweet_text(words: &[String]) -> (String, Vec<(usize, usize)>) {
    let mut text = String::new();
    let mut ranges = Vec::with_capacity(words.len());
    let mut chars = 0;
    for (i, word) in words.iter().enumerate() {
        let after_at = i > 0 && words.get(i - 1).is_some_and(|w| w == "@");
        if i > 0 && !after_at {
            text.push(' ');
            chars += 1;
        }
        let len = word.chars().count();
        ranges.push((chars, chars + len));
        text.push_str(word);
        chars += len;
    }
    (text, ranges)
}

/// Whether the entity over words `start..` of a sentence is an @mention or part of one: its
/// first word starts with `@`, or follows a lone `@` (BTC tags `@` and the handle apart).
pub fn is_mention_words(words: &[String], start: usize) -> bool {
    let at = |i: usize| words.get(i).is_some_and(|w| w.starts_with('@'));
    at(start) || (start > 0 && words.get(start - 1).is_some_and(|w| w == "@"))
}

/// Silver's convention on training data: every @mention entity becomes outside.
pub fn mentions_outside(sentence: &mut Sentence) {
    for span in spans(&sentence.tags) {
        if is_mention_words(&sentence.words, span.start) {
            for tag in sentence.tags.iter_mut().take(span.end).skip(span.start) {
                *tag = super::labels::Tag::Outside;
            }
        }
    }
}

/// Whether the entity at characters `start..` of `text` is an @mention or part of one: it starts
/// with `@`, or follows one directly.
fn is_mention(text: &str, start: usize) -> bool {
    let mut chars = text.chars().skip(start.saturating_sub(1));
    let before = if start == 0 { None } else { chars.next() };
    before == Some('@') || chars.next() == Some('@')
}

/// The gold entities of `sentence` as character spans of `text`, mentions left out.
pub fn gold_spans(sentence: &Sentence, text: &str, ranges: &[(usize, usize)]) -> Vec<Span> {
    spans(&sentence.tags)
        .into_iter()
        .filter_map(|s| {
            let start = ranges.get(s.start)?.0;
            let end = ranges.get(s.end.checked_sub(1)?)?.1;
            Some(Span {
                start,
                end,
                label: s.label,
            })
        })
        .filter(|s| !is_mention(text, s.start))
        .collect()
}

/// What silver would store, as character spans, mentions left out.
pub fn found_spans(text: &str, found: &[Entity]) -> Vec<Span> {
    found
        .iter()
        .map(|e| Span {
            start: e.start as usize,
            end: e.end as usize,
            label: e.label,
        })
        .filter(|s| !is_mention(text, s.start))
        .collect()
}

/// Adds one sentence's comparison to `scores`.
pub fn add(
    scores: &mut Scores,
    sentence: &Sentence,
    text: &str,
    ranges: &[(usize, usize)],
    found: &[Entity],
) {
    scores.add_spans(
        &gold_spans(sentence, text, ranges),
        &found_spans(text, found),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::labels::EntityLabel::{Loc, Per};
    use crate::ner::labels::Tag::{Begin, Inside, Outside};

    fn sentence(words: &[&str], tags: &[crate::ner::Tag]) -> Sentence {
        Sentence {
            words: words.iter().map(|w| w.to_string()).collect(),
            tags: tags.to_vec(),
        }
    }

    fn entity(start: u32, end: u32, label: crate::ner::EntityLabel) -> Entity {
        Entity {
            text: String::new(),
            label,
            start,
            end,
            score: 1.0,
        }
    }

    #[test]
    fn a_lone_at_joins_its_handle_and_mentions_are_left_out() {
        let s = sentence(
            &["@", "bob", "loves", "New", "York"],
            &[Begin(Per), Begin(Per), Outside, Begin(Loc), Inside(Loc)],
        );
        let (text, ranges) = tweet_text(&s.words);
        assert_eq!(text, "@bob loves New York");
        assert_eq!(ranges[1], (1, 4));
        // Gold: `@` and `bob` are mentions; New York stays.
        assert_eq!(
            gold_spans(&s, &text, &ranges),
            [Span {
                start: 11,
                end: 19,
                label: Loc
            }]
        );
        // The model's @bob as PER is not counted either way; its New York is right.
        let mut scores = Scores::default();
        add(
            &mut scores,
            &s,
            &text,
            &ranges,
            &[entity(0, 4, Per), entity(11, 19, Loc)],
        );
        let o = scores.overall();
        assert_eq!((o.gold, o.predicted, o.correct), (1, 1, 1));
    }

    #[test]
    fn training_mentions_become_outside() {
        let mut s = sentence(
            &["@", "bob", "and", "@ann", "in", "Paris"],
            &[
                Begin(Per),
                Begin(Per),
                Outside,
                Begin(Per),
                Outside,
                Begin(Loc),
            ],
        );
        mentions_outside(&mut s);
        assert_eq!(
            s.tags,
            [Outside, Outside, Outside, Outside, Outside, Begin(Loc)]
        );
    }

    #[test]
    fn span_and_type_must_both_match() {
        let s = sentence(&["in", "New", "York"], &[Outside, Begin(Loc), Inside(Loc)]);
        let (text, ranges) = tweet_text(&s.words);
        let mut scores = Scores::default();
        add(
            &mut scores,
            &s,
            &text,
            &ranges,
            &[entity(3, 6, Loc), entity(3, 11, Per)],
        );
        let o = scores.overall();
        assert_eq!((o.gold, o.predicted, o.correct), (1, 2, 0));
    }
}
