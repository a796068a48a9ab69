//! Numbers as the gate prints them: short, without trailing zeros.

/// Six significant digits, trailing zeros dropped: `27.3`, `25`, `0.012346`;
/// scientific notation outside 1e-4..1e6.
pub fn num(x: f64) -> String {
    geneval_reports::format::significant_trimmed(x, 6)
}

/// A signed percentage with up to two decimals: `+3.1%`, `-0.04%`, `+0%`.
pub fn percent(p: f64) -> String {
    let text = trim(format!("{:.2}", p.abs()));
    let sign = if p < 0.0 && text != "0" { '-' } else { '+' };
    format!("{sign}{text}%")
}

/// A signed number: `+0.62`, `-1.5`.
pub fn signed(x: f64) -> String {
    if x < 0.0 {
        num(x)
    } else {
        format!("+{}", num(x))
    }
}

/// An unsigned tolerance: `2`, `0.5`.
pub fn plain(x: f64) -> String {
    trim(format!("{:.4}", x))
}

use geneval_reports::format::trim_zeros as trim;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(num(27.3), "27.3");
        assert_eq!(num(25.0), "25");
        assert_eq!(num(20.123456789), "20.1235");
        assert_eq!(num(0.0123456), "0.0123456");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(num(1.5e-7), "1.5000e-7");
        assert_eq!(percent(3.0999), "+3.1%");
        assert_eq!(percent(-0.04), "-0.04%");
        assert_eq!(percent(-0.0001), "+0%");
        assert_eq!(signed(0.62), "+0.62");
        assert_eq!(signed(-0.62), "-0.62");
        assert_eq!(plain(2.0), "2");
    }
}
