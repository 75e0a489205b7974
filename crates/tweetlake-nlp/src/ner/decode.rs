//! From per-word class probabilities to tags that always form valid entities: the most likely
//! tag sequence in which `I-X` only continues a `B-X` or `I-X` (Viterbi over log-probabilities).
//! Picking each word's most likely tag alone lets a stray `I-X` after `O`, or an `I-ORG` inside
//! a `B-PER`, open or split an entity the model did not mean.

use super::labels::Tag;

/// Probabilities below this count as this (the log of zero would swamp every path).
const FLOOR: f32 = 1e-9;

/// Whether `next` may follow `prev` (`None`: the first word).
pub fn allowed(prev: Option<Tag>, next: Tag) -> bool {
    match next {
        Tag::Inside(label) => matches!(prev, Some(Tag::Begin(l) | Tag::Inside(l)) if l == label),
        Tag::Outside | Tag::Begin(_) => true,
    }
}

/// The best valid tag sequence for a sentence, each tag with the probability the model gave it.
/// `tags[c]` is the tag of class `c`; `probs[w][c]` the probability of class `c` for word `w`
/// (a row shorter than `tags` counts the missing classes as zero).
pub fn best_tags(tags: &[Tag], probs: &[Vec<f32>]) -> Vec<(Tag, f32)> {
    let k = tags.len();
    if k == 0 {
        return probs.iter().map(|_| (Tag::Outside, 0.0)).collect();
    }
    let p = |w: usize, c: usize| probs.get(w).and_then(|r| r.get(c)).copied().unwrap_or(0.0);
    let lp = |w: usize, c: usize| p(w, c).max(FLOOR).ln();
    // score[c]: best log-probability of a valid path ending in class c at the current word.
    let mut score: Vec<f32> = (0..k)
        .map(|c| match allowed(None, tags[c]) {
            true => lp(0, c),
            false => f32::NEG_INFINITY,
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(probs.len());
    for w in 1..probs.len() {
        let mut next = vec![f32::NEG_INFINITY; k];
        let mut from = vec![0usize; k];
        for c in 0..k {
            for (prev, &s) in score.iter().enumerate() {
                if s > f32::NEG_INFINITY && allowed(Some(tags[prev]), tags[c]) && s > next[c] {
                    next[c] = s;
                    from[c] = prev;
                }
            }
            next[c] += lp(w, c);
        }
        back.push(from);
        score = next;
    }
    if probs.is_empty() {
        return Vec::new();
    }
    let mut best = (0..k)
        .max_by(|&a, &b| score[a].total_cmp(&score[b]))
        .unwrap_or(0);
    let mut path = vec![best; probs.len()];
    for (w, from) in back.iter().enumerate().rev() {
        best = from[best];
        path[w] = best;
    }
    path.iter()
        .enumerate()
        .map(|(w, &c)| (tags[c], p(w, c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::labels::EntityLabel::{Org, Per};

    fn classes() -> Vec<Tag> {
        Tag::CLASSES.to_vec()
    }

    /// Probabilities with `main` on class `c` and the rest spread evenly.
    fn row(c: usize, main: f32) -> Vec<f32> {
        let rest = (1.0 - main) / 8.0;
        (0..9).map(|i| if i == c { main } else { rest }).collect()
    }

    fn class(tag: Tag) -> usize {
        Tag::CLASSES.iter().position(|t| *t == tag).unwrap()
    }

    #[test]
    fn a_stray_inside_after_outside_is_not_an_entity_start() {
        // O, then I-PER (0.5) over B-PER (0.4): greedy opens an entity with I-PER; the valid
        // path takes B-PER.
        let mut second = row(class(Tag::Inside(Per)), 0.5);
        second[class(Tag::Begin(Per))] = 0.4;
        second[class(Tag::Outside)] = 0.05;
        let probs = vec![row(class(Tag::Outside), 0.9), second];
        let best = best_tags(&classes(), &probs);
        assert_eq!(best[0].0, Tag::Outside);
        assert_eq!(best[1].0, Tag::Begin(Per));
        assert!((best[1].1 - 0.4).abs() < 1e-6);
    }

    #[test]
    fn an_entity_keeps_one_type() {
        // B-PER then I-ORG (0.6) / I-PER (0.3): one PER entity, not PER then ORG.
        let mut second = row(class(Tag::Inside(Org)), 0.6);
        second[class(Tag::Inside(Per))] = 0.3;
        let probs = vec![row(class(Tag::Begin(Per)), 0.95), second];
        let best = best_tags(&classes(), &probs);
        let tags: Vec<Tag> = best.iter().map(|t| t.0).collect();
        assert_eq!(tags, [Tag::Begin(Per), Tag::Inside(Per)]);
    }

    #[test]
    fn a_confident_valid_sequence_is_unchanged() {
        let want = [
            Tag::Begin(Org),
            Tag::Inside(Org),
            Tag::Outside,
            Tag::Begin(Per),
        ];
        let probs: Vec<Vec<f32>> = want.iter().map(|t| row(class(*t), 0.9)).collect();
        let got: Vec<Tag> = best_tags(&classes(), &probs).iter().map(|t| t.0).collect();
        assert_eq!(got, want);
        assert!(best_tags(&classes(), &[]).is_empty());
        assert!(best_tags(&[], &probs).iter().all(|t| t.0 == Tag::Outside));
    }

    #[test]
    fn every_output_is_valid() {
        // Deterministic pseudo-random rows: no output may put I-X anywhere but after B-X/I-X.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32) / (u32::MAX >> 1) as f32
        };
        for _ in 0..200 {
            let probs: Vec<Vec<f32>> = (0..12).map(|_| (0..9).map(|_| next()).collect()).collect();
            let tags = best_tags(&classes(), &probs);
            let mut prev = None;
            for (t, _) in tags {
                assert!(allowed(prev, t), "{prev:?} then {t:?}");
                prev = Some(t);
            }
        }
    }
}
