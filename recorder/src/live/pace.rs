//! Pacing: a token bucket per API, so that a run stays within each API's documented request
//! rate and never provokes throttling (and with it the retries' backoff).
//!
//! AWS throttles each API per account and Region with a token bucket: a sustained rate and a
//! burst. The collector spends one token per request before sending it; when the bucket is
//! empty it waits for the next token, so a burst of independent calls is spread over time
//! instead of being refused. One API's bucket never slows another's.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::bundle::Operation;

/// A sustained rate (requests per second) and a burst (requests that may go at once).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Rate {
    /// The documented default quota of an API, per account and Region, with a margin of 10 %
    /// below the sustained rate so that clock skew between the client and AWS never tips a
    /// request over. ECS's describe and list calls: 20/s with a burst of 50; CloudWatch Logs:
    /// GetLogEvents 25/s, FilterLogEvents 5/s (and Logs Insights' StartQuery, whose rate is not
    /// published, as conservatively); CloudTrail's LookupEvents: 2/s (burst 1 here), a quota that
    /// cannot be raised; ELBv2's describe calls: 10/s (not published per action; a conservative figure).
    pub fn documented(operation: Operation) -> Rate {
        let (per_second, burst) = match operation.service() {
            "ecs" => (20.0, 50.0),
            "logs"
                if matches!(
                    operation,
                    Operation::FilterLogEvents | Operation::StartQuery
                ) =>
            {
                (5.0, 5.0)
            }
            "logs" => (25.0, 25.0),
            // A burst of one: with a quota this small, the second token AWS allows is the margin
            // for requests that arrive closer together than they left.
            "cloudtrail" => (2.0, 1.0),
            _ => (10.0, 10.0),
        };
        Rate {
            per_second: per_second * 0.9,
            burst,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

/// One bucket per API.
#[derive(Debug)]
pub struct Pacer {
    buckets: BTreeMap<Operation, Mutex<Bucket>>,
}

impl Pacer {
    /// Every API at its documented rate, except those `overrides` sets (`None`: unpaced).
    pub fn new(overrides: &BTreeMap<Operation, Option<Rate>>) -> Pacer {
        let now = Instant::now();
        let buckets = Operation::ALL
            .into_iter()
            .filter_map(|operation| {
                let rate = match overrides.get(&operation) {
                    Some(rate) => (*rate)?,
                    None => Rate::documented(operation),
                };
                Some((
                    operation,
                    Mutex::new(Bucket {
                        rate,
                        tokens: rate.burst,
                        last: now,
                    }),
                ))
            })
            .collect();
        Pacer { buckets }
    }

    /// Waits until `operation` may send one request.
    pub async fn acquire(&self, operation: Operation) {
        let Some(bucket) = self.buckets.get(&operation) else {
            return;
        };
        loop {
            let wait = {
                let mut bucket = bucket
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let now = Instant::now();
                let elapsed = now.duration_since(bucket.last).as_secs_f64();
                bucket.tokens =
                    (bucket.tokens + elapsed * bucket.rate.per_second).min(bucket.rate.burst);
                bucket.last = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return;
                }
                if bucket.rate.per_second <= 0.0 {
                    return;
                }
                (1.0 - bucket.tokens) / bucket.rate.per_second
            };
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the clock paused, time only moves when every task waits: the pacer's schedule is
    /// measured exactly, whatever the machine's speed.
    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_and_the_rest_at_the_sustained_rate() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            Operation::GetLogEvents,
            Some(Rate {
                per_second: 10.0,
                burst: 5.0,
            }),
        );
        let pacer = Pacer::new(&overrides);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.acquire(Operation::GetLogEvents).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is not delayed");
        for _ in 0..10 {
            pacer.acquire(Operation::GetLogEvents).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!(
            (0.99..=1.01).contains(&elapsed),
            "10 more requests at 10/s take 1 s, took {elapsed}"
        );
        // Another API has its own bucket: not slowed by this one.
        let other = Instant::now();
        pacer.acquire(Operation::DescribeTasks).await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_api_set_to_none_is_not_paced() {
        let mut overrides = BTreeMap::new();
        overrides.insert(Operation::DescribeTasks, None);
        let pacer = Pacer::new(&overrides);
        let start = Instant::now();
        for _ in 0..1000 {
            pacer.acquire(Operation::DescribeTasks).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
