//! What "city" and "region" mean for each kind of place the API returns (`place_type`):
//! - `city`: city = `name`; region = what `full_name` has after the comma ("Boulder, CO" → CO).
//! - `neighborhood`: city = what `full_name` has after the comma ("South Beach, San Francisco").
//! - `poi`: no city (a venue's `full_name` names the venue, not its town); region none.
//! - `admin` (a state or province): no city; region = `name` ("Colorado").
//! - `country`: neither.

/// (city, region) of a place.
pub fn city_region(
    place_type: Option<&str>,
    name: Option<&str>,
    full_name: Option<&str>,
) -> (Option<String>, Option<String>) {
    let after_comma = || {
        full_name
            .and_then(|f| f.rsplit_once(','))
            .map(|(_, r)| r.trim().to_string())
            .filter(|r| !r.is_empty())
    };
    match place_type {
        Some("city") => (name.map(str::to_string), after_comma()),
        Some("neighborhood") => (after_comma(), None),
        Some("admin") => (None, name.map(str::to_string)),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::city_region;

    #[test]
    fn per_place_type() {
        let s = |v: &str| Some(v.to_string());
        let cr = |t, n, f| city_region(Some(t), Some(n), Some(f));
        assert_eq!(
            cr("city", "Boulder", "Boulder, CO"),
            (s("Boulder"), s("CO"))
        );
        assert_eq!(
            cr("neighborhood", "South Beach", "South Beach, San Francisco"),
            (s("San Francisco"), None)
        );
        assert_eq!(
            cr("admin", "Colorado", "Colorado, USA"),
            (None, s("Colorado"))
        );
        assert_eq!(cr("country", "Malawi", "Malawi"), (None, None));
        assert_eq!(cr("poi", "Coors Field", "Coors Field"), (None, None));
    }
}
