//! Value parsers several commands share.

use std::fmt::Display;

use crate::generate::Disturbance;

/// A whole number in `min..=max`, parsed wide enough that 2^64 and beyond
/// are reported as too large rather than as "not a number".
pub(super) fn count_in(text: &str, min: usize, max: usize, what: &str) -> Result<usize, String> {
    let value: u128 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number of {what}"))?;
    if value < min as u128 {
        return Err(format!("at least {min} {what} needed, got {value}"));
    }
    if value > max as u128 {
        return Err(format!(
            "{value} {what} is more than the maximum of {max} (hint: the default is far below it; see --help)"
        ));
    }
    Ok(value as usize)
}

/// A disturbance, `KIND:LEVEL` (`generate --disturb`, `disturb`); a bad one
/// gets [`Disturbance`]'s own message and hint.
pub(super) fn parse_disturbance(text: &str) -> Result<Disturbance, String> {
    text.parse::<Disturbance>()
        .map_err(|e| with_hint(&e, Some(&e.hint_text())))
}

/// A value's error with its `hint:` line, as `main` prints the errors of
/// commands (clap puts it after `invalid value '…' for '--flag': `).
pub(super) fn with_hint(error: &dyn Display, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disturbances_are_parsed_and_refused_with_our_message_and_hint() {
        let d = parse_disturbance("blur:1").unwrap();
        assert_eq!(d.to_string(), "blur:1");
        let err = parse_disturbance("fog:1").unwrap_err();
        assert!(err.starts_with("unknown disturbance kind 'fog'"), "{err}");
        assert!(err.contains("\nhint: write KIND:LEVEL"), "{err}");
        let err = parse_disturbance("noise:2").unwrap_err();
        assert!(err.contains("from 0 to 0.75"), "{err}");
        assert!(parse_disturbance("noise")
            .unwrap_err()
            .contains("not KIND:LEVEL"));
    }
}
