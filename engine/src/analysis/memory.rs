//! The shape of a container's (or a task's) memory use up to an OOM kill, from one-minute
//! samples such as Container Insights' performance events (`MemoryUtilized`, in MB) and the
//! limit it was killed at (the container's hard `memory`, or the task's).
//!
//! Three shapes answer "raise the memory, or look for a leak?":
//! - **too small**: close to the limit from the first samples on, and flat: the workload needs
//!   more than the limit gives it (aws/amazon-ecs-agent#1187: a 500 MiB container killed at
//!   start);
//! - **spike**: flat, then a rise of a large part of the limit within minutes: a request or a
//!   batch that loads too much at once (aws/copilot-cli#3470: an import job of 5 to 10 minutes
//!   in a 512 MiB task);
//! - **leak**: steady growth to the limit, with its rate (aprin-labs/archimedes#1846: "ramped
//!   linearly from 39% to 100% between 13:31Z and 15:01Z (~20 MB/min)").
//!
//! Samples a minute apart miss what happens between them: a series that never came near the
//! limit means the memory rose within less than a sample (`SubMinute`), never "memory was
//! fine".

/// One sample: when, and the memory in use (MB, as Container Insights reports it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at_ms: i64,
    pub used_mb: f64,
}

/// What the series says.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Close to the limit from the start, and flat.
    TooSmall {
        /// The median of the samples.
        median_mb: f64,
        /// The median as a fraction of the limit.
        of_limit: f64,
    },
    /// Flat, then a rise of a large part of the limit within minutes.
    Spike {
        /// When the rise started (the last sample of the flat part).
        from_ms: i64,
        /// When the highest sample was taken.
        peak_ms: i64,
        /// The flat part's median, and the highest sample.
        before_mb: f64,
        peak_mb: f64,
    },
    /// Steady growth: a straight line fits the whole series.
    Leak {
        /// The slope of the fitted line.
        mb_per_hour: f64,
        /// The fitted line at the first and the last sample.
        from_mb: f64,
        to_mb: f64,
        /// How well the line fits (R², 1 is a perfect line).
        fit: f64,
    },
    /// The samples never came near the limit: the memory rose faster than one sample interval.
    SubMinute { peak_mb: f64, of_limit: f64 },
    /// None of the above with confidence.
    Unclear { peak_mb: f64, of_limit: f64 },
    /// Fewer than `MIN_SAMPLES` samples, or no usable limit.
    TooFewSamples { samples: usize },
}

/// The fewest samples a shape is read from.
pub const MIN_SAMPLES: usize = 3;
/// "Close to the limit": at least this fraction of it.
const NEAR_LIMIT: f64 = 0.8;
/// "Flat": the samples stay within this fraction of the limit.
const FLAT: f64 = 0.15;
/// A spike rises by at least this fraction of the limit…
const SPIKE_RISE: f64 = 0.3;
/// …within this long, or a quarter of the series, whichever is longer.
const SPIKE_WITHIN_MS: i64 = 15 * 60 * 1000;
/// A leak's line fits at least this well, and grows by at least this fraction of the limit,
/// over at least this long.
const LEAK_FIT: f64 = 0.8;
const LEAK_GROWTH: f64 = 0.25;
const LEAK_MIN_MS: i64 = 30 * 60 * 1000;
/// A series whose highest sample stays below this fraction of the limit never came near it.
const NEVER_NEAR: f64 = 0.6;

/// The shape of `samples` (any order) against `limit_mb`.
pub fn shape(samples: &[Sample], limit_mb: f64) -> Shape {
    let mut series: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.used_mb.is_finite() && s.used_mb >= 0.0)
        .collect();
    if series.len() < MIN_SAMPLES || !limit_mb.is_finite() || limit_mb <= 0.0 {
        return Shape::TooFewSamples {
            samples: series.len(),
        };
    }
    series.sort_by_key(|s| s.at_ms);
    let values: Vec<f64> = series.iter().map(|s| s.used_mb).collect();
    let (peak_index, peak_mb) =
        values
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::MIN),
                |best, (i, v)| if v >= best.1 { (i, v) } else { best },
            );
    let low = values.iter().copied().fold(f64::MAX, f64::min);
    let median_mb = median(&values);

    // Too small: near the limit from the first samples, and flat throughout.
    let head = &values[..values.len().div_ceil(3)];
    if median(head) >= NEAR_LIMIT * limit_mb && peak_mb - low <= FLAT * limit_mb {
        return Shape::TooSmall {
            median_mb,
            of_limit: median_mb / limit_mb,
        };
    }

    // A spike: the latest point before the peak after which memory rose by a large part of
    // the limit within a short time, with the series flat up to that point.
    let total_ms = series[series.len() - 1].at_ms - series[0].at_ms;
    let window = SPIKE_WITHIN_MS.max(total_ms / 4);
    for start in (0..peak_index).rev() {
        if series[peak_index].at_ms - series[start].at_ms > window {
            break;
        }
        let before = &values[..=start];
        let flat = before.iter().copied().fold(f64::MIN, f64::max)
            - before.iter().copied().fold(f64::MAX, f64::min)
            <= FLAT * limit_mb;
        if flat && start >= 1 && peak_mb - values[start] >= SPIKE_RISE * limit_mb {
            return Shape::Spike {
                from_ms: series[start].at_ms,
                peak_ms: series[peak_index].at_ms,
                before_mb: median(before),
                peak_mb,
            };
        }
    }

    // A leak: a straight line fits, rising by a large part of the limit over long enough.
    if total_ms >= LEAK_MIN_MS
        && let Some((slope_per_ms, intercept, fit)) = line(&series)
    {
        let from_mb = intercept + slope_per_ms * to_f64(series[0].at_ms);
        let to_mb = intercept + slope_per_ms * to_f64(series[series.len() - 1].at_ms);
        if fit >= LEAK_FIT && to_mb - from_mb >= LEAK_GROWTH * limit_mb {
            return Shape::Leak {
                mb_per_hour: slope_per_ms * 3_600_000.0,
                from_mb,
                to_mb,
                fit,
            };
        }
    }

    if peak_mb < NEVER_NEAR * limit_mb {
        return Shape::SubMinute {
            peak_mb,
            of_limit: peak_mb / limit_mb,
        };
    }
    Shape::Unclear {
        peak_mb,
        of_limit: peak_mb / limit_mb,
    }
}

#[allow(clippy::cast_precision_loss)] // epoch milliseconds fit a f64's 53 bits
fn to_f64(ms: i64) -> f64 {
    ms as f64
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])
    }
}

/// Least squares over (time, MB), times taken from the first sample so the sums stay exact:
/// (slope per ms, intercept at epoch 0, R²). None when all samples share one time.
fn line(series: &[Sample]) -> Option<(f64, f64, f64)> {
    let origin = series.first()?.at_ms;
    let n = to_f64(i64::try_from(series.len()).ok()?);
    let xs: Vec<f64> = series.iter().map(|s| to_f64(s.at_ms - origin)).collect();
    let ys: Vec<f64> = series.iter().map(|s| s.used_mb).collect();
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let slope = sxy / sxx;
    let intercept_at_origin = mean_y - slope * mean_x;
    let ss_tot: f64 = ys.iter().map(|y| (y - mean_y).powi(2)).sum();
    let ss_res: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (y - (intercept_at_origin + slope * x)).powi(2))
        .sum();
    let fit = if ss_tot == 0.0 {
        0.0
    } else {
        1.0 - ss_res / ss_tot
    };
    Some((slope, intercept_at_origin - slope * to_f64(origin), fit))
}

#[cfg(test)]
#[allow(clippy::cast_precision_loss)] // minutes and wobbles as f64
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;
    /// 2026-09-03T13:31:00Z, the start of the ramp in aprin-labs/archimedes#1846.
    const T0: i64 = 1_788_442_260_000;

    /// One sample a minute, with a small deterministic wobble, as Container Insights' maxima
    /// per minute look.
    fn series(minutes: usize, mb: impl Fn(usize) -> f64) -> Vec<Sample> {
        (0..minutes)
            .map(|i| {
                let wobble = ((i * 7919) % 11) as f64 - 5.0;
                Sample {
                    at_ms: T0 + i64::try_from(i).expect("minute") * MINUTE,
                    used_mb: (mb(i) + wobble).max(0.0),
                }
            })
            .collect()
    }

    #[test]
    fn a_linear_ramp_to_the_limit_is_a_leak_with_its_rate() {
        // aprin-labs/archimedes#1846: 39 % to 100 % in 90 minutes, about 20 MB a minute, so a
        // limit near 2,950 MB.
        let limit = 2950.0;
        let samples = series(91, |i| limit * (0.39 + 0.61 * i as f64 / 90.0));
        let Shape::Leak {
            mb_per_hour,
            from_mb,
            to_mb,
            fit,
        } = shape(&samples, limit)
        else {
            panic!("{:?}", shape(&samples, limit));
        };
        assert!(
            (mb_per_hour / 60.0 - 20.0).abs() < 0.5,
            "{mb_per_hour} MB/h"
        );
        assert!((from_mb / limit - 0.39).abs() < 0.01, "{from_mb}");
        assert!((to_mb / limit - 1.0).abs() < 0.01, "{to_mb}");
        assert!(fit > 0.99, "{fit}");
    }

    #[test]
    fn slow_growth_over_a_day_is_a_leak() {
        // openclimatefix-archives/metoffice_ec2#22: growth over days; a day is what the
        // performance log group keeps by default. 300 MB to 1,000 MB of a 1,024 MB limit.
        let samples = series(1440, |i| 300.0 + 700.0 * i as f64 / 1439.0);
        let Shape::Leak { mb_per_hour, .. } = shape(&samples, 1024.0) else {
            panic!("{:?}", shape(&samples, 1024.0));
        };
        assert!((mb_per_hour - 29.2).abs() < 0.5, "{mb_per_hour}");
    }

    #[test]
    fn flat_then_a_climb_within_minutes_is_a_spike() {
        // aws/copilot-cli#3470: a 512 MiB task, an import job of 5 to 10 minutes after a
        // request. Flat near 180 MB for 50 minutes, then up to 510 MB in 8 minutes.
        let samples = series(59, |i| {
            if i <= 50 {
                180.0
            } else {
                180.0 + 41.0 * (i - 50) as f64
            }
        });
        let Shape::Spike {
            from_ms,
            peak_ms,
            before_mb,
            peak_mb,
        } = shape(&samples, 512.0)
        else {
            panic!("{:?}", shape(&samples, 512.0));
        };
        assert!((before_mb - 180.0).abs() < 6.0, "{before_mb}");
        assert!(peak_mb > 500.0, "{peak_mb}");
        assert_eq!(peak_ms, T0 + 58 * MINUTE);
        assert!(
            (T0 + 45 * MINUTE..=T0 + 51 * MINUTE).contains(&from_ms),
            "the rise starts at the end of the flat part: minute {}",
            (from_ms - T0) / MINUTE
        );
    }

    #[test]
    fn near_the_limit_from_the_start_is_too_small() {
        // aws/amazon-ecs-agent#1187: a 500 MiB container killed soon after it started.
        let samples = series(6, |_| 480.0);
        let Shape::TooSmall { of_limit, .. } = shape(&samples, 500.0) else {
            panic!("{:?}", shape(&samples, 500.0));
        };
        assert!(of_limit > 0.9, "{of_limit}");
    }

    #[test]
    fn far_below_the_limit_means_a_rise_between_samples() {
        // An idle app (~280 MB, engram-app/Engram#895) killed at 1,024 MB: the minute samples
        // never saw the rise.
        let samples = series(23, |_| 280.0);
        assert!(matches!(
            shape(&samples, 1024.0),
            Shape::SubMinute { of_limit, .. } if of_limit < 0.3
        ));
    }

    #[test]
    fn noisy_mid_range_usage_is_unclear_and_degenerate_input_is_too_few() {
        let samples = series(40, |i| if i % 2 == 0 { 500.0 } else { 800.0 });
        assert!(matches!(shape(&samples, 1000.0), Shape::Unclear { .. }));
        assert_eq!(
            shape(&samples[..2], 1000.0),
            Shape::TooFewSamples { samples: 2 }
        );
        assert_eq!(shape(&samples, 0.0), Shape::TooFewSamples { samples: 40 });
        let nan = [Sample {
            at_ms: T0,
            used_mb: f64::NAN,
        }; 5];
        assert_eq!(shape(&nan, 512.0), Shape::TooFewSamples { samples: 0 });
        // All at one time: no line, and no panic.
        let same = [Sample {
            at_ms: T0,
            used_mb: 100.0,
        }; 5];
        assert!(matches!(shape(&same, 1000.0), Shape::SubMinute { .. }));
    }

    #[test]
    fn sample_order_does_not_matter() {
        let mut samples = series(91, |i| 1000.0 + 20.0 * i as f64);
        let forward = shape(&samples, 2950.0);
        samples.reverse();
        assert_eq!(shape(&samples, 2950.0), forward);
    }
}
