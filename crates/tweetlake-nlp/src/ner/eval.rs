//! Entity-level scoring, CoNLL style: an entity counts only when its span and its label both
//! match exactly. Precision, recall and F1 per label and micro-averaged over all labels.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use super::labels::{EntityLabel, Tag};

/// An entity as a half-open range of word indices (or, when scoring as silver, of characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub label: EntityLabel,
}

/// Decodes tags into spans. As in `conlleval`, an `I-X` after `O` or after another type opens
/// an entity, so a model that never emits `B-` is not punished twice.
pub fn spans(tags: &[Tag]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut open: Option<Span> = None;
    for (i, tag) in tags.iter().enumerate() {
        match *tag {
            Tag::Inside(l) if open.is_some_and(|s| s.label == l) => {
                if let Some(s) = open.as_mut() {
                    s.end = i + 1;
                }
            }
            Tag::Begin(l) | Tag::Inside(l) => {
                out.extend(open.take());
                open = Some(Span {
                    start: i,
                    end: i + 1,
                    label: l,
                });
            }
            Tag::Outside => out.extend(open.take()),
        }
    }
    out.extend(open);
    out
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.gold)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores accumulated over many sentences.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub per_label: BTreeMap<EntityLabel, Counts>,
    pub sentences: usize,
}

impl Scores {
    pub fn add(&mut self, gold: &[Tag], predicted: &[Tag]) {
        self.add_spans(&spans(gold), &spans(predicted));
    }

    /// One sentence's gold and predicted entities.
    pub fn add_spans(&mut self, gold: &[Span], predicted: &[Span]) {
        self.sentences += 1;
        let g: HashSet<Span> = gold.iter().copied().collect();
        let p: HashSet<Span> = predicted.iter().copied().collect();
        for s in &g {
            self.per_label.entry(s.label).or_default().gold += 1;
        }
        for s in &p {
            let c = self.per_label.entry(s.label).or_default();
            c.predicted += 1;
            if g.contains(s) {
                c.correct += 1;
            }
        }
    }

    pub fn overall(&self) -> Counts {
        self.per_label
            .values()
            .fold(Counts::default(), |a, c| Counts {
                gold: a.gold + c.gold,
                predicted: a.predicted + c.predicted,
                correct: a.correct + c.correct,
            })
    }
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<8}{:>8}{:>8}{:>8}{:>10}{:>8}{:>8}",
            "label", "gold", "pred", "correct", "precision", "recall", "F1"
        )?;
        let rows = self.per_label.iter().map(|(l, c)| (l.as_str(), *c));
        for (name, c) in rows.chain([("overall", self.overall())]) {
            writeln!(
                f,
                "{:<8}{:>8}{:>8}{:>8}{:>10.3}{:>8.3}{:>8.3}",
                name,
                c.gold,
                c.predicted,
                c.correct,
                c.precision(),
                c.recall(),
                c.f1()
            )?;
        }
        write!(f, "sentences: {}", self.sentences)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityLabel::*;
    use Tag::*;

    #[test]
    fn exact_span_and_label_only() {
        let gold = [
            Begin(Per),
            Inside(Per),
            Outside,
            Begin(Org),
            Outside,
            Begin(Loc),
        ];
        // PER exact; ORG right span wrong label; LOC too long.
        let pred = [
            Begin(Per),
            Inside(Per),
            Outside,
            Begin(Loc),
            Outside,
            Begin(Loc),
        ];
        let mut s = Scores::default();
        s.add(&gold, &pred);
        let o = s.overall();
        assert_eq!((o.gold, o.predicted, o.correct), (3, 3, 2));
        assert_eq!(
            s.per_label[&Org],
            Counts {
                gold: 1,
                predicted: 0,
                correct: 0
            }
        );
        assert_eq!(
            s.per_label[&Loc],
            Counts {
                gold: 1,
                predicted: 2,
                correct: 1
            }
        );
        assert!((o.f1() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn inside_after_outside_opens_an_entity() {
        let got = spans(&[
            Outside,
            Inside(Loc),
            Inside(Loc),
            Inside(Per),
            Begin(Per),
            Inside(Per),
        ]);
        assert_eq!(
            got,
            [
                Span {
                    start: 1,
                    end: 3,
                    label: Loc
                },
                Span {
                    start: 3,
                    end: 4,
                    label: Per
                },
                Span {
                    start: 4,
                    end: 6,
                    label: Per
                }
            ]
        );
    }
}
