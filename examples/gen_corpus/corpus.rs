//! Synthetic `/var/log/messages` generator for benchmarking and scale-testing podmortem.
//!
//! [`generate`] writes a time-ordered RSyslog (RFC 3164, RHEL 7 style) log of one or more
//! Kubernetes nodes (`ecs-prod-003`, ...) whose clock runs at +08:00. Every line is
//! `Mon dd hh:mm:ss HOST PROGRAM[PID]: MESSAGE` or `Mon dd hh:mm:ss HOST PROGRAM: MESSAGE`,
//! with the day of month space padded (`May  2`). The clock only moves forward and is
//! paced so that the file spans 1–3 days (or [`Config::hours`]) whatever its size.
//!
//! Almost every line is routine node chatter: kubelet klog lines, dockerd and containerd
//! logrus lines, Calico CNI lines logged under `kubelet`, kernel veth/XFS lines and systemd
//! units. Pods churn all the time, so a file contains thousands of random 64-hex container
//! IDs. Some routine lines look alarming on purpose and must not be reported as incidents:
//! a one-shot `failed to exit within 10 seconds of signal 15 - using the force` for a
//! container being torn down, `Killing container with a grace period`, CrashLoopBackOff
//! sync errors and cAdvisor partial failures.
//!
//! [`Config::incidents`] plants that many stuck-sandbox incidents, modelled on a field
//! report. For each of them, a Calico line first ties sandbox S to the pod's workload.
//! Then, for 1–4 hours, dockerd alternates `Container <S> ... signal 15 - using the force`
//! and `Container <S[..12]> ... kill - trying direct SIGKILL` every 10–12 s, while every
//! ~10 minutes kubelet logs the StopContainer / Container termination failed /
//! Kill container failed triple for the pod's container C. [`Summary::incidents`] is the
//! ground truth tests and benches check podmortem against (see [`Incident`]).
//!
//! The incident plan depends on the seed, start, hours, hosts and incident count but not
//! on the size, so small and large corpora carry the same incidents. Planted lines are
//! always written in full, even past the requested size, so a corpus of only a few MB is
//! dominated by them.
//!
//! Output is deterministic for a given [`Config`]. Lines are formatted into one reused
//! buffer without allocating, so 1 GiB takes a few seconds.
//!
//! This file is shared: the `gen_corpus` example (`main.rs`, the command line) and the
//! benches include it as a module and call [`generate`]. In a binary crate `pub` does not
//! exempt an item from the `dead_code` lint, so everything here must be reachable from
//! [`generate`], [`Config`] or a trait impl; that is why the summary line and the
//! manifest are `Display` and `Serialize` impls rather than methods.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Timelike,
};
use fastrand::Rng;
use serde::{Serialize, Serializer};

const SEC: i64 = 1_000_000_000;
const MS: i64 = SEC / 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// The nodes' UTC offset in seconds; the generator keeps and prints local time.
const TZ_SECS: i32 = 8 * 3600;
const TZ_OFFSET: i64 = TZ_SECS as i64 * SEC;
/// [`TZ_SECS`] as logrus prints it, kept as text so lines need no offset formatting.
const TZ: &str = "+08:00";
/// Expected average line length, used to pace the clock before real data is in.
const AVG_LINE: f64 = 180.0;
/// Re-pace the clock after this many noise lines.
const REPACE_EVERY: u64 = 4096;
/// How many torn-down pods each host remembers for "no such container" style lines.
const RETIRED_CAP: usize = 64;

const HEX: &[u8; 16] = b"0123456789abcdef";
/// Alphabet of Kubernetes generated name suffixes.
const K8S_ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const RPC_ERRORS: [&str; 2] = [
    "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
    "rpc error: code = Unknown desc = operation timeout: context deadline exceeded",
];
const API_SERVER: [u8; 4] = [192, 168, 0, 10];
/// ClusterIP services kube-proxy (IPVS mode) balances.
const SERVICES: [([u8; 4], u64); 4] = [
    ([10, 96, 0, 10], 53),
    ([10, 96, 12, 7], 8080),
    ([10, 96, 40, 33], 9090),
    ([10, 96, 77, 201], 443),
];
const GATEWAY: [u8; 4] = [192, 168, 0, 1];

// ---------------------------------------------------------------------------------------
// Public interface
// ---------------------------------------------------------------------------------------

/// What to generate. [`Config::new`] and [`Default`] give the CLI's defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// Noise is written until the output reaches this size; planted lines still due are
    /// then written anyway, so the result can be a little larger.
    pub size_bytes: u64,
    /// Seeds all randomness: the same config always gives the same bytes.
    pub seed: u64,
    /// How many stuck-sandbox incidents to plant.
    pub incidents: usize,
    /// Local (+08:00) wall-clock time the corpus starts at; years 1970 to 2200.
    pub start: NaiveDateTime,
    /// How many nodes log into the file, 1 to 999.
    pub hosts: usize,
    /// Time span of the corpus; `None` lets the seed pick 1 to 3 days.
    pub hours: Option<f64>,
}

impl Config {
    /// A corpus of `size_bytes`: seed 42, 3 incidents, one host, from 2023-05-01 00:00.
    pub fn new(size_bytes: u64) -> Self {
        let start = NaiveDate::from_ymd_opt(2023, 5, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .expect("a valid date");
        Config {
            size_bytes,
            seed: 42,
            incidents: 3,
            start,
            hosts: 1,
            hours: None,
        }
    }

    /// Checks the ranges documented on the fields, which keep every timestamp within
    /// the nanosecond `i64` clock and four-digit years.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=999).contains(&self.hosts) {
            return Err("hosts must be between 1 and 999".into());
        }
        if self.hours.is_some_and(|h| !(h > 0.0 && h < 24.0 * 365.0)) {
            return Err("hours must be positive and less than a year".into());
        }
        if !(1970..=2200).contains(&self.start.year()) {
            return Err("start must be in the years 1970 to 2200".into());
        }
        Ok(())
    }

    /// [`Config::start`] on the generator's clock: local nanoseconds since the epoch.
    fn start_ns(&self) -> i64 {
        self.start
            .and_utc()
            .timestamp_nanos_opt()
            .expect("validated start fits the clock")
    }
}

impl Default for Config {
    /// A 64 MiB corpus: big enough to time a pipeline, small enough to keep in memory.
    fn default() -> Self {
        Config::new(64 << 20)
    }
}

/// What [`generate`] wrote. Its `Display` is the CLI's one-line summary.
#[derive(Clone, Debug)]
pub struct Summary {
    pub bytes: u64,
    pub lines: u64,
    /// How many of `lines` belong to the planted incidents.
    pub planted_lines: usize,
    pub hosts: usize,
    /// [`Config::start`] in the nodes' offset.
    pub start: DateTime<FixedOffset>,
    /// Header time of the last line.
    pub last: DateTime<FixedOffset>,
    /// Ground truth of the planted incidents, in plan order.
    pub incidents: Vec<Incident>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes, {} lines, {} incidents ({} planted lines), {} host(s), {} .. {}",
            self.bytes,
            self.lines,
            self.incidents.len(),
            self.planted_lines,
            self.hosts,
            rfc3339(&self.start),
            rfc3339(&self.last),
        )
    }
}

/// Ground truth of one planted stuck-sandbox incident. It serializes to one object of
/// the manifest the CLI writes; times are syslog header times, whole seconds.
#[derive(Clone, Debug, Serialize)]
pub struct Incident {
    /// `ns/name`.
    pub pod: String,
    pub pod_uid: String,
    pub host: String,
    /// Name of the container C kubelet fails to kill.
    pub container_name: String,
    /// The stuck sandbox S dockerd keeps trying to stop.
    pub sandbox: String,
    /// C's container ID.
    pub container: String,
    /// dockerd stop-loop lines (force / direct SIGKILL).
    pub loop_lines: u32,
    /// kubelet StopContainer / termination / kill failure lines.
    pub kubelet_lines: u32,
    /// The Calico line tying S to the pod's workload.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub cni_at: DateTime<FixedOffset>,
    /// First dockerd or kubelet symptom.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub first: DateTime<FixedOffset>,
    /// Last dockerd or kubelet symptom.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub last: DateTime<FixedOffset>,
}

/// Writes a deterministic corpus for `cfg` to `out`, which should be buffered (a
/// `BufWriter` or a `Vec`): every line is a separate `write_all`. Flushes `out` at the
/// end. Fails with `InvalidInput` if `cfg` does not [`Config::validate`].
pub fn generate<W: Write>(cfg: &Config, out: W) -> io::Result<Summary> {
    cfg.validate()
        .map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    let mut gen = Generator::new(cfg, out);
    gen.generate(cfg.size_bytes)?;
    gen.sink.out.flush()?;
    Ok(gen.summary(cfg))
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// Calendar fields of a time on the generator's clock. The clock counts local time, so
/// chrono's UTC conversion yields the local wall clock directly.
fn civil(ns: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(ns).naive_utc()
}

/// A time on the generator's clock as a syslog header shows it: whole seconds, +08:00.
fn header_time(ns: i64) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(TZ_SECS).expect("offset under a day");
    offset
        .from_local_datetime(&civil(ns - ns.rem_euclid(SEC)))
        .single()
        .expect("fixed offsets are unambiguous")
}

/// `2023-05-01T10:47:56+08:00`
fn rfc3339(time: &DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn serialize_rfc3339<S: Serializer>(
    time: &DateTime<FixedOffset>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(time))
}

// ---------------------------------------------------------------------------------------
// Allocation-free formatting into the line buffer
// ---------------------------------------------------------------------------------------

/// Chainable appends to a byte buffer.
trait Put {
    fn b(&mut self, bytes: &[u8]) -> &mut Self;

    fn s(&mut self, text: &str) -> &mut Self {
        self.b(text.as_bytes())
    }

    /// `n` right-aligned in `width` columns, padded with `fill`.
    fn num(&mut self, mut n: u64, width: usize, fill: u8) -> &mut Self {
        let mut tmp = [fill; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.b(&tmp[i.min(tmp.len().saturating_sub(width))..])
    }

    fn n(&mut self, n: u64) -> &mut Self {
        self.num(n, 0, b'0')
    }

    fn z(&mut self, n: u64, width: usize) -> &mut Self {
        self.num(n, width, b'0')
    }

    fn hex(&mut self, mut n: u64) -> &mut Self {
        let mut tmp = [0u8; 16];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = HEX[(n & 15) as usize];
            n >>= 4;
            if n == 0 {
                break;
            }
        }
        self.b(&tmp[i..])
    }

    fn ip(&mut self, ip: [u8; 4]) -> &mut Self {
        let [a, b, c, d] = ip.map(u64::from);
        self.n(a).s(".").n(b).s(".").n(c).s(".").n(d)
    }

    fn id(&mut self, id: &Hex64) -> &mut Self {
        self.b(&id.0)
    }

    fn uid(&mut self, uid: &Uid) -> &mut Self {
        self.b(&uid.0)
    }

    /// `ns/name`, as kubelet prints a pod.
    fn pod(&mut self, pod: &Pod) -> &mut Self {
        self.s(pod.ns).s("/").s(&pod.name)
    }

    /// The pod's systemd slice, e.g. `kubepods-burstable-pod4b1c_..._9f.slice`.
    fn slice(&mut self, pod: &Pod) -> &mut Self {
        let mut uid = pod.uid.0;
        uid.iter_mut()
            .filter(|c| **c == b'-')
            .for_each(|c| *c = b'_');
        self.s(pod.qos.slice_prefix()).b(&uid).s(".slice")
    }

    /// `text` with every `-` doubled, as Calico escapes names in workload endpoint IDs.
    fn doubled(&mut self, text: &str) -> &mut Self {
        for (i, part) in text.split('-').enumerate() {
            if i > 0 {
                self.s("--");
            }
            self.s(part);
        }
        self
    }

    /// Calico workload endpoint: `<node>-k8s-<pod>-eth0`, dashes doubled.
    fn workload(&mut self, node: &str, pod: &Pod) -> &mut Self {
        self.doubled(node).s("-k8s-").doubled(&pod.name).s("-eth0")
    }

    fn ymd(&mut self, t: &NaiveDateTime) -> &mut Self {
        self.z(t.year() as u64, 4)
            .s("-")
            .z(t.month().into(), 2)
            .s("-")
            .z(t.day().into(), 2)
    }

    fn hms(&mut self, t: &NaiveDateTime) -> &mut Self {
        self.z(t.hour().into(), 2)
            .s(":")
            .z(t.minute().into(), 2)
            .s(":")
            .z(t.second().into(), 2)
    }

    /// `May  1 10:47:56`
    fn syslog_time(&mut self, ns: i64) -> &mut Self {
        let t = civil(ns);
        self.s(MONTHS[t.month0() as usize])
            .s(" ")
            .num(t.day().into(), 2, b' ')
            .s(" ")
            .hms(&t)
    }

    /// `2023-05-01T11:03:37.635343112+08:00`
    fn logrus_time(&mut self, ns: i64) -> &mut Self {
        let t = civil(ns);
        self.ymd(&t)
            .s("T")
            .hms(&t)
            .s(".")
            .z(t.nanosecond().into(), 9)
            .s(TZ)
    }

    /// `I0501 11:03:37.635343`
    fn klog_time(&mut self, severity: u8, ns: i64) -> &mut Self {
        let t = civil(ns);
        self.b(&[severity])
            .z(t.month().into(), 2)
            .z(t.day().into(), 2)
            .s(" ")
            .hms(&t);
        self.s(".").z((t.nanosecond() / 1000).into(), 6)
    }

    /// `2023-05-01 10:47:56.381`
    fn calico_time(&mut self, ns: i64) -> &mut Self {
        let t = civil(ns);
        self.ymd(&t)
            .s(" ")
            .hms(&t)
            .s(".")
            .z((t.nanosecond() / 1_000_000).into(), 3)
    }
}

impl Put for Vec<u8> {
    fn b(&mut self, bytes: &[u8]) -> &mut Self {
        self.extend_from_slice(bytes);
        self
    }
}

/// Where and when the line being formatted goes, plus the randomness to vary it.
struct Ctx<'a> {
    buf: &'a mut Vec<u8>,
    at: i64,
    /// Name of the node logging the line.
    host: &'a str,
    rng: &'a mut Rng,
}

impl Ctx<'_> {
    /// `May  1 10:47:56 ecs-prod-003 kubelet: `
    fn header(&mut self, program: &str) -> &mut Vec<u8> {
        let at = self.at;
        self.buf
            .syslog_time(at)
            .s(" ")
            .s(self.host)
            .s(" ")
            .s(program)
            .s(": ")
    }

    /// `May  1 10:47:56 ecs-prod-003 chronyd[812]: `
    fn header_pid(&mut self, program: &str, pid: u32) -> &mut Vec<u8> {
        let at = self.at;
        self.buf
            .syslog_time(at)
            .s(" ")
            .s(self.host)
            .s(" ")
            .s(program);
        self.buf.s("[").n(pid.into()).s("]: ")
    }

    /// logrus line up to `msg=`; its time is the header time with nanoseconds.
    fn logrus(&mut self, program: &str, level: &str) -> &mut Vec<u8> {
        let at = self.at;
        self.header(program)
            .s("time=\"")
            .logrus_time(at)
            .s("\" level=")
            .s(level)
            .s(" msg=")
    }

    /// kubelet klog line up to the message, with an explicit klog timestamp.
    fn klog_at(&mut self, severity: u8, stamp: i64, pid: u32, src: &str) -> &mut Vec<u8> {
        self.header("kubelet").klog_time(severity, stamp).s(" ");
        self.buf.num(pid.into(), 7, b' ').s(" ").s(src).s("] ")
    }

    /// kubelet klog line whose timestamp trails the syslog header a little.
    fn klog(&mut self, severity: u8, pid: u32, src: &str) -> &mut Vec<u8> {
        let lag = if self.rng.u8(..10) == 0 {
            self.rng.i64(0..3 * SEC)
        } else {
            self.rng.i64(0..250 * MS)
        };
        self.klog_at(severity, self.at - lag, pid, src)
    }

    /// Calico CNI plugin line (logged under kubelet) up to the message.
    fn calico_at(&mut self, stamp: i64, pid: u32, src: &str) -> &mut Vec<u8> {
        self.header("kubelet")
            .calico_time(stamp)
            .s(" [INFO][")
            .n(pid.into())
            .s("] ");
        self.buf.s(src).s(": ")
    }

    fn calico(&mut self, pid: u32, src: &str) -> &mut Vec<u8> {
        let stamp = self.at - calico_lag(self.rng);
        self.calico_at(stamp, pid, src)
    }
}

fn calico_lag(rng: &mut Rng) -> i64 {
    rng.i64(0..40 * MS)
}

// ---------------------------------------------------------------------------------------
// Identifiers, pods and the workloads they come from
// ---------------------------------------------------------------------------------------

/// A 64-hex container or sandbox ID.
#[derive(Clone, Copy)]
struct Hex64([u8; 64]);

impl Hex64 {
    fn random(rng: &mut Rng) -> Self {
        let mut out = [0u8; 64];
        for chunk in out.chunks_exact_mut(16) {
            let mut bits = rng.u64(..);
            for c in chunk {
                *c = HEX[(bits & 15) as usize];
                bits >>= 4;
            }
        }
        Hex64(out)
    }

    fn short(&self) -> &[u8] {
        &self.0[..12]
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex is ASCII")
    }
}

/// A version 4 UUID as Kubernetes assigns to pods.
#[derive(Clone, Copy)]
struct Uid([u8; 36]);

impl Uid {
    fn random(rng: &mut Rng) -> Self {
        let hex = Hex64::random(rng).0;
        let mut out = [b'-'; 36];
        let positions = (0..36).filter(|i| !matches!(i, 8 | 13 | 18 | 23));
        for (i, c) in positions.zip(hex) {
            out[i] = c;
        }
        out[14] = b'4';
        out[19] = b"89ab"[rng.usize(..4)];
        Uid(out)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("uuid is ASCII")
    }
}

fn random_from<const N: usize>(rng: &mut Rng, alphabet: &[u8]) -> [u8; N] {
    std::array::from_fn(|_| alphabet[rng.usize(..alphabet.len())])
}

fn push_suffix(rng: &mut Rng, name: &mut String, len: usize) {
    name.push('-');
    for _ in 0..len {
        name.push(char::from(K8S_ALPHABET[rng.usize(..K8S_ALPHABET.len())]));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deployment,
    DaemonSet,
    StatefulSet,
    CronJob,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Qos {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl Qos {
    fn slice_prefix(self) -> &'static str {
        match self {
            Qos::Guaranteed => "kubepods-pod",
            Qos::Burstable => "kubepods-burstable-pod",
            Qos::BestEffort => "kubepods-besteffort-pod",
        }
    }

    fn cgroup_parent(self) -> &'static str {
        match self {
            Qos::Guaranteed => "/kubepods.slice/",
            Qos::Burstable => "/kubepods.slice/kubepods-burstable.slice/",
            Qos::BestEffort => "/kubepods.slice/kubepods-besteffort.slice/",
        }
    }
}

/// A workload whose pods run on the nodes.
struct Template {
    ns: &'static str,
    base: &'static str,
    kind: Kind,
    containers: &'static [&'static str],
    qos: Qos,
}

const fn workload(
    ns: &'static str,
    base: &'static str,
    kind: Kind,
    containers: &'static [&'static str],
    qos: Qos,
) -> Template {
    Template {
        ns,
        base,
        kind,
        containers,
        qos,
    }
}

const TEMPLATES: &[Template] = &[
    workload(
        "kube-system",
        "fluentd",
        Kind::DaemonSet,
        &["fluentd"],
        Qos::Burstable,
    ),
    workload(
        "logging",
        "filebeat",
        Kind::DaemonSet,
        &["filebeat"],
        Qos::Burstable,
    ),
    workload(
        "kube-system",
        "coredns",
        Kind::Deployment,
        &["coredns"],
        Qos::Burstable,
    ),
    workload(
        "kube-system",
        "metrics-server",
        Kind::Deployment,
        &["metrics-server"],
        Qos::Burstable,
    ),
    workload(
        "default",
        "nginx",
        Kind::Deployment,
        &["nginx"],
        Qos::BestEffort,
    ),
    workload(
        "default",
        "web-frontend",
        Kind::Deployment,
        &["frontend"],
        Qos::Burstable,
    ),
    workload(
        "default",
        "redis",
        Kind::StatefulSet,
        &["redis"],
        Qos::Burstable,
    ),
    workload(
        "monitoring",
        "prometheus-k8s",
        Kind::StatefulSet,
        &["prometheus", "config-reloader"],
        Qos::Burstable,
    ),
    workload(
        "monitoring",
        "grafana",
        Kind::Deployment,
        &["grafana"],
        Qos::Burstable,
    ),
    workload(
        "monitoring",
        "kube-state-metrics",
        Kind::Deployment,
        &["kube-state-metrics", "kube-rbac-proxy-main"],
        Qos::Burstable,
    ),
    workload(
        "monitoring",
        "blackbox-exporter",
        Kind::Deployment,
        &["blackbox-exporter"],
        Qos::BestEffort,
    ),
    workload(
        "payments",
        "payment-api",
        Kind::Deployment,
        &["payment-api", "envoy"],
        Qos::Guaranteed,
    ),
    workload(
        "payments",
        "ledger-worker",
        Kind::Deployment,
        &["worker"],
        Qos::Burstable,
    ),
    workload(
        "payments",
        "fraud-scorer",
        Kind::Deployment,
        &["scorer"],
        Qos::Guaranteed,
    ),
    workload(
        "payments",
        "settlement-batch",
        Kind::CronJob,
        &["settlement"],
        Qos::Burstable,
    ),
    workload(
        "orders",
        "order-service",
        Kind::Deployment,
        &["order-service"],
        Qos::Burstable,
    ),
    workload(
        "orders",
        "order-consumer",
        Kind::Deployment,
        &["consumer"],
        Qos::Burstable,
    ),
    workload(
        "ingress-nginx",
        "ingress-nginx-controller",
        Kind::Deployment,
        &["controller"],
        Qos::Burstable,
    ),
    workload(
        "batch",
        "report-export",
        Kind::CronJob,
        &["report"],
        Qos::BestEffort,
    ),
];

/// A container (or the pod sandbox) with the device-mapper volume of its rootfs.
struct Ctr {
    name: &'static str,
    id: Hex64,
    dm: u16,
}

struct Pod {
    template: usize,
    ns: &'static str,
    name: String,
    uid: Uid,
    qos: Qos,
    sandbox: Ctr,
    containers: Vec<Ctr>,
    ip: [u8; 4],
    veth: [u8; 7],
    cali: [u8; 11],
    volume: [u8; 5],
}

impl Pod {
    /// Container `k`: 0 is the sandbox, 1.. the app containers.
    fn ctr(&self, k: u8) -> &Ctr {
        match k {
            0 => &self.sandbox,
            _ => &self.containers[usize::from(k) - 1],
        }
    }

    fn any_container(&self, rng: &mut Rng) -> &Ctr {
        &self.containers[rng.usize(..self.containers.len())]
    }

    fn ctr_count(&self) -> u8 {
        self.containers.len() as u8
    }
}

// ---------------------------------------------------------------------------------------
// Noise: what a host logs, one line at a time
// ---------------------------------------------------------------------------------------

/// Independent routine events, drawn with the weights in [`PICKS`].
#[derive(Clone, Copy)]
enum Pick {
    Churn,
    Session,
    Dhcp,
    SyncUpdate,
    ProbeStatus,
    ProbeFailed,
    PlegStarted,
    VolumeVerify,
    VolumeMounted,
    CadvisorPartial,
    StatusFailed,
    CrashLoop,
    SwapWarning,
    NoSuchContainer,
    IpvsNoDestination,
    Chrony,
}

const PICKS: [(Pick, u32); 16] = [
    (Pick::Churn, 9),
    (Pick::Session, 3),
    (Pick::Dhcp, 1),
    (Pick::SyncUpdate, 50),
    (Pick::ProbeStatus, 40),
    (Pick::ProbeFailed, 35),
    (Pick::PlegStarted, 15),
    (Pick::VolumeVerify, 4),
    (Pick::VolumeMounted, 5),
    (Pick::CadvisorPartial, 15),
    (Pick::StatusFailed, 5),
    (Pick::CrashLoop, 6),
    (Pick::SwapWarning, 8),
    (Pick::NoSuchContainer, 8),
    (Pick::IpvsNoDestination, 12),
    (Pick::Chrony, 2),
];

fn pick(rng: &mut Rng) -> Pick {
    let total: u32 = PICKS.iter().map(|(_, w)| w).sum();
    let mut r = rng.u32(..total);
    for (pick, weight) in PICKS {
        if r < weight {
            return pick;
        }
        r -= weight;
    }
    unreachable!("r < total")
}

/// One line of a multi-line burst (pod teardown/start-up, login session, DHCP renewal).
#[derive(Clone, Copy)]
enum Step {
    Down(Down),
    Up(Up),
    Misc(Misc),
}

/// Teardown of the host's `retired[dying]` pod; `u8` selects the container (0 = sandbox).
#[derive(Clone, Copy)]
enum Down {
    SyncDelete,
    Kill(u8),
    Forced(u8),
    TaskDelete(u8),
    ShimGone(u8),
    ShimCleanup(u8),
    DeadShim,
    Unmount(u8),
    Died(u8),
    CniReleasing,
    CniReleased,
    CniDone,
    Remove(u8),
    SyncRemove,
    SliceRemoved,
    VolumesCleaned,
}

/// Start-up of the host's `pods[born]` pod.
#[derive(Clone, Copy)]
enum Up {
    SyncAdd,
    SliceCreated,
    VolumeVerify,
    VolumeMounted,
    NewSandbox,
    XfsMount(u8),
    XfsClean(u8),
    SignalLoop(u8),
    Scope(u8),
    Promisc,
    Renamed,
    LinkReady,
    NmVeth,
    Swap,
    Started(u8),
}

#[derive(Clone, Copy)]
enum Misc {
    SessionNew,
    SessionStarted,
    SessionRemoved,
    DhcpRequest,
    DhcpAck,
    DhcpBound,
}

/// A node: its daemons' pids and counters, its pods and the burst in progress.
struct Host {
    ip: [u8; 4],
    kubelet_pid: u32,
    nm_pid: u32,
    chronyd_pid: u32,
    dhclient_pid: u32,
    /// Pod-template hash of each Deployment, per template.
    rs_hash: Vec<String>,
    pod_block: u8,
    pods: Vec<Pod>,
    retired: Vec<Pod>,
    retired_next: usize,
    burst: VecDeque<Step>,
    born: usize,
    dying: usize,
    /// Which daemon logs shim exits for the current teardown.
    shim_logger: &'static str,
    calico_pid: u32,
    shim_pid: u32,
    session: u32,
    nm_device: u32,
    dm_next: u16,
    xid: u32,
}

impl Host {
    fn new(rng: &mut Rng, at: i64) -> Self {
        let mut host = Host {
            ip: [192, 168, rng.u8(0..4), rng.u8(20..250)],
            kubelet_pid: rng.u32(1000..9000),
            nm_pid: rng.u32(600..900),
            chronyd_pid: rng.u32(600..900),
            dhclient_pid: rng.u32(900..1500),
            rs_hash: TEMPLATES
                .iter()
                .map(|_| {
                    let mut hash = String::new();
                    let len = rng.usize(9..=10);
                    push_suffix(rng, &mut hash, len);
                    hash.split_off(1)
                })
                .collect(),
            pod_block: rng.u8(..),
            pods: Vec::new(),
            retired: Vec::with_capacity(RETIRED_CAP),
            retired_next: 0,
            burst: VecDeque::with_capacity(64),
            born: 0,
            dying: 0,
            shim_logger: "containerd",
            calico_pid: rng.u32(20_000..90_000),
            shim_pid: rng.u32(10_000..30_000),
            session: rng.u32(100..5000),
            nm_device: rng.u32(10..200),
            dm_next: rng.u16(3..40),
            xid: 0,
        };
        for (i, template) in TEMPLATES.iter().enumerate() {
            if template.kind == Kind::DaemonSet {
                let pod = host.new_pod(rng, i, at);
                host.pods.push(pod);
            }
        }
        let size = rng.usize(50..=90);
        while host.pods.len() < size {
            let i = rng.usize(..TEMPLATES.len());
            if TEMPLATES[i].kind != Kind::DaemonSet {
                let pod = host.new_pod(rng, i, at);
                host.pods.push(pod);
            }
        }
        host
    }

    fn new_pod(&mut self, rng: &mut Rng, template: usize, at: i64) -> Pod {
        let t = &TEMPLATES[template];
        let mut name = String::with_capacity(48);
        name.push_str(t.base);
        match t.kind {
            Kind::Deployment => {
                name.push('-');
                name.push_str(&self.rs_hash[template]);
                push_suffix(rng, &mut name, 5);
            }
            Kind::DaemonSet => push_suffix(rng, &mut name, 5),
            Kind::StatefulSet => {
                let ordinal = self.pods.iter().filter(|p| p.template == template).count();
                let _ = write!(name, "-{ordinal}");
            }
            Kind::CronJob => {
                let _ = write!(name, "-{}", (at - TZ_OFFSET) / MIN);
                push_suffix(rng, &mut name, 5);
            }
        }
        let sandbox = self.new_ctr(rng, "POD");
        let containers = t.containers.iter().map(|c| self.new_ctr(rng, c)).collect();
        Pod {
            template,
            ns: t.ns,
            name,
            uid: Uid::random(rng),
            qos: t.qos,
            sandbox,
            containers,
            ip: [10, 244, self.pod_block, rng.u8(2..=254)],
            veth: random_from(rng, HEX),
            cali: random_from(rng, HEX),
            volume: random_from(rng, K8S_ALPHABET),
        }
    }

    fn new_ctr(&mut self, rng: &mut Rng, name: &'static str) -> Ctr {
        self.dm_next = if self.dm_next >= 4000 {
            3
        } else {
            self.dm_next + 1
        };
        Ctr {
            name,
            id: Hex64::random(rng),
            dm: self.dm_next,
        }
    }

    /// Formats the host's next noise line into `l.buf`.
    fn noise(&mut self, l: &mut Ctx) {
        let pick = pick(l.rng);
        // A pending burst goes on interleaved with other chatter; no two bursts overlap.
        let starts_burst = matches!(pick, Pick::Churn | Pick::Session | Pick::Dhcp);
        if !self.burst.is_empty() && (starts_burst || l.rng.bool()) {
            self.next_step(l);
            return;
        }
        let kp = self.kubelet_pid;
        let pod = &self.pods[l.rng.usize(..self.pods.len())];
        match pick {
            Pick::Churn => {
                self.churn(l.rng, l.at);
                self.next_step(l);
            }
            Pick::Session => {
                self.session += l.rng.u32(1..6);
                let steps = [Misc::SessionNew, Misc::SessionStarted, Misc::SessionRemoved];
                self.burst.extend(steps.map(Step::Misc));
                self.next_step(l);
            }
            Pick::Dhcp => {
                self.xid = l.rng.u32(..);
                let steps = [Misc::DhcpRequest, Misc::DhcpAck, Misc::DhcpBound];
                self.burst.extend(steps.map(Step::Misc));
                self.next_step(l);
            }
            Pick::SyncUpdate => sync_loop(l, kp, "UPDATE", pod),
            Pick::ProbeStatus => probe_status(l, kp, pod),
            Pick::ProbeFailed => probe_failed(l, kp, pod),
            Pick::PlegStarted => {
                let id = pod.any_container(l.rng).id;
                pleg(l, kp, pod, "ContainerStarted", &id);
            }
            Pick::VolumeVerify => volume(l, kp, pod, VERIFY_VOLUME),
            Pick::VolumeMounted => volume(l, kp, pod, VOLUME_MOUNTED),
            Pick::CadvisorPartial => {
                let pod = self.recently_gone(l.rng).unwrap_or(pod);
                let ctr = pod.any_container(l.rng);
                cadvisor_partial(l, kp, pod, &ctr.id);
            }
            Pick::StatusFailed => status_failed(l, kp, pod),
            Pick::CrashLoop => crash_loop(l, kp, pod),
            Pick::SwapWarning => swap_warning(l),
            Pick::NoSuchContainer => {
                let id = match self.recently_gone(l.rng) {
                    Some(pod) => pod.any_container(l.rng).id,
                    None => Hex64::random(l.rng),
                };
                no_such_container(l, &id);
            }
            Pick::IpvsNoDestination => {
                let (vip, port) = SERVICES[l.rng.usize(..SERVICES.len())];
                l.header("kernel")
                    .s("IPVS: rr: TCP ")
                    .ip(vip)
                    .s(":")
                    .n(port);
                l.buf.s(" - no destination available");
            }
            Pick::Chrony => {
                let pid = self.chronyd_pid;
                let source = [100, 125, 0, l.rng.u8(250..=252)];
                l.header_pid("chronyd", pid)
                    .s("Selected source ")
                    .ip(source);
            }
        }
    }

    fn next_step(&mut self, l: &mut Ctx) {
        match self.burst.pop_front() {
            Some(Step::Down(step)) => self.down(l, step),
            Some(Step::Up(step)) => self.up(l, step),
            Some(Step::Misc(step)) => self.misc(l, step),
            None => unreachable!("called with a burst pending"),
        }
    }

    fn recently_gone(&self, rng: &mut Rng) -> Option<&Pod> {
        (!self.retired.is_empty()).then(|| &self.retired[rng.usize(..self.retired.len())])
    }

    /// Replaces a random pod by a fresh one of the same workload and queues both bursts.
    fn churn(&mut self, rng: &mut Rng, at: i64) {
        let slot = rng.usize(..self.pods.len());
        let template = self.pods[slot].template;
        let mut fresh = self.new_pod(rng, template, at);
        if TEMPLATES[template].kind == Kind::StatefulSet {
            // A StatefulSet replaces its pod under the same name.
            fresh.name.clone_from(&self.pods[slot].name);
        }
        let old = std::mem::replace(&mut self.pods[slot], fresh);
        self.dying = self.retire(old);
        self.born = slot;
        self.calico_pid = self.calico_pid % 4_000_000 + rng.u32(50..2000);
        self.shim_logger = if rng.u8(..4) == 0 {
            "dockerd"
        } else {
            "containerd"
        };
        self.queue_teardown(rng);
        self.queue_startup(rng);
    }

    fn retire(&mut self, pod: Pod) -> usize {
        if self.retired.len() < RETIRED_CAP {
            self.retired.push(pod);
            return self.retired.len() - 1;
        }
        let slot = self.retired_next;
        self.retired[slot] = pod;
        self.retired_next = (slot + 1) % RETIRED_CAP;
        slot
    }

    fn queue_teardown(&mut self, rng: &mut Rng) {
        let n = self.retired[self.dying].ctr_count();
        let q = &mut self.burst;
        q.push_back(Step::Down(Down::SyncDelete));
        q.extend((1..=n).map(|k| Step::Down(Down::Kill(k))));
        if rng.u8(..12) == 0 {
            // Decoy: the app ignored SIGTERM once and was force-killed. Routine.
            q.push_back(Step::Down(Down::Forced(rng.u8(1..=n))));
        }
        for k in (1..=n).chain([0]) {
            if k == 0 {
                q.extend([Down::CniReleasing, Down::CniReleased, Down::CniDone].map(Step::Down));
            }
            q.extend(
                [Down::TaskDelete(k), Down::ShimGone(k), Down::ShimCleanup(k)].map(Step::Down),
            );
            if rng.bool() {
                q.push_back(Step::Down(Down::DeadShim));
            }
            q.extend([Down::Unmount(k), Down::Died(k)].map(Step::Down));
        }
        q.extend((1..=n).map(|k| Step::Down(Down::Remove(k))));
        q.push_back(Step::Down(Down::SyncRemove));
        q.push_back(Step::Down(Down::SliceRemoved));
        if rng.bool() {
            q.push_back(Step::Down(Down::VolumesCleaned));
        }
    }

    fn queue_startup(&mut self, rng: &mut Rng) {
        let pod = &self.pods[self.born];
        let (n, limited) = (pod.ctr_count(), pod.qos != Qos::BestEffort);
        let q = &mut self.burst;
        q.extend(
            [
                Up::SyncAdd,
                Up::SliceCreated,
                Up::VolumeVerify,
                Up::VolumeMounted,
                Up::NewSandbox,
            ]
            .map(Step::Up),
        );
        for k in 0..=n {
            q.extend([Up::XfsMount(k), Up::XfsClean(k)].map(Step::Up));
            if k > 0 && limited {
                q.push_back(Step::Up(Up::Swap));
            }
            q.extend([Up::SignalLoop(k), Up::Scope(k)].map(Step::Up));
            if k == 0 {
                q.extend([Up::Promisc, Up::Renamed, Up::LinkReady].map(Step::Up));
                if rng.bool() {
                    q.push_back(Step::Up(Up::NmVeth));
                }
            }
        }
        q.extend((0..=n).map(|k| Step::Up(Up::Started(k))));
    }

    fn down(&self, l: &mut Ctx, step: Down) {
        let (pod, kp, cni) = (&self.retired[self.dying], self.kubelet_pid, self.calico_pid);
        match step {
            Down::SyncDelete => sync_loop(l, kp, "DELETE", pod),
            Down::SyncRemove => sync_loop(l, kp, "REMOVE", pod),
            Down::Kill(k) => kill_with_grace(l, kp, pod, pod.ctr(k)),
            Down::Forced(k) => forced(l, &pod.ctr(k).id),
            Down::TaskDelete(k) => task_delete(l, &pod.ctr(k).id),
            Down::ShimGone(k) => shim_disconnected(l, self.shim_logger, &pod.ctr(k).id),
            Down::ShimCleanup(k) => shim_cleanup(l, self.shim_logger, &pod.ctr(k).id),
            Down::DeadShim => {
                l.logrus(self.shim_logger, "info")
                    .s("\"cleaning up dead shim\"");
            }
            Down::Unmount(k) => xfs(l, pod.ctr(k).dm, "Unmounting Filesystem"),
            Down::Died(k) => pleg(l, kp, pod, "ContainerDied", &pod.ctr(k).id),
            Down::CniReleasing => {
                l.calico(cni, "ipam.go 1172")
                    .s("Releasing all IPs with handle 'k8s-pod-network.");
                l.buf.id(&pod.sandbox.id).s("'");
            }
            Down::CniReleased => {
                let stamp = l.at - calico_lag(l.rng);
                cni_released(l, stamp, cni, pod);
            }
            Down::CniDone => {
                l.calico(cni, "k8s.go 498")
                    .s("Teardown processing complete. ContainerID=\"");
                l.buf.id(&pod.sandbox.id).s("\"");
            }
            Down::Remove(k) => {
                l.klog(b'I', kp, "scope.go:110")
                    .s("\"RemoveContainer\" containerID=\"");
                l.buf.id(&pod.ctr(k).id).s("\"");
            }
            Down::SliceRemoved => {
                l.header("systemd")
                    .s("Removed slice libcontainer container ")
                    .slice(pod)
                    .s(".");
            }
            Down::VolumesCleaned => {
                l.klog(b'I', kp, "kubelet_volumes.go:160");
                l.buf
                    .s("\"Cleaned up orphaned pod volumes dir\" podUID=")
                    .uid(&pod.uid);
                l.buf
                    .s(" path=\"/var/lib/kubelet/pods/")
                    .uid(&pod.uid)
                    .s("/volumes\"");
            }
        }
    }

    fn up(&mut self, l: &mut Ctx, step: Up) {
        match step {
            Up::SignalLoop(_) => self.shim_pid = self.shim_pid % 4_000_000 + l.rng.u32(3..300),
            Up::NmVeth => self.nm_device += 1,
            _ => {}
        }
        let (pod, kp) = (&self.pods[self.born], self.kubelet_pid);
        match step {
            Up::SyncAdd => sync_loop(l, kp, "ADD", pod),
            Up::SliceCreated => {
                l.header("systemd")
                    .s("Created slice libcontainer container ")
                    .slice(pod)
                    .s(".");
            }
            Up::VolumeVerify => volume(l, kp, pod, VERIFY_VOLUME),
            Up::VolumeMounted => volume(l, kp, pod, VOLUME_MOUNTED),
            Up::NewSandbox => {
                l.klog(b'I', kp, "kuberuntime_manager.go:824");
                l.buf
                    .s("\"Creating PodSandbox for pod\" pod=\"")
                    .pod(pod)
                    .s("\"");
            }
            Up::XfsMount(k) => xfs(l, pod.ctr(k).dm, "Mounting V5 Filesystem"),
            Up::XfsClean(k) => xfs(l, pod.ctr(k).dm, "Ending clean mount"),
            Up::SignalLoop(k) => signal_loop(l, &pod.ctr(k).id, self.shim_pid),
            Up::Scope(k) => {
                l.header("systemd")
                    .s("Started libcontainer container ")
                    .id(&pod.ctr(k).id)
                    .s(".");
            }
            Up::Promisc => {
                l.header("kernel")
                    .s("device veth")
                    .b(&pod.veth)
                    .s(" entered promiscuous mode");
            }
            Up::Renamed => {
                l.header("kernel")
                    .s("cali")
                    .b(&pod.cali)
                    .s(": renamed from veth")
                    .b(&pod.veth);
            }
            Up::LinkReady => {
                l.header("kernel")
                    .s("IPv6: ADDRCONF(NETDEV_CHANGE): cali")
                    .b(&pod.cali);
                l.buf.s(": link becomes ready");
            }
            Up::NmVeth => nm_new_veth(l, self.nm_pid, self.nm_device, pod),
            Up::Swap => swap_warning(l),
            Up::Started(k) => pleg(l, kp, pod, "ContainerStarted", &pod.ctr(k).id),
        }
    }

    fn misc(&self, l: &mut Ctx, step: Misc) {
        let (session, pid, xid) = (self.session.into(), self.dhclient_pid, self.xid.into());
        match step {
            Misc::SessionNew => {
                l.header("systemd-logind")
                    .s("New session ")
                    .n(session)
                    .s(" of user root.");
            }
            Misc::SessionStarted => {
                l.header("systemd")
                    .s("Started Session ")
                    .n(session)
                    .s(" of user root.");
            }
            Misc::SessionRemoved => {
                l.header("systemd-logind")
                    .s("Removed session ")
                    .n(session)
                    .s(".");
            }
            Misc::DhcpRequest => {
                l.header_pid("dhclient", pid)
                    .s("DHCPREQUEST on eth0 to ")
                    .ip(GATEWAY);
                l.buf.s(" port 67 (xid=0x").hex(xid).s(")");
            }
            Misc::DhcpAck => {
                l.header_pid("dhclient", pid).s("DHCPACK from ").ip(GATEWAY);
                l.buf.s(" (xid=0x").hex(xid).s(")");
            }
            Misc::DhcpBound => {
                let renewal = l.rng.u64(30_000..45_000);
                l.header_pid("dhclient", pid).s("bound to ").ip(self.ip);
                l.buf.s(" -- renewal in ").n(renewal).s(" seconds.");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Line formats
// ---------------------------------------------------------------------------------------

fn sync_loop(l: &mut Ctx, kp: u32, op: &str, pod: &Pod) {
    let src = match op {
        "ADD" => "kubelet.go:2070",
        "UPDATE" => "kubelet.go:2073",
        "REMOVE" => "kubelet.go:2076",
        _ => "kubelet.go:2079",
    };
    l.klog(b'I', kp, src)
        .s("\"SyncLoop ")
        .s(op)
        .s("\" source=\"api\" pods=[")
        .pod(pod)
        .s("]");
}

fn pleg(l: &mut Ctx, kp: u32, pod: &Pod, event: &str, id: &Hex64) {
    l.klog(b'I', kp, "kubelet.go:2098")
        .s("\"SyncLoop (PLEG): event for pod\" pod=\"")
        .pod(pod);
    l.buf
        .s("\" event=&{ID:")
        .uid(&pod.uid)
        .s(" Type:")
        .s(event)
        .s(" Data:")
        .id(id)
        .s("}");
}

fn probe_status(l: &mut Ctx, kp: u32, pod: &Pod) {
    let (probe, status) = match l.rng.u8(..10) {
        0..=6 => ("readiness", "ready"),
        7 => ("readiness", ""),
        8 => ("liveness", "unhealthy"),
        _ => ("startup", "started"),
    };
    l.klog(b'I', kp, "kubelet.go:2157")
        .s("\"SyncLoop (probe)\" probe=\"")
        .s(probe);
    l.buf
        .s("\" status=\"")
        .s(status)
        .s("\" pod=\"")
        .pod(pod)
        .s("\"");
}

fn probe_failed(l: &mut Ctx, kp: u32, pod: &Pod) {
    let (kind, ctr, outcome) = (l.rng.u8(..4), pod.any_container(l.rng), l.rng.u8(..3));
    let kind = if kind == 0 { "Liveness" } else { "Readiness" };
    l.klog(b'I', kp, "prober.go:116")
        .s("\"Probe failed\" probeType=\"")
        .s(kind);
    l.buf.s("\" pod=\"").pod(pod).s("\" podUID=").uid(&pod.uid);
    l.buf
        .s(" containerName=\"")
        .s(ctr.name)
        .s("\" probeResult=failure output=\"");
    match outcome {
        0 => l.buf.s("HTTP probe failed with statuscode: 503"),
        1 => l.buf.s("Get \\\"http://").ip(pod.ip).s(":8080/healthz\\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"),
        _ => l.buf.s("Get \\\"http://").ip(pod.ip).s(":8080/ready\\\": dial tcp ").ip(pod.ip).s(":8080: connect: connection refused"),
    };
    l.buf.s("\"");
}

const VERIFY_VOLUME: (&str, &str) = (
    "reconciler.go:357",
    "operationExecutor.VerifyControllerAttachedVolume started for volume",
);
const VOLUME_MOUNTED: (&str, &str) = (
    "operation_generator.go:730",
    "MountVolume.SetUp succeeded for volume",
);

fn volume(l: &mut Ctx, kp: u32, pod: &Pod, (src, what): (&str, &str)) {
    l.klog(b'I', kp, src)
        .s("\"")
        .s(what)
        .s(" \\\"kube-api-access-")
        .b(&pod.volume);
    l.buf
        .s("\\\" (UniqueName: \\\"kubernetes.io/projected/")
        .uid(&pod.uid);
    l.buf
        .s("-kube-api-access-")
        .b(&pod.volume)
        .s("\\\") pod \\\"")
        .s(&pod.name);
    l.buf
        .s("\\\" (UID: \\\"")
        .uid(&pod.uid)
        .s("\\\") \" pod=\"")
        .pod(pod)
        .s("\"");
}

fn cadvisor_partial(l: &mut Ctx, kp: u32, pod: &Pod, id: &Hex64) {
    l.klog(b'E', kp, "cadvisor_stats_provider.go:415");
    l.buf
        .s("\"Partial failure issuing cadvisor.ContainerInfoV2\" err=\"partial failures: [\\\"");
    l.buf
        .s(pod.qos.cgroup_parent())
        .slice(pod)
        .s("/docker-")
        .id(id);
    l.buf
        .s(".scope\\\": RecentStats: unable to find data in memory cache]\"");
}

fn status_failed(l: &mut Ctx, kp: u32, pod: &Pod) {
    l.klog(b'W', kp, "status_manager.go:667")
        .s("\"Failed to get status for pod\" podUID=");
    l.buf
        .uid(&pod.uid)
        .s(" pod=\"")
        .pod(pod)
        .s("\" err=\"Get \\\"https://")
        .ip(API_SERVER);
    l.buf
        .s(":6443/api/v1/namespaces/")
        .s(pod.ns)
        .s("/pods/")
        .s(&pod.name);
    l.buf
        .s("\\\": net/http: request canceled (Client.Timeout exceeded while awaiting headers)\"");
}

fn crash_loop(l: &mut Ctx, kp: u32, pod: &Pod) {
    const BACKOFF: [&str; 6] = ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s"];
    let (ctr, backoff) = (
        pod.any_container(l.rng),
        BACKOFF[l.rng.usize(..BACKOFF.len())],
    );
    l.klog(b'E', kp, "pod_workers.go:965")
        .s("\"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"");
    l.buf
        .s(ctr.name)
        .s("\\\" with CrashLoopBackOff: \\\"back-off ")
        .s(backoff);
    l.buf
        .s(" restarting failed container=")
        .s(ctr.name)
        .s(" pod=")
        .s(&pod.name)
        .s("_");
    l.buf
        .s(pod.ns)
        .s("(")
        .uid(&pod.uid)
        .s(")\\\"\" pod=\"")
        .pod(pod)
        .s("\" podUID=")
        .uid(&pod.uid);
}

fn kill_with_grace(l: &mut Ctx, kp: u32, pod: &Pod, ctr: &Ctr) {
    l.klog(b'I', kp, "kuberuntime_container.go:709");
    l.buf
        .s("\"Killing container with a grace period\" pod=\"")
        .pod(pod)
        .s("\" podUID=");
    l.buf
        .uid(&pod.uid)
        .s(" containerName=\"")
        .s(ctr.name)
        .s("\" containerID=\"docker://");
    l.buf.id(&ctr.id).s("\" gracePeriod=30");
}

fn forced(l: &mut Ctx, id: &Hex64) {
    l.logrus("dockerd", "info").s("\"Container ").id(id);
    l.buf
        .s(" failed to exit within 10 seconds of signal 15 - using the force\"");
}

fn direct_sigkill(l: &mut Ctx, id: &Hex64) {
    l.logrus("dockerd", "info").s("\"Container ").b(id.short());
    l.buf
        .s(" failed to exit within 10 seconds of kill - trying direct SIGKILL\"");
}

fn task_delete(l: &mut Ctx, id: &Hex64) {
    l.logrus("dockerd", "info")
        .s("\"ignoring event\" container=")
        .id(id);
    l.buf
        .s(" module=libcontainerd namespace=moby topic=/tasks/delete type=\"*events.TaskDelete\"");
}

fn shim_disconnected(l: &mut Ctx, program: &str, id: &Hex64) {
    l.logrus(program, "info")
        .s("\"shim disconnected\" id=")
        .id(id);
}

fn shim_cleanup(l: &mut Ctx, program: &str, id: &Hex64) {
    l.logrus(program, "warning")
        .s("\"cleaning up after shim disconnected\" id=")
        .id(id);
    l.buf.s(" namespace=moby");
}

fn signal_loop(l: &mut Ctx, id: &Hex64, pid: u32) {
    l.logrus("containerd", "info").s("\"starting signal loop\" namespace=moby path=/run/containerd/io.containerd.runtime.v2.task/moby/");
    l.buf.id(id).s(" pid=").n(pid.into());
}

fn swap_warning(l: &mut Ctx) {
    l.logrus("dockerd", "warning").s("\"Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.\"");
}

fn no_such_container(l: &mut Ctx, id: &Hex64) {
    l.logrus("dockerd", "error")
        .s("\"Handler for GET /containers/")
        .id(id);
    l.buf
        .s("/json returned error: No such container: ")
        .id(id)
        .s("\"");
}

fn cni_released(l: &mut Ctx, stamp: i64, pid: u32, pod: &Pod) {
    let sandbox = &pod.sandbox.id;
    l.calico_at(stamp, pid, "ipam_plugin.go 314")
        .s("Released address using handleID ContainerID=\"");
    l.buf
        .id(sandbox)
        .s("\" HandleID=\"k8s-pod-network.")
        .id(sandbox);
    l.buf.s("\" Workload=\"").workload(l.host, pod).s("\"");
}

fn xfs(l: &mut Ctx, dm: u16, what: &str) {
    l.header("kernel")
        .s("XFS (dm-")
        .n(dm.into())
        .s("): ")
        .s(what);
}

fn nm_new_veth(l: &mut Ctx, pid: u32, device: u32, pod: &Pod) {
    let (epoch, frac) = ((l.at - TZ_OFFSET) / SEC, (l.at % SEC) / 100_000);
    l.header_pid("NetworkManager", pid)
        .s("<info>  [")
        .n(epoch as u64)
        .s(".")
        .z(frac as u64, 4);
    l.buf
        .s("] manager: (cali")
        .b(&pod.cali)
        .s("): new Veth device (/org/freedesktop/NetworkManager/Devices/");
    l.buf.n(device.into()).s(")");
}

// ---------------------------------------------------------------------------------------
// Planted incidents
// ---------------------------------------------------------------------------------------

/// A pod whose sandbox cannot be stopped, while its lines are being planted.
struct StuckPod {
    host: usize,
    pod: Pod,
    grace: u32,
    cni_at: i64,
    loop_lines: u32,
    kubelet_lines: u32,
    first: i64,
    last: i64,
}

impl StuckPod {
    fn container(&self) -> &Ctr {
        &self.pod.containers[0]
    }

    fn record_symptom(&mut self, at: i64) {
        self.first = self.first.min(at);
        self.last = self.last.max(at);
    }

    /// What tests check against, once all its lines are written.
    fn ground_truth(&self, host: &str) -> Incident {
        let (pod, ctr) = (&self.pod, self.container());
        Incident {
            pod: format!("{}/{}", pod.ns, pod.name),
            pod_uid: pod.uid.as_str().into(),
            host: host.into(),
            container_name: ctr.name.into(),
            sandbox: pod.sandbox.id.as_str().into(),
            container: ctr.id.as_str().into(),
            loop_lines: self.loop_lines,
            kubelet_lines: self.kubelet_lines,
            cni_at: header_time(self.cni_at),
            first: header_time(self.first),
            last: header_time(self.last),
        }
    }
}

#[derive(Clone, Copy)]
enum PlantKind {
    Cni { pid: u32 },
    Force,
    Sigkill,
    StopFailed(usize),
    TermFailed(usize),
    KillFailed(usize),
}

/// One planted line: `at` is the syslog header time, `stamp` the time inside the message.
#[derive(Clone, Copy)]
struct Planted {
    at: i64,
    stamp: i64,
    incident: usize,
    kind: PlantKind,
}

fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        rng.i64(lo..=hi)
    }
}

/// Creates `n` incidents spread over `[start, start + span)`; returns them with their
/// lines sorted by header time.
fn plan_incidents(
    rng: &mut Rng,
    hosts: &mut [Host],
    n: usize,
    start: i64,
    span: i64,
) -> (Vec<StuckPod>, Vec<Planted>) {
    let (mut incidents, mut plan) = (Vec::with_capacity(n), Vec::new());
    let window = span * 9 / 10 / (n.max(1) as i64);
    for i in 0..n {
        let host = rng.usize(..hosts.len());
        let template = rng.usize(..TEMPLATES.len());
        let pod = hosts[host].new_pod(rng, template, start);
        let win_start = start + span / 20 + window * i as i64;
        let duration = between(rng, HOUR, 4 * HOUR).min(window * 3 / 4).max(MIN);
        let lead = between(rng, 5 * MIN, 30 * MIN).min(window / 8);
        let loop_start = win_start + lead + between(rng, 0, window - duration - lead);
        let cni_at = loop_start - lead;
        let pid = rng.u32(10_000..99_999);
        let stamp = cni_at - calico_lag(rng);
        let kind = PlantKind::Cni { pid };
        plan.push(Planted {
            at: cni_at,
            stamp,
            incident: i,
            kind,
        });
        plan_stop_loop(rng, i, loop_start, loop_start + duration, &mut plan);
        plan_kubelet_triples(rng, i, loop_start, loop_start + duration, &mut plan);
        let grace = [5, 10, 30, 30, 60][rng.usize(..5)];
        incidents.push(StuckPod {
            host,
            pod,
            grace,
            cni_at,
            loop_lines: 0,
            kubelet_lines: 0,
            first: i64::MAX,
            last: i64::MIN,
        });
    }
    plan.sort_by_key(|p| p.at);
    (incidents, plan)
}

/// dockerd's endless stop attempts on the stuck sandbox, every 10–12 s.
fn plan_stop_loop(rng: &mut Rng, incident: usize, from: i64, to: i64, plan: &mut Vec<Planted>) {
    let (mut at, mut force) = (from, true);
    while at < to {
        let kind = if force {
            PlantKind::Force
        } else {
            PlantKind::Sigkill
        };
        plan.push(Planted {
            at,
            stamp: at,
            incident,
            kind,
        });
        force = !force;
        at += rng.i64(10 * SEC..12 * SEC);
    }
}

/// kubelet's StopContainer / termination / kill failures, every ~10 minutes. The three
/// klog stamps are microseconds apart; the syslog headers trail by up to ~30 s.
fn plan_kubelet_triples(
    rng: &mut Rng,
    incident: usize,
    from: i64,
    to: i64,
    plan: &mut Vec<Planted>,
) {
    let (mut t, mut err) = (from + rng.i64(0..MIN), 0);
    while t < to {
        let stop = rng.i64(0..=20 * SEC);
        let term = stop + rng.i64(0..=5 * SEC);
        let kill = term + rng.i64(0..=2 * SEC);
        let lines = [
            (PlantKind::StopFailed(err), stop, 0),
            (PlantKind::TermFailed(err), term, 100_000),
            (PlantKind::KillFailed(err), kill, 170_000),
        ];
        for (kind, delay, offset) in lines {
            let stamp = t + offset + rng.i64(0..=20_000);
            plan.push(Planted {
                at: t + delay,
                stamp,
                incident,
                kind,
            });
        }
        err = (err + 1) % RPC_ERRORS.len();
        t += rng.i64(9 * MIN..11 * MIN);
    }
}

fn write_planted(l: &mut Ctx, p: &Planted, inc: &StuckPod, kubelet_pid: u32) {
    let (pod, ctr) = (&inc.pod, inc.container());
    match p.kind {
        PlantKind::Cni { pid } => cni_released(l, p.stamp, pid, pod),
        PlantKind::Force => forced(l, &pod.sandbox.id),
        PlantKind::Sigkill => direct_sigkill(l, &pod.sandbox.id),
        PlantKind::StopFailed(err) => {
            l.klog_at(b'E', p.stamp, kubelet_pid, "remote_runtime.go:276");
            l.buf
                .s("\"StopContainer from runtime service failed\" err=\"")
                .s(RPC_ERRORS[err]);
            l.buf.s("\" containerID=\"").id(&ctr.id).s("\"");
        }
        PlantKind::TermFailed(err) => {
            l.klog_at(b'E', p.stamp, kubelet_pid, "kuberuntime_container.go:666");
            l.buf
                .s("\"Container termination failed with gracePeriod\" err=\"")
                .s(RPC_ERRORS[err]);
            l.buf
                .s("\" pod=\"")
                .pod(pod)
                .s("\" podUID=")
                .uid(&pod.uid)
                .s(" containerName=\"");
            l.buf
                .s(ctr.name)
                .s("\" containerID=\"docker://")
                .id(&ctr.id)
                .s("\" gracePeriod=");
            l.buf.n(inc.grace.into());
        }
        PlantKind::KillFailed(err) => {
            l.klog_at(b'E', p.stamp, kubelet_pid, "kuberuntime_container.go:691");
            l.buf
                .s("\"Kill container failed\" err=\"")
                .s(RPC_ERRORS[err])
                .s("\" pod=\"")
                .pod(pod);
            l.buf
                .s("\" podUID=")
                .uid(&pod.uid)
                .s(" containerName=\"")
                .s(ctr.name);
            l.buf
                .s("\" containerID={Type:docker ID:")
                .id(&ctr.id)
                .s("}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Driving it all
// ---------------------------------------------------------------------------------------

/// Monotonic clock paced so the last line lands near `end`.
struct Clock {
    now: i64,
    end: i64,
    step: i64,
}

impl Clock {
    fn tick(&mut self, rng: &mut Rng) -> i64 {
        self.now += self.step / 2 + rng.i64(0..=self.step);
        self.now
    }

    /// Spreads the time left evenly over the lines still to write.
    fn repace(&mut self, bytes_left: u64, avg_line: f64) {
        let lines_left = (bytes_left as f64 / avg_line).max(1.0);
        let time_left = (self.end - self.now).max(0) as f64;
        self.step = ((time_left / lines_left) as i64).max(1);
    }
}

/// The output and the reusable line buffer.
struct Sink<W> {
    out: W,
    line: Vec<u8>,
    bytes: u64,
    lines: u64,
}

impl<W: Write> Sink<W> {
    fn commit(&mut self) -> io::Result<()> {
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.bytes += self.line.len() as u64;
        self.lines += 1;
        self.line.clear();
        Ok(())
    }

    fn avg_line(&self) -> f64 {
        match self.lines {
            0 => AVG_LINE,
            n => self.bytes as f64 / n as f64,
        }
    }
}

struct Generator<W> {
    rng: Rng,
    hosts: Vec<Host>,
    /// `hosts[i]`'s name, apart so a line can borrow it while the host changes.
    names: Vec<String>,
    incidents: Vec<StuckPod>,
    plan: Vec<Planted>,
    next_planted: usize,
    clock: Clock,
    sink: Sink<W>,
    last_at: i64,
}

impl<W: Write> Generator<W> {
    fn new(cfg: &Config, out: W) -> Self {
        let mut rng = Rng::with_seed(cfg.seed);
        let start = cfg.start_ns();
        let span = match cfg.hours {
            Some(hours) => (hours * HOUR as f64) as i64,
            None => rng.i64(DAY..=3 * DAY),
        };
        let (mut hosts, names) = make_hosts(&mut rng, cfg.hosts, start);
        let (incidents, plan) = plan_incidents(&mut rng, &mut hosts, cfg.incidents, start, span);
        let lines = (cfg.size_bytes as f64 / AVG_LINE).max(1.0);
        let step = ((span as f64 / lines) as i64).max(1);
        Generator {
            rng,
            hosts,
            names,
            incidents,
            plan,
            next_planted: 0,
            clock: Clock {
                now: start,
                end: start + span,
                step,
            },
            sink: Sink {
                out,
                line: Vec::with_capacity(1024),
                bytes: 0,
                lines: 0,
            },
            last_at: start,
        }
    }

    /// Writes noise until `target` bytes, interleaving planted lines in time order.
    fn generate(&mut self, target: u64) -> io::Result<()> {
        let mut noise_lines = 0u64;
        while self.sink.bytes < target {
            if noise_lines % REPACE_EVERY == 0 {
                self.clock
                    .repace(target - self.sink.bytes, self.sink.avg_line());
            }
            noise_lines += 1;
            let at = self.clock.tick(&mut self.rng);
            self.write_planted_until(at)?;
            let i = self.rng.usize(..self.hosts.len());
            let host = &mut self.hosts[i];
            let mut l = Ctx {
                buf: &mut self.sink.line,
                at,
                host: &self.names[i],
                rng: &mut self.rng,
            };
            host.noise(&mut l);
            self.sink.commit()?;
            self.last_at = at;
        }
        // Incidents still open when the size is reached are finished past the end.
        self.write_planted_until(i64::MAX)
    }

    fn write_planted_until(&mut self, until: i64) -> io::Result<()> {
        while let Some(p) = self.plan.get(self.next_planted).copied() {
            if p.at > until {
                break;
            }
            self.next_planted += 1;
            let inc = &mut self.incidents[p.incident];
            let mut l = Ctx {
                buf: &mut self.sink.line,
                at: p.at,
                host: &self.names[inc.host],
                rng: &mut self.rng,
            };
            write_planted(&mut l, &p, inc, self.hosts[inc.host].kubelet_pid);
            match p.kind {
                PlantKind::Cni { .. } => {}
                PlantKind::Force | PlantKind::Sigkill => inc.loop_lines += 1,
                _ => inc.kubelet_lines += 1,
            }
            if !matches!(p.kind, PlantKind::Cni { .. }) {
                inc.record_symptom(p.at);
            }
            self.sink.commit()?;
            self.last_at = p.at;
        }
        Ok(())
    }

    fn summary(&self, cfg: &Config) -> Summary {
        Summary {
            bytes: self.sink.bytes,
            lines: self.sink.lines,
            planted_lines: self.plan.len(),
            hosts: self.hosts.len(),
            start: header_time(cfg.start_ns()),
            last: header_time(self.last_at),
            incidents: self
                .incidents
                .iter()
                .map(|inc| inc.ground_truth(&self.names[inc.host]))
                .collect(),
        }
    }
}

/// `count` hosts and their names, `ecs-prod-NNN` with small random gaps.
fn make_hosts(rng: &mut Rng, count: usize, at: i64) -> (Vec<Host>, Vec<String>) {
    let mut number = rng.u32(1..=9);
    (0..count)
        .map(|_| {
            let name = format!("ecs-prod-{number:03}");
            number += rng.u32(1..=4);
            (Host::new(rng, at), name)
        })
        .unzip()
}
