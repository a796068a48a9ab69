//! Numbers as people read them: one implementation of "n significant
//! digits" for the report's tables and the gate's messages.

/// `digits` significant digits (`digits` ≥ 1): fixed notation for
/// magnitudes in 1e-4..1e6 (`46.73`, `0.004600`, `12346`), scientific
/// notation with `digits - 1` decimals outside (`2.220e-16`).
pub fn significant(x: f64, digits: usize) -> String {
    fixed_or_scientific(x, digits, digits.saturating_sub(1), false)
}

/// Like [`significant`] with trailing zeros of fixed notation dropped
/// (`27.3`, `25`, `0.0123456`); scientific notation keeps `digits - 2`
/// decimals (`1.5000e-7` for six digits).
pub fn significant_trimmed(x: f64, digits: usize) -> String {
    fixed_or_scientific(x, digits, digits.saturating_sub(2), true)
}

/// Drops the trailing zeros (and a trailing point) of a decimal number.
pub fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn fixed_or_scientific(x: f64, digits: usize, sci_decimals: usize, trim: bool) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{x:.sci_decimals$e}");
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if trim {
        trim_zeros(text)
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(46.73224, 4), "46.73");
        assert_eq!(significant(0.0046, 4), "0.004600");
        assert_eq!(significant(2.22e-16, 4), "2.220e-16");
        assert_eq!(significant(12345.6, 4), "12346");
        assert_eq!(significant(0.0005, 2), "0.00050");
        assert_eq!(significant(f64::NAN, 4), "NaN");
        assert_eq!(significant_trimmed(25.0, 6), "25");
        assert_eq!(significant_trimmed(20.123456789, 6), "20.1235");
        assert_eq!(significant_trimmed(1.5e-7, 6), "1.5000e-7");
    }
}
