//! adjtimex(2) → `node_timex_*`: the kernel clock discipline's offset, frequency, errors,
//! status, PPS figures and sync status (node_exporter "timex" names and units).

use vigie_kit::{CollectError, CollectResult, Desc, MetricSet, Registration, Scrape, SyncCollector};

/// The registration.
pub const REG: Registration = Registration {
    name: "timex",
    default_enabled: true,
    help: "Exposes selected adjtimex(2) system call stats.",
    args: vigie_kit::collector::no_args,
    build: |_| Ok(Box::new(Timex)),
};

const OFFSET: Desc = Desc::gauge("node_timex_offset_seconds", "Offset between the local clock and the reference clock.", &[]);
const FREQ: Desc = Desc::gauge("node_timex_frequency_adjustment_ratio", "Frequency adjustment of the local clock.", &[]);
const MAXERROR: Desc = Desc::gauge("node_timex_maxerror_seconds", "Maximum error, in seconds.", &[]);
const ESTERROR: Desc = Desc::gauge("node_timex_estimated_error_seconds", "Estimated error, in seconds.", &[]);
const STATUS: Desc = Desc::gauge("node_timex_status", "The clock status bits.", &[]);
const CONSTANT: Desc = Desc::gauge("node_timex_loop_time_constant", "Time constant of the phase-locked loop.", &[]);
const TICK: Desc = Desc::gauge("node_timex_tick_seconds", "Seconds between clock ticks.", &[]);
const PPSFREQ: Desc = Desc::gauge("node_timex_pps_frequency_hertz", "PPS frequency.", &[]);
const JITTER: Desc = Desc::gauge("node_timex_pps_jitter_seconds", "PPS jitter.", &[]);
const SHIFT: Desc = Desc::gauge("node_timex_pps_shift_seconds", "PPS interval duration.", &[]);
const STABIL: Desc = Desc::gauge("node_timex_pps_stability_hertz", "PPS stability: average of recent frequency changes.", &[]);
const JITCNT: Desc = Desc::counter("node_timex_pps_jitter_total", "PPS jitter limit exceeded events.", &[]);
const CALCNT: Desc = Desc::counter("node_timex_pps_calibration_total", "PPS calibration intervals.", &[]);
const ERRCNT: Desc = Desc::counter("node_timex_pps_error_total", "PPS calibration errors.", &[]);
const STBCNT: Desc = Desc::counter("node_timex_pps_stability_exceeded_total", "PPS stability limit exceeded events.", &[]);
const TAI: Desc = Desc::gauge("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.", &[]);
const SYNC: Desc = Desc::gauge("node_timex_sync_status", "Whether the clock is synchronised to a reliable server (1) or not (0).", &[]);

/// What adjtimex(2) returned: its state and the `struct timex` fields used.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Raw {
    /// The clock state (TIME_OK … TIME_ERROR).
    pub state: i32,
    /// `struct timex` fields, as the kernel gives them.
    pub offset: i64,
    #[allow(missing_docs)]
    pub freq: i64,
    #[allow(missing_docs)]
    pub maxerror: i64,
    #[allow(missing_docs)]
    pub esterror: i64,
    #[allow(missing_docs)]
    pub status: i32,
    #[allow(missing_docs)]
    pub constant: i64,
    #[allow(missing_docs)]
    pub tick: i64,
    #[allow(missing_docs)]
    pub ppsfreq: i64,
    #[allow(missing_docs)]
    pub jitter: i64,
    #[allow(missing_docs)]
    pub shift: i32,
    #[allow(missing_docs)]
    pub stabil: i64,
    #[allow(missing_docs)]
    pub jitcnt: i64,
    #[allow(missing_docs)]
    pub calcnt: i64,
    #[allow(missing_docs)]
    pub errcnt: i64,
    #[allow(missing_docs)]
    pub stbcnt: i64,
    #[allow(missing_docs)]
    pub tai: i32,
}

const TIME_ERROR: i32 = 5;
const STA_NANO: i32 = 0x2000;
const PPM16FRAC: f64 = 1_000_000.0 * 65_536.0;

/// The families' values from one reading, in node_exporter's units.
pub fn write(raw: &Raw, out: &mut MetricSet) {
    // Offset and jitter are in ns when STA_NANO is set, else µs.
    let divisor = if raw.status & STA_NANO != 0 { 1e9 } else { 1e6 };
    out.add(&SYNC, &[], if raw.state == TIME_ERROR { 0.0 } else { 1.0 });
    out.add(&OFFSET, &[], raw.offset as f64 / divisor);
    out.add(&FREQ, &[], 1.0 + raw.freq as f64 / PPM16FRAC);
    out.add(&MAXERROR, &[], raw.maxerror as f64 / 1e6);
    out.add(&ESTERROR, &[], raw.esterror as f64 / 1e6);
    out.add(&STATUS, &[], raw.status as f64);
    out.add(&CONSTANT, &[], raw.constant as f64);
    out.add(&TICK, &[], raw.tick as f64 / 1e6);
    out.add(&PPSFREQ, &[], raw.ppsfreq as f64 / PPM16FRAC);
    out.add(&JITTER, &[], raw.jitter as f64 / divisor);
    out.add(&SHIFT, &[], raw.shift as f64);
    out.add(&STABIL, &[], raw.stabil as f64 / PPM16FRAC);
    out.add(&JITCNT, &[], raw.jitcnt as f64);
    out.add(&CALCNT, &[], raw.calcnt as f64);
    out.add(&ERRCNT, &[], raw.errcnt as f64);
    out.add(&STBCNT, &[], raw.stbcnt as f64);
    out.add(&TAI, &[], raw.tai as f64);
}

/// Reads the kernel clock with adjtimex(2).
pub struct Timex;

impl SyncCollector for Timex {
    fn collect_sync(&self, _: &Scrape, out: &mut MetricSet) -> CollectResult {
        match sys::adjtimex() {
            Ok(raw) => {
                write(&raw, out);
                Ok(())
            }
            // As node_exporter: no permission (a sandbox) is "no data", not a failure.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(CollectError::NoData(e.to_string())),
            Err(e) => Err(CollectError::Other(format!("adjtimex: {e}"))),
        }
    }
}

mod sys {
    //! The one `unsafe` block of the project: a read-only adjtimex(2) call.
    use super::Raw;

    #[allow(unsafe_code)]
    pub fn adjtimex() -> std::io::Result<Raw> {
        // SAFETY: `libc::timex` is a plain C struct of integers; all-zero is a valid value and,
        // with `modes == 0`, asks the kernel only to read. The pointer is to a live local for
        // the duration of the call, and nothing else aliases it.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        let state = unsafe { libc::adjtimex(&mut tx) };
        if state < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Raw {
            state,
            offset: tx.offset,
            freq: tx.freq,
            maxerror: tx.maxerror,
            esterror: tx.esterror,
            status: tx.status,
            constant: tx.constant,
            tick: tx.tick,
            ppsfreq: tx.ppsfreq,
            jitter: tx.jitter,
            shift: tx.shift,
            stabil: tx.stabil,
            jitcnt: tx.jitcnt,
            calcnt: tx.calcnt,
            errcnt: tx.errcnt,
            stbcnt: tx.stbcnt,
            tai: tx.tai,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_as_node_exporter() {
        let raw = Raw { state: 0, offset: 1500, freq: 65_536 * 10, maxerror: 16_000, status: 0x2001, tick: 10_000, tai: 37, ..Raw::default() };
        let mut out = MetricSet::new();
        write(&raw, &mut out);
        let text = out.encode();
        assert!(text.contains("node_timex_offset_seconds 1.5e-06\n"), "ns with STA_NANO: {text}");
        assert!(text.contains("node_timex_frequency_adjustment_ratio 1.00001\n"), "{text}");
        assert!(text.contains("node_timex_maxerror_seconds 0.016\n"), "{text}");
        assert!(text.contains("node_timex_tick_seconds 0.01\n"), "{text}");
        assert!(text.contains("node_timex_sync_status 1\n") && text.contains("node_timex_tai_offset_seconds 37\n"));
        let mut out = MetricSet::new();
        write(&Raw { state: TIME_ERROR, offset: 1500, ..Raw::default() }, &mut out);
        let text = out.encode();
        assert!(text.contains("node_timex_sync_status 0\n") && text.contains("node_timex_offset_seconds 0.0015\n"), "µs: {text}");
    }

    #[test]
    fn this_kernel_answers() {
        let raw = sys::adjtimex().unwrap();
        assert!(raw.tick > 0, "{raw:?}");
    }
}
