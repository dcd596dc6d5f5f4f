//! How busy the host's CPUs have been, from Linux's `/proc/stat`. Elsewhere (or where it cannot
//! be read) there is no reading, and nothing that depends on one holds back.

use std::time::{Duration, Instant};

/// Busy and total CPU time of all CPUs, in clock ticks since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CpuTimes {
    busy: u64,
    total: u64,
}

/// Something that tells how busy the CPUs have been lately.
pub trait CpuGauge: Send + Sync {
    /// The busy share of all CPUs over a recent window, from 0 to 1; `None` when unknown.
    fn busy_share(&mut self) -> Option<f64>;
}

/// A share is read against a reading at least this old, so that it rests on enough clock ticks
/// (10 ms each, per CPU) to mean something: over 20 ms, two CPUs give only four.
const WINDOW: Duration = Duration::from_millis(100);

/// The host's CPUs, read from `/proc/stat`, over the last 100 to 200 ms.
pub struct HostCpu {
    /// The reading shares are taken against: at least [`WINDOW`] old.
    older: Option<Reading>,
    /// The latest reading that started a window; it becomes `older` once [`WINDOW`] old.
    newer: Option<Reading>,
}

#[derive(Debug, Clone, Copy)]
struct Reading {
    at: Instant,
    times: CpuTimes,
}

impl Default for HostCpu {
    fn default() -> Self {
        Self {
            older: None,
            newer: Reading::now(),
        }
    }
}

impl Reading {
    fn now() -> Option<Self> {
        Some(Self {
            at: Instant::now(),
            times: read_proc_stat()?,
        })
    }
}

impl CpuGauge for HostCpu {
    fn busy_share(&mut self) -> Option<f64> {
        let now = Reading::now()?;
        let window_ended = self
            .newer
            .is_none_or(|newer| now.at.duration_since(newer.at) >= WINDOW);
        if window_ended {
            self.older = self.newer.replace(now);
        }
        let before = self.older?.times;
        let total = now.times.total.checked_sub(before.total)?;
        let busy = now.times.busy.checked_sub(before.busy)?;
        (total > 0).then(|| busy as f64 / total as f64)
    }
}

/// `/proc/stat` lives in memory: reading it is a few microseconds, fine on a worker task.
fn read_proc_stat() -> Option<CpuTimes> {
    parse_cpu_line(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The first line: `cpu user nice system idle iowait irq softirq steal …`. Idle and waiting
/// for I/O count as free; guest time is already inside user time, so it is left out.
fn parse_cpu_line(stat: &str) -> Option<CpuTimes> {
    let mut fields = stat.lines().next()?.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let ticks: Vec<u64> = fields
        .take(8)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, rest @ ..] = ticks.as_slice() else {
        return None;
    };
    let iowait = rest.first().copied().unwrap_or(0);
    let total = user + nice + system + idle + rest.iter().sum::<u64>();
    Some(CpuTimes {
        busy: total - idle - iowait,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_busy_and_total_from_the_first_line() {
        let stat = "cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\n";
        // user+nice+system+idle+iowait+irq+softirq+steal = 990; free = idle + iowait = 820.
        assert_eq!(
            parse_cpu_line(stat),
            Some(CpuTimes {
                busy: 170,
                total: 990
            })
        );
    }

    #[test]
    fn old_kernels_with_four_fields_are_read() {
        assert_eq!(
            parse_cpu_line("cpu 10 0 10 80\n"),
            Some(CpuTimes {
                busy: 20,
                total: 100
            })
        );
    }

    #[test]
    fn anything_else_is_no_reading() {
        assert_eq!(parse_cpu_line(""), None);
        assert_eq!(parse_cpu_line("intr 1 2 3\n"), None);
        assert_eq!(parse_cpu_line("cpu 10 x 10 80\n"), None);
        assert_eq!(parse_cpu_line("cpu 10 10\n"), None);
    }

    #[test]
    fn the_host_gives_a_share_between_zero_and_one() {
        let mut cpu = HostCpu::default();
        // Burn CPU for longer than the window, so that the next look compares two readings.
        let deadline = Instant::now() + WINDOW + Duration::from_millis(20);
        let mut spins = 0u64;
        while Instant::now() < deadline {
            spins = std::hint::black_box(spins + 1);
        }
        if cfg!(target_os = "linux") {
            let share = cpu.busy_share().expect("a reading on Linux");
            assert!((0.0..=1.0).contains(&share), "{share}");
        } else {
            assert_eq!(cpu.busy_share(), None);
        }
    }
}
