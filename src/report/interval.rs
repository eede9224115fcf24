//! Confidence intervals (95 %, two-sided) for the figures `report compare` judges, so a change is
//! called a regression only when it stands out of the run-to-run noise. Distribution-free where
//! it matters: a percentile's interval is bounded by two order statistics of the sample, their
//! ranks from the binomial distribution of how many samples fall below the true percentile (exact
//! up to [`EXACT_MAX`] samples, the normal approximation beyond). A sample too small for a
//! percentile (28 sessions cannot bound a p99 from above) has no interval: "not enough data".

use hdrhistogram::Histogram;

/// The standard normal quantile of 97.5 %: two-sided 95 %.
const Z: f64 = 1.959_963_984_540_054;
/// Each tail's share of the 5 % left out.
const TAIL: f64 = 0.025;
/// Up to this many samples the ranks come from the exact binomial distribution.
const EXACT_MAX: u64 = 200_000;

/// A closed interval `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// Entirely above `other`: the two differ beyond their noise (a conservative test: two 95 %
    /// intervals that do not overlap differ at well under 5 %).
    pub fn above(&self, other: &Interval) -> bool {
        self.lo > other.hi
    }
}

/// The 1-based ranks `(l, u)` of the order statistics with `P(X(l) <= xi_q <= X(u)) >= 95 %`,
/// or None when `n` samples are too few to bound the `q` quantile on either side.
pub fn quantile_ranks(n: u64, q: f64) -> Option<(u64, u64)> {
    if n == 0 || !(0.0..1.0).contains(&q) || q == 0.0 {
        return None;
    }
    let (l, u) = if n <= EXACT_MAX {
        exact_ranks(n, q)
    } else {
        let (nf, sd) = (n as f64, (n as f64 * q * (1.0 - q)).sqrt());
        let l = (nf * q - Z * sd).floor();
        let u = (nf * q + Z * sd).ceil() + 1.0;
        (l.max(0.0) as u64, u as u64)
    };
    (l >= 1 && u <= n).then_some((l, u))
}

/// B ~ Binomial(n, q) counts the samples below the true quantile: `l` is the largest rank with
/// `P(B <= l - 1) <= 2.5 %`, `u` the smallest with `P(B <= u - 1) >= 97.5 %` (0 and n + 1 when
/// none). The pmf walks up from `P(B = 0)` in logarithms, so nothing underflows into NaN.
fn exact_ranks(n: u64, q: f64) -> (u64, u64) {
    let (ln_q, ln_p) = (q.ln(), (1.0 - q).ln());
    let mut ln_pmf = n as f64 * ln_p;
    let mut cdf = 0.0;
    let mut l = 0;
    for k in 0..=n {
        cdf += ln_pmf.exp();
        // cdf = P(B <= k): rank k + 1 is a valid lower bound while it stays within the tail.
        if cdf <= TAIL {
            l = k + 1;
        }
        if cdf >= 1.0 - TAIL {
            return (l, k + 1);
        }
        if k < n {
            ln_pmf += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + ln_q - ln_p;
        }
    }
    (l, n + 1)
}

/// The interval of the `q` quantile of `h` (values in the histogram's unit), widened to the
/// histogram's resolution; None when the sample is too small for it.
pub fn quantile(h: &Histogram<u64>, q: f64) -> Option<Interval> {
    let (l, u) = quantile_ranks(h.len(), q)?;
    Some(Interval {
        lo: h.lowest_equivalent(value_at_rank(h, l)) as f64,
        hi: h.highest_equivalent(value_at_rank(h, u)) as f64,
    })
}

/// The `rank`-th smallest recorded value (1-based).
fn value_at_rank(h: &Histogram<u64>, rank: u64) -> u64 {
    let mut seen = 0;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        if seen >= rank {
            return v.value_iterated_to();
        }
    }
    h.max()
}

/// Wilson's score interval of the proportion `k / n` (sound near 0 and 1, where error rates
/// live); None without samples.
pub fn proportion(k: u64, n: u64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let (nf, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At 0 or n the interval touches its end exactly (the formula leaves rounding residue).
    Some(Interval {
        lo: if k == 0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        hi: if k >= n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    })
}

/// The interval of a rate of `count` events over `seconds`, counting as Poisson; None without
/// events or time.
pub fn rate(count: u64, seconds: f64) -> Option<Interval> {
    if count == 0 || seconds <= 0.0 {
        return None;
    }
    let (c, sd) = (count as f64, (count as f64).sqrt());
    Some(Interval {
        lo: ((c - Z * sd) / seconds).max(0.0),
        hi: (c + Z * sd) / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ranks_of_small_samples_match_the_tables() {
        // The textbook binomial ranks (95 %, median): n = 10 -> X(2)..X(9), n = 28 -> X(9)..X(20).
        assert_eq!(quantile_ranks(10, 0.5), Some((2, 9)));
        assert_eq!(quantile_ranks(28, 0.5), Some((9, 20)));
        // Under 6 samples even the median cannot be bounded at 95 %.
        assert_eq!(quantile_ranks(5, 0.5), None);
    }

    #[test]
    fn a_high_percentile_needs_enough_samples() {
        // 0.99^n must fall under 2.5 % before X(n) bounds the p99 from above: n >= 368.
        assert_eq!(quantile_ranks(28, 0.99), None);
        assert_eq!(quantile_ranks(300, 0.99), None);
        let (l, u) = quantile_ranks(2000, 0.99).unwrap();
        assert!(l < 1980 && u > 1980 && u <= 2000, "{l} {u}");
        assert_eq!(quantile_ranks(28, 0.90), None);
    }

    #[test]
    fn exact_and_normal_ranks_agree_where_they_meet() {
        let n = EXACT_MAX;
        let (l, u) = exact_ranks(n, 0.99);
        let (nf, sd) = (n as f64, (n as f64 * 0.99 * 0.01).sqrt());
        assert!((l as f64 - (nf * 0.99 - Z * sd)).abs() < 3.0, "{l}");
        assert!((u as f64 - (nf * 0.99 + Z * sd)).abs() < 3.0, "{u}");
        assert!(quantile_ranks(n + 1, 0.99).is_some());
    }

    #[test]
    fn quantile_interval_brackets_the_point_estimate() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let i = quantile(&h, 0.9).unwrap();
        let p90 = h.value_at_quantile(0.9) as f64;
        assert!(i.lo < p90 && p90 < i.hi, "{i:?} {p90}");
        assert!(i.lo > 8500.0 && i.hi < 9300.0, "{i:?}");
    }

    #[test]
    fn wilson_and_rate_intervals() {
        let none = proportion(0, 28).unwrap();
        let one = proportion(1, 28).unwrap();
        assert_eq!(none.lo, 0.0);
        assert!(
            !one.above(&none),
            "1 failure in 28 is within the noise of 0"
        );
        let many = proportion(300, 1000).unwrap();
        assert!(many.above(&proportion(100, 1000).unwrap()));
        assert!(proportion(0, 0).is_none());
        let r = rate(100, 10.0).unwrap();
        assert!(r.lo < 10.0 && r.hi > 10.0);
        assert!(!rate(28, 10.0).unwrap().above(&rate(20, 10.0).unwrap()));
        assert!(rate(0, 10.0).is_none());
    }
}
