//! A duration as people write one in a config file, an environment variable or a flag: `250ms`,
//! `5s`, `2m`, `1h`. Parsed once, when the config is read, so a bad one stops the command with
//! the key's name, and code downstream holds a [`Duration`], never the text.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the config accepts, for error messages.
pub const DURATION_FORMS: &str = "a duration like `500ms`, `5s`, `1m` or `1h`";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(Duration);

impl HumanDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    pub fn get(self) -> Duration {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Parses `250ms`, `5s`, `2m`, `1h` (whole numbers, spaces around the unit allowed).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit())?;
        let (number, unit) = text.split_at(split);
        let n: u64 = number.parse().ok()?;
        let d = match unit.trim() {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            _ => return None,
        };
        Some(Self(d))
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Duration {
        d.0
    }
}

/// The largest unit that says it exactly: `1h`, `90s`, `1500ms`.
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        match ms {
            0 => write!(f, "0s"),
            _ if ms.is_multiple_of(3_600_000) => write!(f, "{}h", ms / 3_600_000),
            _ if ms.is_multiple_of(60_000) => write!(f, "{}m", ms / 60_000),
            _ if ms.is_multiple_of(1000) => write!(f, "{}s", ms / 1000),
            _ => write!(f, "{ms}ms"),
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HumanDuration::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not {DURATION_FORMS}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_same_forms() {
        for (text, ms, shown) in [
            ("250ms", 250, "250ms"),
            ("5s", 5000, "5s"),
            (" 2 m ", 120_000, "2m"),
            ("1h", 3_600_000, "1h"),
            ("90s", 90_000, "90s"),
            ("0s", 0, "0s"),
        ] {
            let d = HumanDuration::parse(text).unwrap();
            assert_eq!(d.get(), Duration::from_millis(ms), "{text}");
            assert_eq!(d.to_string(), shown);
            assert_eq!(HumanDuration::parse(&d.to_string()), Some(d));
        }
        for bad in [
            "",
            "soon",
            "5",
            "5 fortnights",
            "-1s",
            "1.5s",
            "99999999999999999999h",
        ] {
            assert_eq!(HumanDuration::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bad_value_names_itself_and_the_forms() {
        #[derive(Deserialize)]
        struct T {
            #[allow(dead_code)]
            d: HumanDuration,
        }
        let err = toml::from_str::<T>("d = \"soon\"")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("`soon` is not a duration like `500ms`, `5s`, `1m` or `1h`"),
            "{err}"
        );
    }
}
