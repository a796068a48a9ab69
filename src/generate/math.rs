//! Elementary functions from IEEE additions, multiplications, divisions and
//! square roots only, so that generated images are byte-identical on every
//! platform (the system `libm` may round `sin` or `exp` differently).
//! Accurate to about 1e-15 over the ranges the generator uses.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, LN_2, PI};

/// `e^x`, for `|x| < 700`; 0 below −700.
pub(crate) fn exp(x: f64) -> f64 {
    if x < -700.0 {
        return 0.0;
    }
    let x = x.min(700.0);
    let k = (x / LN_2).round();
    let r = x - k * LN_2;
    // Taylor series to r^14 (|r| <= 0.35).
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..=14 {
        term *= r / i as f64;
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// Natural logarithm of a positive normal number.
pub(crate) fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7FF) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(f), f = (m − 1)/(m + 1), |f| <= 0.172.
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    let mut power = f;
    let mut sum = 0.0;
    for i in 0..12 {
        sum += power / (2 * i + 1) as f64;
        power *= f2;
    }
    e as f64 * LN_2 + 2.0 * sum
}

/// `(sin x, cos x)` for `|x| < 1e6`.
pub(crate) fn sin_cos(x: f64) -> (f64, f64) {
    let k = (x / FRAC_PI_2).round();
    let r = x - k * FRAC_PI_2;
    let r2 = r * r;
    // Taylor series to r^17 / r^18 (|r| <= pi/4).
    let (mut s, mut c) = (0.0, 0.0);
    let (mut ts, mut tc) = (r, 1.0);
    for i in 0..9 {
        s += ts;
        c += tc;
        let n = (2 * i + 2) as f64;
        ts *= -r2 / (n * (n + 1.0));
        tc *= -r2 / ((n - 1.0) * n);
    }
    match (k as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// `atan t` for `0 <= t <= 1`.
fn atan_unit(t: f64) -> f64 {
    // Reduce to |u| <= tan(pi/8) ~ 0.414 around 0 or pi/4.
    let (base, u) = if t > 0.414_213_562_373_095 {
        (FRAC_PI_4, (t - 1.0) / (t + 1.0))
    } else {
        (0.0, t)
    };
    let u2 = u * u;
    let mut power = u;
    let mut sum = 0.0;
    for i in 0..20 {
        let term = power / (2 * i + 1) as f64;
        sum += if i % 2 == 0 { term } else { -term };
        power *= u2;
    }
    base + sum
}

/// `atan2(y, x)` in `(−pi, pi]`; 0 at the origin.
pub(crate) fn atan2(y: f64, x: f64) -> f64 {
    let (ax, ay) = (x.abs(), y.abs());
    if ax == 0.0 && ay == 0.0 {
        return 0.0;
    }
    let a = if ay <= ax {
        atan_unit(ay / ax)
    } else {
        FRAC_PI_2 - atan_unit(ax / ay)
    };
    let a = if x < 0.0 { PI - a } else { a };
    if y < 0.0 {
        -a
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_libm() {
        for i in -400..=400 {
            let x = i as f64 * 0.0371;
            assert!((exp(x) - x.exp()).abs() <= 1e-14 * x.exp(), "exp {x}");
            let (s, c) = sin_cos(x);
            assert!((s - x.sin()).abs() < 1e-14, "sin {x}");
            assert!((c - x.cos()).abs() < 1e-14, "cos {x}");
            for j in [-3.0, -0.5, 0.0, 0.7, 2.0] {
                assert!((atan2(x, j) - x.atan2(j)).abs() < 1e-13, "atan2 {x} {j}");
            }
            let p = (x + 15.0) * 3.0 + 1e-9;
            assert!(
                (ln(p) - p.ln()).abs() < 1e-14 * p.ln().abs().max(1.0),
                "ln {p}"
            );
        }
        assert!((ln(1e-16) - 1e-16f64.ln()).abs() < 1e-13);
    }
}
