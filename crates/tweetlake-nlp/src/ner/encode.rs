//! Turns words into BERT word-piece ids, remembering where each word's first piece sits:
//! training puts a word's label there, inference reads the word's label from there. Batches are
//! padded here for both.

use std::path::Path;

use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer};
use rust_tokenizers::vocab::Vocab;
use tch::{Device, Tensor};

use crate::NlpError;

/// Word-piece ids of one sequence, `[CLS] … [SEP]`, and each word's first piece (`None` when the
/// word produced no piece or fell past the length limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub ids: Vec<i64>,
    pub first_piece: Vec<Option<usize>>,
    /// Each piece's [`case_class`] of the word it came from (the uncased vocabulary has lost it).
    pub case: Vec<i64>,
}

/// How many [`case_class`] values there are.
pub const CASE_CLASSES: i64 = 5;

/// The shape of a word's letters: 0 none (punctuation, digits, emoji), 1 all lower-case,
/// 2 capitalised ("Apple", "I"), 3 all capitals of two or more ("US", "NASA"), 4 mixed ("iPhone").
pub fn case_class(word: &str) -> i64 {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let Some(first) = letters.next() else {
        return 0;
    };
    let (mut upper, mut lower) = (0usize, 0usize);
    for c in letters {
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lower += 1;
        }
    }
    match (first.is_uppercase(), upper, lower) {
        (false, 0, _) => 1,
        (true, 0, _) => 2,
        (true, _, 0) => 3,
        _ => 4,
    }
}

pub struct WordPieces {
    tokenizer: BertTokenizer,
    cls: i64,
    sep: i64,
    pad: i64,
    max_len: usize,
}

impl WordPieces {
    pub fn from_vocab(path: &Path, lower_case: bool, max_len: usize) -> Result<Self, NlpError> {
        let tokenizer = BertTokenizer::from_file(path, lower_case, lower_case)
            .map_err(|e| NlpError::Model(format!("{}: {e}", path.display())))?;
        let id = |t: &str| tokenizer.vocab().token_to_id(t);
        let (cls, sep, pad) = (id("[CLS]"), id("[SEP]"), id("[PAD]"));
        Ok(Self {
            tokenizer,
            cls,
            sep,
            pad,
            max_len: max_len.max(3),
        })
    }

    pub fn pad_id(&self) -> i64 {
        self.pad
    }

    pub fn encode<S: AsRef<str>>(&self, words: &[S]) -> Encoded {
        let mut ids = vec![self.cls];
        let mut case = vec![0];
        let mut first_piece = Vec::with_capacity(words.len());
        let room = self.max_len - 1;
        for w in words {
            let pieces = self.tokenizer.tokenize(w.as_ref());
            if pieces.is_empty() || ids.len() + pieces.len() > room {
                first_piece.push(None);
                continue;
            }
            first_piece.push(Some(ids.len()));
            case.extend(std::iter::repeat_n(case_class(w.as_ref()), pieces.len()));
            ids.extend(self.tokenizer.convert_tokens_to_ids(&pieces));
        }
        ids.push(self.sep);
        case.push(0);
        Encoded {
            ids,
            first_piece,
            case,
        }
    }
}

/// A batch as the network takes it, right-padded to its longest sequence.
pub(crate) struct Padded {
    pub ids: Tensor,
    /// 1 on real pieces.
    pub mask: Tensor,
    pub case: Tensor,
}

impl Padded {
    pub fn to_device(&self, device: Device) -> Self {
        Self {
            ids: self.ids.to_device(device),
            mask: self.mask.to_device(device),
            case: self.case.to_device(device),
        }
    }
}

pub(crate) fn pad_batch(batch: &[&Encoded], pad: i64) -> Padded {
    let width = batch.iter().map(|e| e.ids.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(batch.len() * width);
    let mut mask = Vec::with_capacity(batch.len() * width);
    let mut case = Vec::with_capacity(batch.len() * width);
    for e in batch {
        let gap = width - e.ids.len();
        ids.extend(&e.ids);
        ids.extend(std::iter::repeat_n(pad, gap));
        mask.extend(std::iter::repeat_n(1i64, e.ids.len()));
        mask.extend(std::iter::repeat_n(0i64, gap));
        case.extend(&e.case);
        case.extend(std::iter::repeat_n(
            0i64,
            width.saturating_sub(e.case.len()),
        ));
    }
    let shape = [batch.len() as i64, width as i64];
    Padded {
        ids: Tensor::from_slice(&ids).view(shape),
        mask: Tensor::from_slice(&mask).view(shape),
        case: Tensor::from_slice(&case).view(shape),
    }
}

#[cfg(test)]
mod tests {
    use super::case_class;

    #[test]
    fn case_classes() {
        let got: Vec<i64> = [
            "",
            "!!",
            "2024",
            "apple",
            "Apple",
            "I",
            "US",
            "NASA's",
            "iPhone",
            "McDonald",
            "Ünïcode",
            "ÉTÉ",
        ]
        .iter()
        .map(|w| case_class(w))
        .collect();
        assert_eq!(got, [0, 0, 0, 1, 2, 2, 3, 4, 4, 4, 2, 3]);
    }
}
