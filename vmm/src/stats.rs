//! Run statistics for `--stats` and `--profile`: VM exits by kind with the host
//! time spent handling each kind, time inside `KVM_RUN` versus in the VMM, and
//! the block devices' request counts.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Kinds of VM exit the run loop tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// A console write (`out` to `abi::device::CONSOLE_PORT`).
    ConsoleOut,
    /// A console input request (`out` to `abi::device::CONSOLE_IN_PORT`).
    ConsoleIn,
    /// An access to the serial port (the kernel's early and panic output).
    Serial,
    /// The guest ending the VM (`abi::device::EXIT_PORT`).
    ExitPort,
    /// The kernel's panic report (`abi::device::PANIC_PORT`).
    PanicPort,
    /// A boot milestone (`abi::device::MARKER_PORT`).
    MarkerPort,
    /// An `out` to a port no device serves.
    OtherPortOut,
    /// An `in` from a port no device serves.
    OtherPortIn,
    /// A read of a virtio-mmio register.
    VirtioMmioRead,
    /// A write of a virtio-mmio register.
    VirtioMmioWrite,
    /// An access to an MMIO address no device serves.
    OtherMmio,
    /// The guest halted (native mode idle).
    Hlt,
    /// `KVM_RUN` returned early for a signal or a kick.
    Interrupted,
    /// Any other exit reason.
    Other,
}

impl ExitKind {
    /// Every kind, in report order.
    pub const ALL: [ExitKind; 14] = [
        ExitKind::ConsoleOut,
        ExitKind::ConsoleIn,
        ExitKind::Serial,
        ExitKind::ExitPort,
        ExitKind::PanicPort,
        ExitKind::MarkerPort,
        ExitKind::OtherPortOut,
        ExitKind::OtherPortIn,
        ExitKind::VirtioMmioRead,
        ExitKind::VirtioMmioWrite,
        ExitKind::OtherMmio,
        ExitKind::Hlt,
        ExitKind::Interrupted,
        ExitKind::Other,
    ];

    /// Label in the report.
    pub fn name(self) -> &'static str {
        match self {
            ExitKind::ConsoleOut => "io-out console",
            ExitKind::ConsoleIn => "io-out console input",
            ExitKind::Serial => "io serial",
            ExitKind::ExitPort => "io-out exit",
            ExitKind::PanicPort => "io-out panic",
            ExitKind::MarkerPort => "io-out marker",
            ExitKind::OtherPortOut => "io-out other port",
            ExitKind::OtherPortIn => "io-in other port",
            ExitKind::VirtioMmioRead => "mmio-read virtio",
            ExitKind::VirtioMmioWrite => "mmio-write virtio",
            ExitKind::OtherMmio => "mmio unmapped",
            ExitKind::Hlt => "hlt",
            ExitKind::Interrupted => "interrupted (signal)",
            ExitKind::Other => "other",
        }
    }
}

/// Counters of one block device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// The disk's name in the report (`fs`, `swap`).
    pub name: String,
    /// Queue notifications served.
    pub notifies: u64,
    /// Requests completed (any status).
    pub requests: u64,
    /// Requests completed with an error status.
    pub errors: u64,
    /// Interrupts raised through the irqfd.
    pub interrupts: u64,
}

/// Host-side wall time of each phase of a run, in order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// Reading and checking the kernel ELF, its symbols.
    pub kernel: Duration,
    /// Preparing the file-system image (cache lookup or build, `--put`, check).
    pub image: Duration,
    /// Opening KVM, creating the VM, its irqchip and vCPU, the CPU mode and CPUID.
    pub vm: Duration,
    /// Mapping guest RAM and registering it.
    pub memory: Duration,
    /// Kernel load, boot page tables, registers, devices, boot information.
    pub boot: Duration,
    /// The run loop (the guest running).
    pub run: Duration,
    /// Stopping the devices, `--get`, closing the VM and unmapping its memory.
    pub teardown: Duration,
}

impl Phases {
    /// (name, time) of every phase, in order.
    pub fn list(&self) -> [(&'static str, Duration); 7] {
        [
            ("kernel", self.kernel),
            ("image", self.image),
            ("vm", self.vm),
            ("memory", self.memory),
            ("boot", self.boot),
            ("run", self.run),
            ("teardown", self.teardown),
        ]
    }

    /// The sum of all phases.
    pub fn total(&self) -> Duration {
        self.list().iter().map(|(_, d)| *d).sum()
    }
}

/// Everything `--stats` reports.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    exits: [u64; ExitKind::ALL.len()],
    /// Host time from `KVM_RUN` returning to the exit being served, by kind.
    exit_time: [Duration; ExitKind::ALL.len()],
    /// The kind counted last (the exit being served now).
    last: Option<ExitKind>,
    /// Time spent inside `KVM_RUN`.
    pub guest_time: Duration,
    /// Wall time from the first `KVM_RUN` to the end of the run loop.
    pub run_time: Duration,
    /// Wall time of the VM set-up (memory, kernel load, disks, devices).
    pub setup_time: Duration,
    /// Host time by phase.
    pub phases: Phases,
    /// Where the file-system image came from.
    pub image_source: &'static str,
    /// Whether the devices' register windows are mapped read-only into the
    /// guest (`None`: no devices, or not known yet).
    pub register_windows: Option<bool>,
    /// Bad console or panic descriptors from the guest, ignored.
    pub bad_descriptors: u64,
    /// Accesses to ports no device serves, by port.
    pub unknown_ports: BTreeMap<u16, u64>,
    /// Accesses to MMIO addresses no device serves, by address (first 16 addresses).
    pub unknown_mmio: BTreeMap<u64, u64>,
    /// Each block device's counters.
    pub disks: Vec<DiskStats>,
    /// Boot milestones the guest wrote to the marker port, with the time since
    /// the first `KVM_RUN`.
    pub markers: Vec<(u32, Duration)>,
}

/// Name of a marker-port value.
pub fn marker_name(value: u32) -> String {
    use abi::device::Marker;
    if value == Marker::KernelEntry as u32 {
        "kernel entry".into()
    } else if value == Marker::FirstUserInstruction as u32 {
        "first user instruction".into()
    } else {
        format!("marker {value:#x}")
    }
}

impl Stats {
    /// Counts one exit.
    pub fn count(&mut self, kind: ExitKind) {
        self.exits[kind as usize] += 1;
        self.last = Some(kind);
    }

    /// Charges `time` (the host time of serving the exit) to the kind counted
    /// last, and forgets it.
    pub fn charge_exit(&mut self, time: Duration) {
        if let Some(kind) = self.last.take() {
            self.exit_time[kind as usize] += time;
        }
    }

    /// Host time spent serving exits of `kind`.
    pub fn exit_time(&self, kind: ExitKind) -> Duration {
        self.exit_time[kind as usize]
    }

    /// Counts an access to a port no device serves.
    pub fn unknown_port(&mut self, port: u16) {
        *self.unknown_ports.entry(port).or_default() += 1;
    }

    /// Counts an access to an MMIO address no device serves.
    pub fn unknown_mmio(&mut self, addr: u64) {
        if self.unknown_mmio.len() < 16 || self.unknown_mmio.contains_key(&addr) {
            *self.unknown_mmio.entry(addr).or_default() += 1;
        }
    }

    /// Exits of `kind` so far.
    pub fn exits(&self, kind: ExitKind) -> u64 {
        self.exits[kind as usize]
    }

    /// All exits.
    pub fn total_exits(&self) -> u64 {
        self.exits.iter().sum()
    }

    /// Time in the VMM while the guest was running (exits handled in user space).
    pub fn vmm_time(&self) -> Duration {
        self.run_time.saturating_sub(self.guest_time)
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "faultline: stats: {} VM exits", self.total_exits())?;
        for kind in ExitKind::ALL {
            let n = self.exits(kind);
            if n != 0 {
                writeln!(f, "  {:<22} {n:>10}", kind.name())?;
            }
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        writeln!(
            f,
            "  time: guest (in KVM_RUN) {:.3} ms, VMM {:.3} ms, set-up {:.3} ms",
            ms(self.guest_time),
            ms(self.vmm_time()),
            ms(self.setup_time)
        )?;
        let phases: Vec<String> = self
            .phases
            .list()
            .iter()
            .map(|(name, d)| format!("{name} {:.3}", ms(*d)))
            .collect();
        writeln!(
            f,
            "  host phases (ms): {}; total {:.3}",
            phases.join(", "),
            ms(self.phases.total())
        )?;
        if !self.image_source.is_empty() {
            writeln!(f, "  file-system image: {}", self.image_source)?;
        }
        match self.register_windows {
            Some(true) => writeln!(
                f,
                "  device registers: read-only guest memory (reads do not exit)"
            )?,
            Some(false) => writeln!(
                f,
                "  device registers: every access exits (no read-only memory in KVM)"
            )?,
            None => {}
        }
        for (value, at) in &self.markers {
            writeln!(f, "  {} at {:.3} ms", marker_name(*value), ms(*at))?;
        }
        if self.bad_descriptors != 0 {
            writeln!(
                f,
                "  bad guest descriptors ignored: {}",
                self.bad_descriptors
            )?;
        }
        if !self.unknown_ports.is_empty() {
            let list: Vec<String> = self
                .unknown_ports
                .iter()
                .map(|(p, n)| format!("{p:#x} x{n}"))
                .collect();
            writeln!(f, "  unserved ports: {}", list.join(", "))?;
        }
        if !self.unknown_mmio.is_empty() {
            let list: Vec<String> = self
                .unknown_mmio
                .iter()
                .map(|(a, n)| format!("{a:#x} x{n}"))
                .collect();
            writeln!(f, "  unserved MMIO: {}", list.join(", "))?;
        }
        for d in &self.disks {
            writeln!(
                f,
                "  disk {}: {} notifies, {} requests ({} failed), {} interrupts",
                d.name, d.notifies, d.requests, d.errors, d.interrupts
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_report() {
        let mut s = Stats::default();
        s.count(ExitKind::ConsoleOut);
        s.count(ExitKind::ConsoleOut);
        s.count(ExitKind::ExitPort);
        s.run_time = Duration::from_millis(10);
        s.guest_time = Duration::from_millis(7);
        s.markers.push((1, Duration::from_millis(2)));
        s.markers.push((9, Duration::from_millis(3)));
        s.charge_exit(Duration::from_micros(5));
        s.charge_exit(Duration::from_micros(7));
        assert_eq!(s.exit_time(ExitKind::ExitPort), Duration::from_micros(5));
        assert_eq!(s.exit_time(ExitKind::ConsoleOut), Duration::ZERO);
        assert_eq!(s.exits(ExitKind::ConsoleOut), 2);
        assert_eq!(s.total_exits(), 3);
        assert_eq!(s.vmm_time(), Duration::from_millis(3));
        let text = s.to_string();
        assert!(text.contains("3 VM exits"), "{text}");
        assert!(text.contains("io-out console"), "{text}");
        assert!(!text.contains("hlt"), "{text}");
        assert!(text.contains("  kernel entry at 2.000 ms\n"), "{text}");
        assert!(text.contains("  marker 0x9 at 3.000 ms\n"), "{text}");
        assert!(
            text.contains("guest (in KVM_RUN) 7.000 ms, VMM 3.000 ms"),
            "{text}"
        );
        s.phases.image = Duration::from_micros(1500);
        s.phases.teardown = Duration::from_micros(250);
        s.image_source = "cached";
        let text = s.to_string();
        assert!(
            text.contains("  host phases (ms): kernel 0.000, image 1.500, vm 0.000, memory 0.000, boot 0.000, run 0.000, teardown 0.250; total 1.750\n"),
            "{text}"
        );
        assert!(text.contains("  file-system image: cached\n"), "{text}");
    }
}
