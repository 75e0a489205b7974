//! Turns words into BERT word-piece ids, remembering where each word's first piece sits:
//! training puts a word's label there, inference reads the word's label from there.

use std::path::Path;

use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer};
use rust_tokenizers::vocab::Vocab;

use crate::NlpError;

/// Word-piece ids of one sequence, `[CLS] … [SEP]`, and each word's first piece (`None` when the
/// word produced no piece or fell past the length limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub ids: Vec<i64>,
    pub first_piece: Vec<Option<usize>>,
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
        let mut first_piece = Vec::with_capacity(words.len());
        let room = self.max_len - 1;
        for w in words {
            let pieces = self.tokenizer.tokenize(w.as_ref());
            if pieces.is_empty() || ids.len() + pieces.len() > room {
                first_piece.push(None);
                continue;
            }
            first_piece.push(Some(ids.len()));
            ids.extend(self.tokenizer.convert_tokens_to_ids(&pieces));
        }
        ids.push(self.sep);
        Encoded { ids, first_piece }
    }
}
