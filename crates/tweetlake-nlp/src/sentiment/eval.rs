//! Scoring a sentiment method on labelled tweets as SemEval-2017 Task 4A does: macro-averaged
//! recall over positive, neutral and negative (its primary measure, robust to class imbalance),
//! accuracy, per-class precision / recall / F1 and the confusion matrix.

use std::fmt;

use super::Polarity;

const CLASSES: [Polarity; 3] = [Polarity::Positive, Polarity::Neutral, Polarity::Negative];

fn index(p: Polarity) -> usize {
    match p {
        Polarity::Positive => 0,
        Polarity::Neutral => 1,
        Polarity::Negative => 2,
    }
}

/// Counts of (gold, predicted) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confusion {
    /// `counts[gold][predicted]`, classes in positive, neutral, negative order.
    counts: [[usize; 3]; 3],
}

impl Confusion {
    pub fn add(&mut self, gold: Polarity, predicted: Polarity) {
        self.counts[index(gold)][index(predicted)] += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn count(&self, gold: Polarity, predicted: Polarity) -> usize {
        self.counts[index(gold)][index(predicted)]
    }

    pub fn accuracy(&self) -> f64 {
        ratio((0..3).map(|i| self.counts[i][i]).sum(), self.total())
    }

    pub fn recall(&self, class: Polarity) -> f64 {
        let i = index(class);
        ratio(self.counts[i][i], self.counts[i].iter().sum())
    }

    pub fn precision(&self, class: Polarity) -> f64 {
        let i = index(class);
        ratio(self.counts[i][i], (0..3).map(|g| self.counts[g][i]).sum())
    }

    pub fn f1(&self, class: Polarity) -> f64 {
        let (p, r) = (self.precision(class), self.recall(class));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// SemEval-2017 Task 4A's measure: the mean of the three classes' recall.
    pub fn macro_recall(&self) -> f64 {
        CLASSES.iter().map(|c| self.recall(*c)).sum::<f64>() / 3.0
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Reads a label as SemEval writes it.
pub fn parse_label(label: &str) -> Option<Polarity> {
    match label.trim().to_ascii_lowercase().as_str() {
        "positive" => Some(Polarity::Positive),
        "neutral" => Some(Polarity::Neutral),
        "negative" => Some(Polarity::Negative),
        _ => None,
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "macro-recall {:.3}  accuracy {:.3}  ({} tweets)",
            self.macro_recall(),
            self.accuracy(),
            self.total()
        )?;
        writeln!(
            f,
            "{:<10}{:>10}{:>8}{:>8}{:>8}",
            "class", "precision", "recall", "F1", "gold"
        )?;
        for c in CLASSES {
            writeln!(
                f,
                "{:<10}{:>10.3}{:>8.3}{:>8.3}{:>8}",
                c.as_str(),
                self.precision(c),
                self.recall(c),
                self.f1(c),
                self.counts[index(c)].iter().sum::<usize>()
            )?;
        }
        writeln!(f, "confusion (rows gold, columns predicted):")?;
        writeln!(
            f,
            "{:<10}{:>10}{:>10}{:>10}",
            "", "positive", "neutral", "negative"
        )?;
        for g in CLASSES {
            write!(f, "{:<10}", g.as_str())?;
            for p in CLASSES {
                write!(f, "{:>10}", self.count(g, p))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Polarity::*;

    #[test]
    fn macro_recall_weighs_each_class_alike() {
        let mut c = Confusion::default();
        // 8 positive (6 right), 1 neutral (right), 1 negative (called neutral).
        for _ in 0..6 {
            c.add(Positive, Positive);
        }
        c.add(Positive, Neutral);
        c.add(Positive, Negative);
        c.add(Neutral, Neutral);
        c.add(Negative, Neutral);
        assert_eq!(c.total(), 10);
        assert!((c.accuracy() - 0.7).abs() < 1e-12);
        assert!((c.macro_recall() - (0.75 + 1.0 + 0.0) / 3.0).abs() < 1e-12);
        assert!((c.precision(Neutral) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.f1(Negative), 0.0);
        let text = c.to_string();
        assert!(
            text.starts_with("macro-recall 0.583  accuracy 0.700  (10 tweets)"),
            "{text}"
        );
    }

    #[test]
    fn labels_read_as_semeval_writes_them() {
        assert_eq!(parse_label("Positive"), Some(Positive));
        assert_eq!(parse_label(" negative "), Some(Negative));
        assert_eq!(parse_label("objective"), None);
    }
}
