//! Splits text into the words NER labels: runs of letters and digits, and every other
//! non-space character on its own — the same cut BERT's basic tokenizer makes, so a word
//! never straddles two word-pieces' worth of punctuation. Training data goes through it too.

/// A word of a text: its characters' span (what silver stores) and its byte span (for slicing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub char_start: usize,
    pub char_end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

impl Word {
    pub fn text(self, source: &str) -> &str {
        &source[self.byte_start..self.byte_end]
    }
}

fn joins(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Combining marks keep Indic, Thai and accented scripts' words whole.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963
        | 0x0981..=0x0D63 | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF | 0x200C..=0x200D | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F)
}

/// The words of `text`, in order.
pub fn split_words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut open: Option<Word> = None;
    for (ci, (bi, c)) in text.char_indices().enumerate() {
        let end = bi + c.len_utf8();
        if joins(c) {
            match open.as_mut() {
                Some(w) => {
                    w.char_end = ci + 1;
                    w.byte_end = end;
                }
                None => {
                    open = Some(Word {
                        char_start: ci,
                        char_end: ci + 1,
                        byte_start: bi,
                        byte_end: end,
                    })
                }
            }
            continue;
        }
        words.extend(open.take());
        if !c.is_whitespace() {
            words.push(Word {
                char_start: ci,
                char_end: ci + 1,
                byte_start: bi,
                byte_end: end,
            });
        }
    }
    words.extend(open);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_punctuation_and_keeps_char_offsets() {
        let text = "Olá @LeBron, it's 40!! 🏀 in L.A.";
        let words: Vec<&str> = split_words(text).iter().map(|w| w.text(text)).collect();
        assert_eq!(
            words,
            [
                "Olá", "@", "LeBron", ",", "it", "'", "s", "40", "!", "!", "🏀", "in", "L", ".",
                "A", "."
            ]
        );
        let ws = split_words(text);
        // "🏀" is one char, four bytes.
        assert_eq!((ws[10].char_start, ws[10].char_end), (23, 24));
        assert_eq!(ws[10].byte_end - ws[10].byte_start, 4);
        assert_eq!((ws[11].char_start, ws[11].char_end), (25, 27));
    }

    #[test]
    fn keeps_combining_marks_inside_words() {
        let text = "नमस्ते दिल्ली";
        let words: Vec<&str> = split_words(text).iter().map(|w| w.text(text)).collect();
        assert_eq!(words, ["नमस्ते", "दिल्ली"]);
    }
}
