//! AWS timestamps in every form the bundle may hold them.
//!
//! On the wire (and in AWS CLI v1 output) ECS timestamps are epoch seconds as floats and
//! CloudWatch Logs timestamps are epoch milliseconds as integers. AWS CLI v2 prints ECS
//! timestamps as ISO-8601 strings by default. All of them deserialize into `Timestamp`,
//! which keeps millisecond precision and prints as RFC 3339 in UTC.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A point in time with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch.
    pub millis: i64,
}

impl Timestamp {
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp { millis }
    }

    /// Parses an ISO-8601 / RFC 3339 timestamp such as `2026-11-24T10:02:03.456000+00:00`.
    pub fn parse_iso(text: &str) -> Option<Timestamp> {
        let trimmed = text.trim();
        if let Ok(ts) = trimmed.parse::<jiff::Timestamp>() {
            return Some(Timestamp::from_millis(ts.as_millisecond()));
        }
        // The AWS CLI and CloudWatch Logs Insights sometimes print a space instead of `T`
        // and no offset, which means UTC.
        let civil = trimmed
            .replacen(' ', "T", 1)
            .parse::<jiff::civil::DateTime>()
            .ok()?;
        let zoned = civil.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?;
        Some(Timestamp::from_millis(zoned.timestamp().as_millisecond()))
    }

    /// Epoch seconds, as ECS puts them on the wire (a float with fractional milliseconds).
    pub fn from_epoch_seconds(seconds: f64) -> Option<Timestamp> {
        let millis = (seconds * 1000.0).round();
        // Reject NaN, infinities and values outside the range jiff can print.
        if !(-8.0e15..=2.5e14).contains(&millis) {
            return None;
        }
        #[allow(clippy::cast_possible_truncation)]
        Some(Timestamp::from_millis(millis as i64))
    }

    /// Seconds from `self` to `later`, negative when `later` is earlier.
    #[allow(clippy::cast_precision_loss)]
    pub fn seconds_until(self, later: Timestamp) -> f64 {
        (later.millis - self.millis) as f64 / 1000.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_millisecond(self.millis) {
            Ok(ts) => write!(f, "{ts:.3}"),
            Err(_) => write!(f, "@{}ms", self.millis),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Which unit a bare number means: ECS and ELBv2 use seconds, CloudWatch Logs milliseconds.
#[derive(Clone, Copy)]
enum NumberUnit {
    Seconds,
    Millis,
}

struct TimestampVisitor(NumberUnit);

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp (epoch number or ISO-8601 string)")
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Timestamp, E> {
        let seconds = match self.0 {
            NumberUnit::Seconds => value,
            NumberUnit::Millis => value / 1000.0,
        };
        Timestamp::from_epoch_seconds(seconds)
            .ok_or_else(|| E::custom(format!("timestamp {value} is out of range")))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Timestamp, E> {
        match self.0 {
            NumberUnit::Seconds => self.visit_f64(value as f64),
            NumberUnit::Millis => Ok(Timestamp::from_millis(value)),
        }
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Timestamp, E> {
        let value = i64::try_from(value)
            .map_err(|_| E::custom(format!("timestamp {value} is out of range")))?;
        self.visit_i64(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Timestamp, E> {
        Timestamp::parse_iso(value)
            .ok_or_else(|| E::custom(format!("`{value}` is not an ISO-8601 timestamp")))
    }
}

/// An ECS or ELBv2 timestamp: epoch seconds or an ISO-8601 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct EpochSeconds(pub Timestamp);

impl<'de> Deserialize<'de> for EpochSeconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(TimestampVisitor(NumberUnit::Seconds))
            .map(EpochSeconds)
    }
}

/// A CloudWatch Logs timestamp: epoch milliseconds or an ISO-8601 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct EpochMillis(pub Timestamp);

impl<'de> Deserialize<'de> for EpochMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(TimestampVisitor(NumberUnit::Millis))
            .map(EpochMillis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_seconds(json: &str, expect: &str) {
        let ts: EpochSeconds = serde_json::from_str(json).expect("timestamp parses");
        assert_eq!(ts.0.to_string(), expect);
    }

    #[test]
    fn ecs_wire_and_cli_forms_agree() {
        check_seconds("1795533954.96", "2026-11-24T15:25:54.960Z");
        check_seconds("1795533954", "2026-11-24T15:25:54.000Z");
        check_seconds(
            r#""2026-11-24T15:25:54.960000+00:00""#,
            "2026-11-24T15:25:54.960Z",
        );
        check_seconds(
            r#""2026-11-24T16:25:54.960+01:00""#,
            "2026-11-24T15:25:54.960Z",
        );
        check_seconds(r#""2026-11-24 15:25:54.960""#, "2026-11-24T15:25:54.960Z");
    }

    #[test]
    fn logs_use_milliseconds() {
        let ts: EpochMillis = serde_json::from_str("1795533954960").expect("parses");
        assert_eq!(ts.0.to_string(), "2026-11-24T15:25:54.960Z");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<EpochSeconds>(r#""yesterday""#).is_err());
        assert!(serde_json::from_str::<EpochSeconds>("1e300").is_err());
        assert!(serde_json::from_str::<EpochMillis>("true").is_err());
        assert!(serde_json::from_str::<EpochMillis>("18446744073709551615").is_err());
    }
}
