//! `--trace FILE.json`: the recorded faults and spans as a Chrome Trace Event
//! file (JSON object format), which Perfetto and `chrome://tracing` open.
//!
//! Each guest process is a trace process (`pid` = guest pid, named by a
//! `process_name` metadata event) with two tracks: thread 1 holds the page
//! faults as complete events (`"ph": "X"`) with their stages as nested
//! slices; thread 2 holds evictions and swap and file I/O. Timestamps are
//! microseconds since the kernel set the profile buffer up, from the TSC and
//! its frequency.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use abi::profile::{Event, Stage};
use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::profile::{EventType, Profile, event_type};

/// Thread id of the fault track.
const FAULT_TID: u32 = 1;
/// Thread id of the eviction and I/O track.
const SPAN_TID: u32 = 2;

/// Converts TSC values to trace time.
struct Clock {
    base: u64,
    khz: u64,
}

impl Clock {
    /// Nanoseconds since `base`.
    fn ns(&self, tsc: u64) -> u64 {
        (u128::from(tsc.saturating_sub(self.base)) * 1_000_000 / u128::from(self.khz)) as u64
    }

    /// A trace timestamp (µs) from nanoseconds.
    fn us(ns: u64) -> f64 {
        ns as f64 / 1e3
    }
}

/// The trace of `events` (oldest first); `lost` events did not make it.
pub fn build(profile: &Profile, events: &[Event], lost: u64) -> Value {
    let h = profile.header();
    let base = events
        .iter()
        .map(|e| e.start_tsc)
        .chain([h.start_tsc])
        .filter(|&t| t != 0)
        .min()
        .unwrap_or(0);
    let clock = Clock {
        base,
        khz: profile.tsc_khz(),
    };
    let mut out = Vec::new();
    let mut pids = BTreeSet::new();
    for ev in events {
        let Some(ty) = event_type(ev) else {
            continue;
        };
        pids.insert(ev.pid);
        match ty {
            EventType::Fault(kind) => fault(&mut out, &clock, ev, kind.name()),
            EventType::Span(kind) => {
                let start = clock.ns(ev.start_tsc);
                let end = clock.ns(ev.end_tsc).max(start);
                out.push(json!({
                    "name": kind.name(),
                    "cat": "span",
                    "ph": "X",
                    "ts": Clock::us(start),
                    "dur": Clock::us(end - start),
                    "pid": ev.pid,
                    "tid": SPAN_TID,
                    "args": {
                        "va": format!("{:#x}", ev.va),
                        "cycles": ev.end_tsc.saturating_sub(ev.start_tsc),
                    },
                }));
            }
        }
    }
    let mut meta = Vec::new();
    for pid in pids {
        let name = match (pid, profile.process_name(pid)) {
            (0, _) => "kernel".to_string(),
            (_, Some(name)) => format!("{name} (pid {pid})"),
            (_, None) => format!("pid {pid}"),
        };
        meta.push(json!({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": name}}));
        meta.push(json!({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0, "args": {"sort_index": pid}}));
        meta.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": FAULT_TID, "args": {"name": "page faults"}}));
        meta.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": SPAN_TID, "args": {"name": "evictions and paging I/O"}}));
    }
    meta.extend(out);
    json!({
        "traceEvents": meta,
        "displayTimeUnit": "ns",
        "otherData": {
            "producer": "faultline",
            "tsc_khz": h.tsc_khz,
            "faults": h.faults,
            "spans": h.spans,
            "events_in_trace": events.len(),
            "events_lost": lost,
        },
    })
}

/// One fault: the whole fault, then its non-empty stages laid end to end
/// inside it (eviction after frame allocation, where it happened within).
fn fault(out: &mut Vec<Value>, clock: &Clock, ev: &Event, kind: &str) {
    let start = clock.ns(ev.start_tsc);
    let end = clock.ns(ev.end_tsc).max(start);
    let stages: serde_json::Map<String, Value> = Stage::ALL
        .iter()
        .map(|s| (s.name().to_string(), json!(ev.stages[*s as usize])))
        .collect();
    out.push(json!({
        "name": format!("{kind} fault"),
        "cat": "fault",
        "ph": "X",
        "ts": Clock::us(start),
        "dur": Clock::us(end - start),
        "pid": ev.pid,
        "tid": FAULT_TID,
        "args": {
            "va": format!("{:#x}", ev.va),
            "cycles": ev.end_tsc.saturating_sub(ev.start_tsc),
            "stage_cycles": stages,
        },
    }));
    let mut at = ev.start_tsc;
    for stage in Stage::ALL {
        let cycles = ev.stages[stage as usize];
        if cycles == 0 {
            continue;
        }
        let s = clock.ns(at).min(end);
        at = at.saturating_add(cycles);
        let e = clock.ns(at).clamp(s, end);
        out.push(json!({
            "name": stage.name(),
            "cat": "stage",
            "ph": "X",
            "ts": Clock::us(s),
            "dur": Clock::us(e - s),
            "pid": ev.pid,
            "tid": FAULT_TID,
            "args": {"cycles": cycles},
        }));
    }
}

/// Writes the trace to `path`.
pub fn write(path: &Path, trace: &Value) -> Result<()> {
    let file =
        File::create(path).with_context(|| format!("--trace: creating {}", path.display()))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer(&mut w, trace)
        .and_then(|()| w.flush().map_err(serde_json::Error::io))
        .with_context(|| format!("--trace: writing {}", path.display()))
}

/// Reads a trace file back (for tests and tools): the parsed JSON, checked to
/// be a Chrome trace object with a `traceEvents` array.
pub fn read(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the trace {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    anyhow::ensure!(
        v["traceEvents"].is_array(),
        "{} has no traceEvents array",
        path.display()
    );
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::zeroed_buf;
    use abi::profile::{
        EventKind, FaultKind, Header, N_STAGES, PROFILE_MAGIC, PROFILE_VERSION, ProcStats,
        ProfileBuf, SpanKind, name_field,
    };

    fn profile() -> Profile {
        let mut buf = zeroed_buf();
        buf.header = Header {
            magic: PROFILE_MAGIC,
            version: PROFILE_VERSION,
            size: ProfileBuf::SIZE as u64,
            tsc_khz: 2_000_000,
            start_tsc: 1_000_000,
            faults: 1,
            spans: 1,
            ..Header::default()
        };
        buf.procs[0] = ProcStats {
            pid: 4,
            name: name_field(b"swap-anon"),
            ..Default::default()
        };
        Profile::from_buf(buf).unwrap().unwrap()
    }

    fn events() -> Vec<Event> {
        let mut stages = [0; N_STAGES];
        stages[Stage::Entry as usize] = 2_000;
        stages[Stage::FrameAlloc as usize] = 1_000;
        stages[Stage::Eviction as usize] = 20_000;
        stages[Stage::Fill as usize] = 6_000;
        stages[Stage::Map as usize] = 1_000;
        let total: u64 = stages.iter().sum();
        vec![
            Event {
                seq: 1,
                start_tsc: 1_002_000,
                end_tsc: 1_002_000 + 20_000,
                va: 0x1000,
                stages: [0; N_STAGES],
                pid: 4,
                kind: EventKind::Span as u32,
                sub: SpanKind::SwapWrite as u32,
                _pad: 0,
            },
            Event {
                seq: 2,
                start_tsc: 1_001_000,
                end_tsc: 1_001_000 + total,
                va: 0x4000_0000,
                stages,
                pid: 4,
                kind: EventKind::Fault as u32,
                sub: FaultKind::SwapIn as u32,
                _pad: 0,
            },
            // Malformed events are skipped.
            Event {
                seq: 3,
                kind: 9,
                ..Event::default()
            },
        ]
    }

    #[test]
    fn the_trace_is_chrome_json_with_required_fields() {
        let trace = build(&profile(), &events(), 7);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        write(&path, &trace).unwrap();
        let v = read(&path).unwrap();
        assert_eq!(v, trace);
        std::fs::write(&path, "{\"traceEvents\": 3}").unwrap();
        assert!(read(&path).is_err());
        std::fs::write(&path, "{").unwrap();
        assert!(read(&path).is_err());
        assert_eq!(v["displayTimeUnit"], "ns");
        assert_eq!(v["otherData"]["events_lost"], 7);
        let evs = v["traceEvents"].as_array().unwrap();
        for e in evs {
            let ph = e["ph"].as_str().unwrap();
            assert!(ph == "X" || ph == "M", "{e}");
            assert!(
                e["name"].is_string() && e["pid"].is_u64() && e["tid"].is_u64(),
                "{e}"
            );
            if ph == "X" {
                assert!(e["ts"].as_f64().unwrap() >= 0.0, "{e}");
                assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
            }
        }
        let named = evs.iter().find(|e| e["name"] == "process_name").unwrap();
        assert_eq!(named["args"]["name"], "swap-anon (pid 4)");
        let f = evs.iter().find(|e| e["cat"] == "fault").unwrap();
        assert_eq!(f["name"], "swap-in fault");
        assert_eq!(f["tid"], FAULT_TID);
        assert_eq!(f["args"]["va"], "0x40000000");
        // 1000 cycles after the start at 2 GHz = 0.5 µs; 30000 cycles = 15 µs.
        assert_eq!(f["ts"].as_f64().unwrap(), 0.5);
        assert_eq!(f["dur"].as_f64().unwrap(), 15.0);
        assert_eq!(f["args"]["stage_cycles"]["eviction"], 20_000);
        // Stages nest inside the fault and follow each other.
        let (fs, fe) = (0.5, 15.5);
        let stages: Vec<&Value> = evs.iter().filter(|e| e["cat"] == "stage").collect();
        let names: Vec<&str> = stages.iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["entry", "frame-alloc", "eviction", "fill", "map"]);
        let mut prev_end = fs;
        for s in &stages {
            let ts = s["ts"].as_f64().unwrap();
            let end = ts + s["dur"].as_f64().unwrap();
            assert!((ts - prev_end).abs() < 1e-9 && end <= fe + 1e-9, "{s}");
            prev_end = end;
        }
        assert!((prev_end - fe).abs() < 1e-9);
        let span = evs.iter().find(|e| e["cat"] == "span").unwrap();
        assert_eq!(span["name"], "swap-write");
        assert_eq!(span["tid"], SPAN_TID);
        assert_eq!(span["dur"].as_f64().unwrap(), 10.0);
    }
}
