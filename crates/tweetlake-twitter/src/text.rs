//! Cleaning tweet text for analysis: HTML entities unescaped (the API escapes `&`, `<`, `>`),
//! control and bidirectional-formatting characters removed, whitespace runs made one space. The
//! zero-width joiner stays: emoji sequences need it.

/// The cleaned form of `text`.
pub fn clean_text(text: &str) -> String {
    let unescaped = unescape(text);
    let mut out = String::with_capacity(unescaped.len());
    let mut pending_space = false;
    for c in unescaped.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if is_invisible(c) {
            continue;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Control characters, bidi embeddings/overrides/isolates and marks, and the BOM.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&#39;` and numeric references; anything else stays.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest
            .find(';')
            .filter(|end| *end <= 10)
            .and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_text;

    #[test]
    fn unescapes_strips_and_normalises() {
        assert_eq!(
            clean_text("Q&amp;A &lt;3 &gt; &#39;hi&#x27; &copy; &amp"),
            "Q&A <3 > 'hi' &copy; &amp"
        );
        assert_eq!(
            clean_text("  line one\n\n\tline\u{00A0}two  "),
            "line one line two"
        );
        assert_eq!(
            clean_text("\u{2066}\u{202A}abc\u{202C}\u{2069}\u{0007}d\u{FEFF}"),
            "abcd"
        );
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(clean_text(family), family);
        assert_eq!(clean_text(""), "");
    }
}
