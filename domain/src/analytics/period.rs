//! The days a report covers, in a time zone: a date range turned into UTC instants to query,
//! and instants turned back into the local date they fall on.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{DomainError, DomainResult};

/// The first year a report may cover.
pub const EARLIEST_YEAR: i32 = 1970;
/// The last year a report may cover.
pub const LATEST_YEAR: i32 = 9998;

/// Longest range a report covers.
pub const MAX_REPORT_DAYS: u64 = 366;

/// A time zone by its IANA name (`Europe/Paris`, `UTC`).
pub fn time_zone(name: &str, field: &str) -> DomainResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        DomainError::validation(
            field,
            "is not an IANA time zone name (such as Europe/Paris or UTC)",
        )
    })
}

/// The days from `from` to `to` (both included) in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// Whose days they are.
    pub zone: Tz,
}

impl Period {
    /// Checks a range: both days within [`EARLIEST_YEAR`] to [`LATEST_YEAR`], `from` not after
    /// `to`, at most [`MAX_REPORT_DAYS`] days.
    pub fn new(from: NaiveDate, to: NaiveDate, zone: Tz) -> DomainResult<Self> {
        // Nothing is recorded before 1970, and both databases hold instants of years 1 to 9999
        // at most (PostgreSQL none before 4713 BC); the day after `to` must exist too.
        for (date, field) in [(from, "from"), (to, "to")] {
            if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&date.year()) {
                return Err(DomainError::validation(
                    field,
                    format!("must be a day of the years {EARLIEST_YEAR} to {LATEST_YEAR}"),
                ));
            }
        }
        if from > to {
            return Err(DomainError::validation("to", "must not be before `from`"));
        }
        if to.signed_duration_since(from).num_days() >= MAX_REPORT_DAYS as i64 {
            return Err(DomainError::validation(
                "to",
                format!("a report covers at most {MAX_REPORT_DAYS} days"),
            ));
        }
        Ok(Self { from, to, zone })
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        self.local_midnight(self.from)
    }

    /// The first instant after the period.
    pub fn end(&self) -> DateTime<Utc> {
        self.local_midnight(self.to + Days::new(1))
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .collect()
    }

    /// The index of the day `at` falls on, if it is in the period.
    pub fn day_index(&self, at: DateTime<Utc>) -> Option<usize> {
        let local = at.with_timezone(&self.zone).date_naive();
        if local < self.from || local > self.to {
            return None;
        }
        usize::try_from(local.signed_duration_since(self.from).num_days()).ok()
    }

    /// Midnight of `date` in the zone (or the first instant of that day where midnight does
    /// not exist because the clocks jump over it).
    fn local_midnight(&self, date: NaiveDate) -> DateTime<Utc> {
        let mut time = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        for _ in 0..4 {
            if let Some(at) = self.zone.from_local_datetime(&time).earliest() {
                return at.with_timezone(&Utc);
            }
            time += chrono::Duration::minutes(30);
        }
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_zone() {
        let paris = time_zone("Europe/Paris", "timeZone").unwrap();
        let from = NaiveDate::from_ymd_opt(2026, 3, 28).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap();
        let period = Period::new(from, to, paris).unwrap();
        // Winter time (UTC+1) at the start; summer time (UTC+2) from 29 March.
        assert_eq!(
            period.start(),
            Utc.with_ymd_and_hms(2026, 3, 27, 23, 0, 0).unwrap()
        );
        assert_eq!(
            period.end(),
            Utc.with_ymd_and_hms(2026, 3, 30, 22, 0, 0).unwrap()
        );
        assert_eq!(period.days().len(), 3);
        let late_evening_utc = Utc.with_ymd_and_hms(2026, 3, 28, 23, 30, 0).unwrap();
        assert_eq!(period.day_index(late_evening_utc), Some(1));
        assert_eq!(period.day_index(period.end()), None);
    }

    #[test]
    fn ranges_are_checked() {
        let utc = time_zone("UTC", "timeZone").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        assert!(Period::new(day, day, utc).is_ok());
        assert!(Period::new(day, day - Days::new(1), utc).is_err());
        assert!(Period::new(day, day + Days::new(366), utc).is_err());
        for far in [
            NaiveDate::MAX,
            NaiveDate::MIN,
            NaiveDate::from_ymd_opt(-4714, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(1969, 12, 31).unwrap(),
        ] {
            assert!(Period::new(far, far, utc).is_err(), "{far}");
        }
        let last = NaiveDate::from_ymd_opt(9998, 12, 31).unwrap();
        let period = Period::new(last, last, utc).unwrap();
        assert!(period.end() > period.start());
        assert!(time_zone("Mars/Olympus", "timeZone").is_err());
    }
}
