//! Value parsers several commands share.

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
