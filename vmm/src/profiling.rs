//! The profiling side of one run (`--profile`, `--trace`, `--flamegraph`):
//! reserves the profile buffer before boot, runs the ring collector and the
//! sampler while the guest runs, and afterwards prints the report and writes
//! the trace and the flamegraph.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use abi::profile::Event;
use anyhow::{Context, Result};
use kvm_ioctls::VcpuFd;

use crate::config::Config;
use crate::flamegraph::{self, Symbolizer};
use crate::memory::GuestMem;
use crate::profile::{self, Placement, Profile, RingReader};
use crate::profile_report;
use crate::sampler::Sampler;
use crate::stack_walk::KernelText;
use crate::stats::Stats;
use crate::symbols::Symbols;
use crate::trace;
use crate::trap_context::TrapText;

/// How often the collector copies new events out of the ring. The ring holds
/// 4096 events; faults take several µs each, so this keeps well ahead.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Profiling state of a run; inert when no profiling output was asked for.
pub struct Session {
    placement: Option<Placement>,
    collector: Option<Collector>,
    sampler: Option<Sampler>,
}

impl Session {
    /// Reserves the buffer at `free_start` if `config` asks for profiling;
    /// returns the session and the new `free_start`.
    pub fn prepare(config: &Config, mem: &GuestMem, free_start: u64) -> Result<(Session, u64)> {
        let mut session = Session {
            placement: None,
            collector: None,
            sampler: None,
        };
        if !config.profiling() {
            return Ok((session, free_start));
        }
        let (placement, free_start) = profile::reserve(mem, free_start, config.mem_size)?;
        session.placement = Some(placement);
        Ok((session, free_start))
    }

    /// The buffer for `BootInfo` (guest-physical address, bytes; 0/0 when off).
    pub fn boot_info(&self) -> (u64, u64) {
        self.placement.map_or((0, 0), |p| (p.addr, p.len))
    }

    /// Starts the collector (for `--trace`) and the sampler (for
    /// `--flamegraph`, aimed at the calling thread, which runs `vcpu`).
    pub fn start(
        &mut self,
        config: &Config,
        mem: &GuestMem,
        vcpu: &mut VcpuFd,
        kernel: &Symbols,
        pvm_mode: bool,
    ) -> Result<()> {
        if let (Some(placement), Some(_)) = (self.placement, &config.trace) {
            self.collector = Some(Collector::start(mem.clone(), placement)?);
        }
        if config.flamegraph.is_some() {
            let mut sampler = Sampler::new(
                config.sample_hz,
                self.placement,
                KernelText {
                    trap_return: kernel.address_of("trap_return"),
                    trap: TrapText::from_symbols(kernel),
                },
                pvm_mode,
            );
            sampler.start(vcpu)?;
            self.sampler = Some(sampler);
        }
        Ok(())
    }

    /// The sampler, for the run loop.
    pub fn sampler(&mut self) -> Option<&mut Sampler> {
        self.sampler.as_mut()
    }

    /// Stops the sampler (call when the run loop is done, before the vCPU
    /// goes away).
    pub fn stop(&mut self) {
        if let Some(s) = &mut self.sampler {
            s.stop();
        }
    }

    /// Reads the buffer, prints the report and writes the trace and the
    /// flamegraph as `config` asks. Returns the profile (if the kernel
    /// recorded one).
    pub fn finish(
        mut self,
        config: &Config,
        mem: &GuestMem,
        stats: &Stats,
        kernel: &Symbols,
    ) -> Result<Option<Profile>> {
        self.stop();
        let Some(placement) = self.placement else {
            return Ok(None);
        };
        let profile = Profile::read(mem, placement)?;
        if profile.is_none() {
            crate::diagln!(
                "faultline: the kernel did not set up the profile buffer (built without the fault recorder?); no fault data"
            );
        }
        if config.profile
            && let Some(p) = &profile
        {
            crate::diag!("{}", profile_report::render(p, stats));
        }
        if let Some(path) = &config.trace {
            let (events, lost) = match self.collector.take() {
                Some(c) => c.finish(mem),
                None => (Vec::new(), 0),
            };
            if let Some(p) = &profile {
                trace::write(path, &trace::build(p, &events, lost))?;
                let note = if lost > 0 {
                    format!(" ({lost} overwritten before they were read)")
                } else {
                    String::new()
                };
                crate::diagln!(
                    "faultline: trace: {} events{note} in {}",
                    events.len(),
                    path.display()
                );
            }
        }
        if let (Some(path), Some(sampler)) = (&config.flamegraph, &self.sampler) {
            let mut sym = Symbolizer::new(kernel, config.user_dir.as_deref());
            let folded = flamegraph::collapse(&sampler.samples, &mut sym);
            let title = format!("faultline: {}", config.cmdline);
            let cut = sampler
                .samples
                .iter()
                .filter(|s| flamegraph::marker(s.stack.end).is_some())
                .count();
            let subtitle = format!(
                "{} samples at {} Hz ({} asked for, {} unreadable, {cut} cut short; {:.1} ms spent sampling); {}",
                sampler.samples.len(),
                config.sample_hz,
                sampler.requested,
                sampler.failed,
                sampler.sampling_time.as_secs_f64() * 1e3,
                crate::flame_palette::LEGEND,
            );
            flamegraph::write(&folded, &title, &subtitle, path)?;
            crate::diagln!(
                "faultline: flamegraph: {} samples ({cut} cut short) in {}",
                sampler.samples.len(),
                path.display()
            );
        }
        Ok(profile)
    }
}

/// A thread that copies new ring events out of guest memory while the guest
/// runs, so the trace holds every event, not only the ring's last 4096.
struct Collector {
    placement: Placement,
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<(RingReader, Vec<Event>)>,
}

impl Collector {
    fn start(mem: GuestMem, placement: Placement) -> Result<Collector> {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let done = done.clone();
            std::thread::Builder::new()
                .name("trace-collector".into())
                .spawn(move || {
                    let mut reader = RingReader::new(placement);
                    let mut events = Vec::new();
                    let (lock, cv) = &*done;
                    let mut finished = lock.lock().unwrap_or_else(PoisonError::into_inner);
                    while !*finished {
                        reader.poll(&mem, false, &mut events);
                        finished = cv
                            .wait_timeout(finished, POLL_INTERVAL)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                    (reader, events)
                })
                .context("starting the trace collector thread")?
        };
        Ok(Collector {
            placement,
            done,
            thread,
        })
    }

    /// Stops the thread and takes the remaining events: (events, lost).
    fn finish(self, mem: &GuestMem) -> (Vec<Event>, u64) {
        let (lock, cv) = &*self.done;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
        match self.thread.join() {
            Ok((mut reader, mut events)) => {
                reader.poll(mem, true, &mut events);
                (events, reader.lost)
            }
            Err(_) => {
                // The thread died: what the ring still holds is all there is.
                let mut reader = RingReader::new(self.placement);
                let mut events = Vec::new();
                reader.poll(mem, true, &mut events);
                (events, reader.lost)
            }
        }
    }
}
