//! Labelled tweets for sentiment training and scoring: TSV with a header `id<TAB>label<TAB>text`
//! (SemEval's files, text verbatim) or `id<TAB>label<TAB>text_json` (a JSON string, so a text
//! keeps its newlines and tabs).

use std::path::Path;

use super::eval::parse_label;
use super::Polarity;
use crate::NlpError;

/// One labelled tweet.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub label: Polarity,
    pub text: String,
}

/// How a file gives each tweet's text.
enum TextColumn {
    Plain,
    Json,
}

/// Every row of `path`, or the first problem with its line.
pub fn read_labelled(path: &Path) -> Result<Vec<Labelled>, NlpError> {
    let text = std::fs::read_to_string(path).map_err(|e| NlpError::io(path, e))?;
    let bad = |line: usize, reason: String| NlpError::Data {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split('\t').collect())
        .unwrap_or_default();
    let column = match header.as_slice() {
        [_, "label", "text"] => TextColumn::Plain,
        [_, "label", "text_json"] => TextColumn::Json,
        _ => {
            return Err(bad(
                1,
                format!(
                    "expected a header `id<TAB>label<TAB>text` (or `text_json`), found {:?}",
                    header.join("\t")
                ),
            ))
        }
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let (Some(_id), Some(label), Some(raw)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(bad(i + 1, "expected three tab-separated columns".into()));
        };
        let Some(label) = parse_label(label) else {
            return Err(bad(
                i + 1,
                format!("label {label:?} is not positive, neutral or negative"),
            ));
        };
        let text = match column {
            TextColumn::Plain => raw.to_string(),
            TextColumn::Json => serde_json::from_str(raw)
                .map_err(|e| bad(i + 1, format!("text_json is not a JSON string: {e}")))?,
        };
        rows.push(Labelled { label, text });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(body: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), body).unwrap();
        f
    }

    #[test]
    fn reads_plain_and_json_text() {
        let plain = file("id\tlabel\ttext\n1\tpositive\tgreat\tgame\n\n2\tNegative\tbad\n");
        let rows = read_labelled(plain.path()).unwrap();
        assert_eq!(
            rows,
            [
                Labelled {
                    label: Polarity::Positive,
                    text: "great\tgame".into()
                },
                Labelled {
                    label: Polarity::Negative,
                    text: "bad".into()
                }
            ]
        );
        let json = file("id\tlabel\ttext_json\n1\tneutral\t\"line\\none\"\n");
        assert_eq!(read_labelled(json.path()).unwrap()[0].text, "line\none");
    }

    #[test]
    fn names_the_line_of_a_bad_row() {
        let f = file("id\tlabel\ttext\n1\tpositive\tok\n2\tmixed\tso-so\n");
        let err = read_labelled(f.path()).unwrap_err().to_string();
        assert!(
            err.ends_with(":3: label \"mixed\" is not positive, neutral or negative"),
            "{err}"
        );
        let f = file("tweet\ttext\n");
        let err = read_labelled(f.path()).unwrap_err().to_string();
        assert!(err.contains(":1: expected a header"), "{err}");
    }
}
