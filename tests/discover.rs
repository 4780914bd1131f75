//! `discover`: what is read inside what the user named. Every fixture is
//! built here, in a temporary directory: trees, gzip, zstd and tar archives
//! in the layouts of the collectors (sosreport, troubleshoot.sh, EKS log
//! collector, var/log copies), and broken ones.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use chrono::NaiveDate;
use flate2::write::GzEncoder;
use flate2::Compression;
use podmortem::discover::{self, BundleKind, Content, Found, Walk};

const DOCKERD: &str = "May  2 00:10:24 ecs-prod-003 dockerd: time=\"2023-05-02T00:10:24.148458112+08:00\" level=info msg=\"Container a9acd5210705 failed to exit within 10 seconds of kill - trying direct SIGKILL\"\n";
const KUBELET: &str = "E0501 11:03:37.635343    4568 remote_runtime.go:479] \"StopContainer from runtime service failed\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" containerID=\"a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9\"\n";
const JOURNAL: &str = "May 01 11:03:37 ecs-prod-003 kubelet[4568]: E0501 11:03:37.635343    4568 kuberuntime_container.go:702] \"Container termination failed with gracePeriod\" err=\"rpc error: code = DeadlineExceeded desc = context deadline exceeded\" pod=\"kube-system/fluentd-hjj42\" podUID=5b5c7a36-8f0a-4bd1-a5c3-6a0d1a4f2b11 containerName=\"fluentd\"\n";
const CONTAINERD: &str = "time=\"2023-05-02T00:10:24.148458112+08:00\" level=info msg=\"StopContainer for \\\"a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9\\\" with timeout 30 (s)\"\n";
const DMESG: &str = "[1180562.383837] INFO: task dockerd:4321 blocked for more than 120 seconds.\n";
const CNI: &str = "2023-05-01 10:47:56.381 [INFO][88861] ipam.go 1172: Releasing all IPs with handle 'k8s-pod-network.a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9'\n";

/// One input as the visitor saw it.
#[derive(Debug)]
struct Seen {
    name: String,
    /// Handed over as a path to map (not a stream).
    file: bool,
    text: String,
    error: Option<String>,
    name_date: Option<NaiveDate>,
    modified: Option<std::time::SystemTime>,
}

/// Reads a stream in small pieces, as a bounded reader would, keeping
/// what came before an error.
fn drain(reader: &mut dyn Read) -> (Vec<u8>, Option<String>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
}

fn record(found: Found<'_>) -> Seen {
    let (file, (bytes, error)) = match found.content {
        Content::File(path) => (true, (fs::read(path).unwrap(), None)),
        Content::Stream(reader) => (false, drain(reader)),
    };
    Seen {
        name: found.name,
        file,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        error,
        name_date: found.name_date,
        modified: found.modified,
    }
}

fn walk(path: &Path) -> (Vec<Seen>, Walk) {
    let mut seen = Vec::new();
    let walk = discover::walk(path, &mut |found| seen.push(record(found)));
    (seen, walk)
}

fn names(seen: &[Seen]) -> Vec<&str> {
    seen.iter().map(|s| s.name.as_str()).collect()
}

fn reason_of<'w>(walk: &'w Walk, name: &str) -> &'w str {
    walk.skipped
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{name} not among skipped: {:?}", walk.skipped))
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn show(dir: &Path, rel: &str) -> String {
    dir.join(rel).display().to_string()
}

/// An entry for [`tar`]: a regular file, a directory or a symlink.
enum E<'a> {
    F(&'a str, &'a [u8]),
    D(&'a str),
    L(&'a str, &'a str),
}

/// A tar archive of `entries`, in that order. Paths are written as given,
/// `..` and absolute ones included (the tar crate's builder refuses those,
/// so they go into the header's name field directly).
fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_683_418_224); // 2023-05-07T00:10:24Z
        h.set_uid(0);
        h.set_gid(0);
        let (path, data): (&str, &[u8]) = match *entry {
            E::F(path, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                (path, data)
            }
            E::D(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                (path, b"")
            }
            E::L(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_link_name(target).unwrap();
                (path, b"")
            }
        };
        h.set_size(data.len() as u64);
        if path.contains("..") || path.starts_with('/') {
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, data).unwrap();
        } else {
            b.append_data(&mut h, path, data).unwrap();
        }
    }
    b.into_inner().unwrap()
}

fn lines(line: &str, n: usize) -> String {
    line.repeat(n)
}

// ---------------------------------------------------------------------------

#[test]
fn a_directory_tree_is_walked_in_name_order_with_gz_binary_and_unreadable_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("node");
    write(&root.join("messages"), DOCKERD.as_bytes());
    write(&root.join("a/b/c/kubelet.log"), KUBELET.as_bytes());
    write(
        &root.join("rotated/messages-20230507.gz"),
        &gz(lines(DOCKERD, 3).as_bytes()),
    );
    // Named .gz, but plain text: classified by content, not by name.
    write(&root.join("rotated/not-really.gz"), CNI.as_bytes());
    write(
        &root.join("core.bin"),
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
    );
    write(&root.join("empty"), b"");
    write(&root.join("locked"), KUBELET.as_bytes());
    fs::set_permissions(
        root.join("locked"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    fs::create_dir_all(root.join("lockeddir")).unwrap();
    write(&root.join("lockeddir/inside"), KUBELET.as_bytes());
    fs::set_permissions(
        root.join("lockeddir"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    std::os::unix::fs::symlink("does-not-exist", root.join("dangling")).unwrap();
    std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
    std::os::unix::fs::symlink("a", root.join("linked-dir")).unwrap();
    std::os::unix::fs::symlink("messages", root.join("z-link-to-messages")).unwrap();
    // A link out of the tree (an absolute link in a copied /var/log would
    // read the analyst's own machine): not followed.
    write(
        &tmp.path().join("elsewhere/kubelet.log"),
        KUBELET.as_bytes(),
    );
    std::os::unix::fs::symlink(
        tmp.path().join("elsewhere/kubelet.log"),
        root.join("outside"),
    )
    .unwrap();
    let fifo = root.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let have_fifo = made.is_ok_and(|s| s.success());
    // Root (as in CI containers) can read a mode-000 file: then the
    // permission check cannot be shown with it.
    let privileged = fs::File::open(root.join("locked")).is_ok();

    let (seen, w) = walk(&root);

    let mut expect = vec![show(&root, "a/b/c/kubelet.log"), show(&root, "empty")];
    if privileged {
        expect.push(show(&root, "locked"));
        expect.push(show(&root, "lockeddir/inside"));
    }
    expect.extend([
        show(&root, "messages"),
        show(&root, "rotated/messages-20230507.gz"),
        show(&root, "rotated/not-really.gz"),
    ]);
    assert_eq!(names(&seen), expect);

    let by = |n: &str| seen.iter().find(|s| s.name == show(&root, n)).unwrap();
    let messages = by("messages");
    assert!(messages.file, "a plain file is handed over as a path");
    assert_eq!(messages.text, DOCKERD);
    assert!(messages.modified.is_some());
    let rotated = by("rotated/messages-20230507.gz");
    assert!(!rotated.file, "a decompressed file is a stream");
    assert_eq!(rotated.text, lines(DOCKERD, 3));
    assert_eq!(rotated.name_date, NaiveDate::from_ymd_opt(2023, 5, 7));
    assert!(by("rotated/not-really.gz").file);
    assert_eq!(by("rotated/not-really.gz").text, CNI);
    assert_eq!(by("empty").text, "");

    assert_eq!(reason_of(&w, &show(&root, "core.bin")), "binary file");
    assert_eq!(
        reason_of(&w, &show(&root, "dangling")),
        "broken symlink: its target does not exist"
    );
    assert_eq!(
        reason_of(&w, &show(&root, "loop")),
        "symlink loop: not followed"
    );
    assert!(reason_of(&w, &show(&root, "linked-dir")).starts_with("symlink to a directory"));
    assert!(reason_of(&w, &show(&root, "outside"))
        .starts_with("symlink to a file outside the directory walked"));
    if have_fifo {
        assert_eq!(
            reason_of(&w, &show(&root, "fifo")),
            "fifo, not a regular file: not read"
        );
    }
    if !privileged {
        assert!(reason_of(&w, &show(&root, "locked")).starts_with("unreadable: permission denied"));
        assert!(reason_of(&w, &show(&root, "lockeddir"))
            .starts_with("unreadable directory: permission denied"));
    }
    // The link to `messages` is the same file: read once.
    assert_eq!(w.ignored, 1);
    assert!(w.bundles.is_empty());

    for dir in ["locked", "lockeddir"] {
        fs::set_permissions(
            root.join(dir),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
}

#[test]
fn a_missing_path_is_named_with_advice() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("messages-20230507");
    let (seen, w) = walk(&missing);
    assert!(seen.is_empty());
    assert_eq!(
        w.skipped,
        vec![discover::Skipped {
            name: missing.display().to_string(),
            reason: "not found: check the path".into(),
        }]
    );
}

#[test]
fn a_named_fifo_is_read_as_a_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("journal");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(&gz(JOURNAL.as_bytes())).unwrap();
        })
    };
    let (seen, w) = walk(&fifo);
    writer.join().unwrap();
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].file);
    assert_eq!(seen[0].text, JOURNAL);
}

#[test]
fn a_sosreport_tar_gz_yields_only_its_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let rotated = gz(lines(JOURNAL, 2).as_bytes());
    // sos writes its archive with Python's tarfile, children sorted: etc/
    // and proc/ come before the sos_commands/ that says what this is.
    let archive = tar(&[
        E::D("sosreport-node1-2023-05-07-xkcdabc/"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/date", b"Sun May  7 00:10:24 CST 2023\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/etc/fstab", b"/dev/vda1 / xfs defaults 0 0\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/etc/kubernetes/kubelet.conf", b"apiVersion: v1\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/proc/meminfo", b"MemTotal: 32779108 kB\n"),
        E::L("sosreport-node1-2023-05-07-xkcdabc/dmesg", "sos_commands/kernel/dmesg"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_commands/kernel/dmesg", DMESG.as_bytes()),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_commands/kernel/uname_-a", b"Linux node1 3.10.0\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_commands/kubernetes/journalctl_--no-pager_--unit_kubelet", JOURNAL.as_bytes()),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_commands/logs/journalctl_--disk-usage", b"Archived and active journals take up 1.2G.\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_commands/logs/journalctl_--no-pager", JOURNAL.as_bytes()),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_commands/networking/ip_-d_address", b"1: lo: <LOOPBACK,UP>\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_logs/sos.log", b"2023-05-07 00:10:24,000 INFO: [sos.report] executing 'sos report'\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/sos_reports/sos.json", b"{}\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/var/log/containers/fluentd-hjj42_kube-system_fluentd-a9acd5210705.log", CONTAINERD.as_bytes()),
        E::F("sosreport-node1-2023-05-07-xkcdabc/var/log/messages", DOCKERD.as_bytes()),
        E::F("sosreport-node1-2023-05-07-xkcdabc/var/log/messages-20230507.gz", &rotated),
        E::F("sosreport-node1-2023-05-07-xkcdabc/var/log/secure", b"May  7 00:00:01 node1 sshd[1]: Accepted publickey\n"),
        E::F("sosreport-node1-2023-05-07-xkcdabc/version.txt", b"sos report version: 4.5.3\n"),
    ]);
    let path = tmp.path().join("sosreport-node1-2023-05-07-xkcdabc.tar.gz");
    write(&path, &gz(&archive));

    let (seen, w) = walk(&path);

    let a = path.display().to_string();
    let root = format!("{a}:sosreport-node1-2023-05-07-xkcdabc");
    assert_eq!(
        names(&seen),
        vec![
            format!("{root}/sos_commands/kernel/dmesg"),
            format!("{root}/sos_commands/kubernetes/journalctl_--no-pager_--unit_kubelet"),
            format!("{root}/sos_commands/logs/journalctl_--no-pager"),
            format!("{root}/var/log/containers/fluentd-hjj42_kube-system_fluentd-a9acd5210705.log"),
            format!("{root}/var/log/messages"),
            format!("{root}/var/log/messages-20230507.gz"),
        ]
    );
    assert!(seen.iter().all(|s| !s.file && s.error.is_none()));
    assert_eq!(seen[0].text, DMESG);
    assert_eq!(seen[4].text, DOCKERD);
    assert_eq!(
        seen[5].text,
        lines(JOURNAL, 2),
        "a .gz inside the tar is decompressed"
    );
    assert_eq!(seen[5].name_date, NaiveDate::from_ymd_opt(2023, 5, 7));
    assert_eq!(
        seen[4].modified,
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_683_418_224)),
        "an entry's time is its header's"
    );
    assert_eq!(
        w.bundles,
        vec![discover::Bundle {
            root,
            kind: BundleKind::Sosreport
        }]
    );
    // date, fstab, kubelet.conf, meminfo, uname, --disk-usage, ip address,
    // sos.log, sos.json, secure, version.txt (the symlink is no file).
    assert_eq!(w.ignored, 11);
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
}

#[test]
fn a_sosreport_read_once_from_a_stream_is_recognized_by_its_name() {
    let archive = tar(&[
        E::F(
            "sosreport-node1-2023-05-07-xkcdabc/etc/fstab",
            b"/dev/vda1 / xfs defaults 0 0\n",
        ),
        E::F(
            "sosreport-node1-2023-05-07-xkcdabc/sos_commands/logs/journalctl_--no-pager",
            JOURNAL.as_bytes(),
        ),
        E::F(
            "sosreport-node1-2023-05-07-xkcdabc/var/log/messages",
            DOCKERD.as_bytes(),
        ),
    ]);
    let mut seen = Vec::new();
    let w = discover::walk_reader("-", &mut Cursor::new(gz(&archive)), &mut |f| {
        seen.push(record(f))
    });
    assert_eq!(
        names(&seen),
        vec![
            "-:sosreport-node1-2023-05-07-xkcdabc/sos_commands/logs/journalctl_--no-pager",
            "-:sosreport-node1-2023-05-07-xkcdabc/var/log/messages",
        ]
    );
    assert_eq!(w.ignored, 1);
    assert_eq!(w.bundles[0].root, "-:sosreport-node1-2023-05-07-xkcdabc");
    assert_eq!(w.bundles[0].kind, BundleKind::Sosreport);
}

#[test]
fn a_troubleshoot_bundle_tar_yields_its_host_collector_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let b = "support-bundle-2023-05-07T00_10_24";
    let p = |rel: &str| format!("{b}/{rel}");
    let archive = tar(&[
        E::F(
            &p("version.yaml"),
            b"apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\n",
        ),
        E::F(&p("analysis.json"), b"[]\n"),
        E::F(
            &p("cluster-resources/pods/kube-system.json"),
            b"{\"kind\":\"PodList\"}\n",
        ),
        E::F(
            &p("host-collectors/journald/kubelet.txt"),
            JOURNAL.as_bytes(),
        ),
        E::F(
            &p("host-collectors/journald/kubelet-info.json"),
            b"{\"command\":\"journalctl -u kubelet\",\"exitCode\":\"0\"}\n",
        ),
        E::F(&p("host-collectors/run-host/dmesg.txt"), DMESG.as_bytes()),
        E::F(
            &p("host-collectors/run-host/dmesg-info.json"),
            b"{\"command\":\"dmesg\"}\n",
        ),
        E::F(
            &p("host-collectors/run-host/containerd/out/containerd.log"),
            CONTAINERD.as_bytes(),
        ),
        E::F(
            &p("host-collectors/system/hostos_info.json"),
            b"{\"name\":\"node1\"}\n",
        ),
    ]);
    // A plain (uncompressed) tar: the layout pass seeks over entry data.
    let path = tmp.path().join("support-bundle.tar");
    write(&path, &archive);

    let (seen, w) = walk(&path);

    let root = format!("{}:{b}", path.display());
    assert_eq!(
        names(&seen),
        vec![
            // The cluster's pods are read too (issue 17, src/cluster).
            format!("{root}/cluster-resources/pods/kube-system.json"),
            format!("{root}/host-collectors/journald/kubelet.txt"),
            format!("{root}/host-collectors/run-host/dmesg.txt"),
            format!("{root}/host-collectors/run-host/containerd/out/containerd.log"),
        ]
    );
    assert_eq!(seen[1].text, JOURNAL);
    assert_eq!(
        w.bundles,
        vec![discover::Bundle {
            root,
            kind: BundleKind::Troubleshoot
        }]
    );
    assert_eq!(w.ignored, 5);
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
}

#[test]
fn an_eks_log_collector_directory_yields_its_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp
        .path()
        .join("eks_i-0a1b2c3d4e5f60718_2023-05-07_0010-UTC_0.7.3");
    let files: &[(&str, &str)] = &[
        ("cni/10-aws.conflist", "{\"cniVersion\": \"0.4.0\"}\n"),
        ("containerd/containerd-config.txt", "version = 2\n"),
        ("containerd/containerd-log.txt", CONTAINERD),
        ("docker/docker-ps.txt", "CONTAINER ID   IMAGE\n"),
        ("docker/docker.log", DOCKERD),
        ("ipamd/enis.json", "{}\n"),
        ("kernel/dmesg.current", DMESG),
        ("kernel/uname.txt", "Linux ip-10-0-1-23 5.10.184\n"),
        ("kubelet/kubeconfig.yaml", "apiVersion: v1\n"),
        ("kubelet/kubelet.log", JOURNAL),
        ("kubelet/svc.log", "NAME         TYPE        CLUSTER-IP   PORT(S)\n"),
        ("sandbox-image/sandbox-image-log.txt", JOURNAL),
        ("storage/mounts.txt", "/dev/nvme0n1p1 on / type xfs\n"),
        ("sysctls/sysctl_all.txt", "vm.max_map_count = 524288\n"),
        ("system/ps.txt", "USER PID %CPU\n"),
        ("var_log/aws-routed-eni/ipamd.log", "{\"level\":\"info\",\"ts\":\"2023-05-07T00:10:24.148Z\",\"msg\":\"Reconciling ENI/IP pool info\"}\n"),
        ("var_log/messages", DOCKERD),
    ];
    for (rel, text) in files {
        write(&root.join(rel), text.as_bytes());
    }
    fs::create_dir_all(root.join("networking")).unwrap();

    let (seen, w) = walk(&root);

    let expect: Vec<String> = [
        "containerd/containerd-log.txt",
        "docker/docker.log",
        "kernel/dmesg.current",
        "kubelet/kubelet.log",
        "sandbox-image/sandbox-image-log.txt",
        "var_log/aws-routed-eni/ipamd.log",
        "var_log/messages",
    ]
    .iter()
    .map(|rel| show(&root, rel))
    .collect();
    assert_eq!(names(&seen), expect);
    assert!(seen.iter().all(|s| s.file));
    assert_eq!(
        w.bundles,
        vec![discover::Bundle {
            root: root.display().to_string(),
            kind: BundleKind::EksLogCollector
        }]
    );
    assert_eq!(w.ignored, files.len() - expect.len());
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
}

#[test]
fn an_eks_archive_made_with_dot_slash_paths_is_recognized_at_its_top() {
    // The collector runs `tar --create --gzip --directory=DIR .`.
    let tmp = tempfile::tempdir().unwrap();
    let archive = tar(&[
        E::D("./"),
        E::D("./ipamd/"),
        E::F("./ipamd/metrics.json", b"{}\n"),
        E::D("./kubelet/"),
        E::F("./kubelet/kubelet.log", JOURNAL.as_bytes()),
        E::F("./kubelet/kubelet_service.txt", b"[Service]\n"),
        E::F("./var_log/messages", DOCKERD.as_bytes()),
    ]);
    let path = tmp
        .path()
        .join("eks_i-0a1b2c3d4e5f60718_2023-05-07_0010-UTC_0.7.3.tar.gz");
    write(&path, &gz(&archive));

    let (seen, w) = walk(&path);

    let a = path.display().to_string();
    assert_eq!(
        names(&seen),
        vec![
            format!("{a}:kubelet/kubelet.log"),
            format!("{a}:var_log/messages"),
        ]
    );
    assert_eq!(
        w.bundles,
        vec![discover::Bundle {
            root: a,
            kind: BundleKind::EksLogCollector
        }]
    );
    assert_eq!(w.ignored, 2);
}

#[test]
fn a_var_log_copy_is_reported_and_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let host = tmp.path().join("host1");
    write(&host.join("var/log/messages"), DOCKERD.as_bytes());
    write(&host.join("var/log/kern.log.1"), DMESG.as_bytes());
    write(
        &host.join("var/log/journal/0f1e2d3c/system.journal"),
        b"LPKSHHRH\0\0\0\0\x01\0\0\0",
    );
    write(
        &host.join("var/log/wtmp"),
        b"\x07\0\0\0\x95\x10\0\0pts/0\0\0\0",
    );
    write(
        &host.join("notes.txt"),
        b"collected by hand after the reboot\n",
    );

    let (seen, w) = walk(tmp.path());

    assert_eq!(
        names(&seen),
        vec![
            show(&host, "notes.txt"),
            show(&host, "var/log/kern.log.1"),
            show(&host, "var/log/messages"),
        ]
    );
    assert_eq!(seen[1].name_date, None, "a numeric rotation has no date");
    assert_eq!(
        w.bundles,
        vec![discover::Bundle {
            root: host.display().to_string(),
            kind: BundleKind::VarLog
        }]
    );
    assert!(
        reason_of(&w, &show(&host, "var/log/journal/0f1e2d3c/system.journal"))
            .contains("cut inside its header"),
        "a journal file too short to read is named"
    );
    assert_eq!(reason_of(&w, &show(&host, "var/log/wtmp")), "binary file");
    assert_eq!(w.ignored, 0);
}

#[test]
fn a_truncated_gzip_yields_what_came_before_and_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let text = lines(DOCKERD, 4000); // ~770 KB
    let whole = gz(text.as_bytes());
    let path = tmp.path().join("messages-20230507.gz");
    write(&path, &whole[..whole.len() * 6 / 10]);

    let (seen, w) = walk(&path);

    assert_eq!(seen.len(), 1);
    let got = &seen[0];
    assert!(got.error.is_some(), "the visitor sees the error too");
    assert!(got.text.len() > 100_000, "the part before the cut is read");
    assert!(text.starts_with(&got.text));
    assert_eq!(w.skipped.len(), 1);
    assert_eq!(w.skipped[0].name, path.display().to_string());
    assert!(
        w.skipped[0].reason.starts_with("corrupt gzip: "),
        "{}",
        w.skipped[0].reason
    );
    assert!(w.skipped[0]
        .reason
        .ends_with("(the lines before it were read)"));
}

#[test]
fn a_gzip_corrupt_from_its_start_is_skipped_and_the_walk_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = gz(JOURNAL.as_bytes());
    for b in &mut bad[10..20] {
        *b = 0xff;
    }
    write(&tmp.path().join("a.gz"), &bad);
    write(&tmp.path().join("b"), KUBELET.as_bytes());

    let (seen, w) = walk(tmp.path());

    assert_eq!(names(&seen), vec![show(tmp.path(), "b")]);
    assert!(reason_of(&w, &show(tmp.path(), "a.gz")).starts_with("corrupt gzip: "));
}

#[test]
fn a_tar_cut_inside_an_entry_yields_the_entries_before_and_names_the_cut_one() {
    let tmp = tempfile::tempdir().unwrap();
    let big = lines(KUBELET, 100); // ~25 KB
    let archive = tar(&[
        E::F("logs/kubelet.log-20230506", KUBELET.as_bytes()),
        E::F("logs/kubelet.log", big.as_bytes()),
        E::F("logs/messages", DOCKERD.as_bytes()),
    ]);
    // Cut 10 KB into the second entry's data (header 512 + data 512 +
    // header 512 before it).
    let cut = 1536 + 10_000;
    let plain = tmp.path().join("logs.tar");
    write(&plain, &archive[..cut]);
    let zipped = tmp.path().join("logs.tar.gz");
    write(&zipped, &gz(&archive)[..]);
    let whole_gz = gz(&archive);
    let cut_gz = tmp.path().join("cut.tar.gz");
    write(&cut_gz, &whole_gz[..whole_gz.len() / 2]);

    let (seen, w) = walk(&plain);
    let a = plain.display().to_string();
    assert_eq!(
        names(&seen),
        vec![
            format!("{a}:logs/kubelet.log-20230506"),
            format!("{a}:logs/kubelet.log")
        ]
    );
    assert_eq!(seen[0].text, KUBELET);
    assert_eq!(seen[0].name_date, NaiveDate::from_ymd_opt(2023, 5, 6));
    assert_eq!(seen[1].text.len(), 10_000);
    let why = reason_of(&w, &format!("{a}:logs/kubelet.log"));
    assert!(
        why.starts_with("truncated: the archive ends inside this entry (10000 of"),
        "{why}"
    );
    assert_eq!(w.skipped.len(), 1);

    // The same archive whole, compressed: everything is read.
    let (seen, w) = walk(&zipped);
    assert_eq!(seen.len(), 3);
    assert!(w.skipped.is_empty());

    // Compressed and cut: the gzip error names the entry it cut.
    let (seen, w) = walk(&cut_gz);
    assert!(!seen.is_empty());
    assert_eq!(w.skipped.len(), 1, "{:?}", w.skipped);
    assert!(w.skipped[0]
        .name
        .starts_with(&format!("{}:", cut_gz.display())));
    assert!(w.skipped[0].reason.starts_with("corrupt gzip: "));
}

#[test]
fn a_tar_with_unread_entries_goes_on_when_the_visitor_reads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tar(&[
        E::F("a/messages", lines(DOCKERD, 50).as_bytes()),
        E::F("a/kubelet.log", KUBELET.as_bytes()),
    ]);
    let path = tmp.path().join("x.tar");
    write(&path, &archive);
    let mut names = Vec::new();
    let w = discover::walk(&path, &mut |f| names.push(f.name));
    assert_eq!(names.len(), 2);
    assert!(w.skipped.is_empty());
}

#[test]
fn entries_with_dot_dot_or_absolute_paths_are_read_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("a/b");
    fs::create_dir_all(&deep).unwrap();
    let absolute = format!(
        "/tmp/podmortem-discover-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let archive = tar(&[
        E::F("../evil", DOCKERD.as_bytes()),
        E::F("../../evil2", KUBELET.as_bytes()),
        E::F("var/log/../../../escape", JOURNAL.as_bytes()),
        E::F(&absolute, CNI.as_bytes()),
    ]);
    let path = deep.join("evil.tar.gz");
    write(&path, &gz(&archive));

    let (seen, w) = walk(&path);

    let a = path.display().to_string();
    assert_eq!(
        names(&seen),
        vec![
            format!("{a}:../evil"),
            format!("{a}:../../evil2"),
            format!("{a}:var/log/../../../escape"),
            format!("{a}:{absolute}"),
        ]
    );
    assert_eq!(seen[0].text, DOCKERD);
    assert_eq!(seen[3].text, CNI);
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    // Nothing appeared anywhere: the temporary tree holds only the archive.
    let mut files = Vec::new();
    let mut dirs = vec![tmp.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                dirs.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    assert_eq!(files, vec![path.clone()]);
    assert!(!Path::new(&absolute).exists());
    assert!(!tmp.path().join("a/evil").exists());
    assert!(!tmp.path().join("evil2").exists());
}

#[test]
fn archives_nest_and_their_names_say_where_each_input_was() {
    let tmp = tempfile::tempdir().unwrap();
    let inner = gz(&tar(&[
        E::F("var/log/messages", DOCKERD.as_bytes()),
        E::F("var/log/syslog.2.gz", &gz(KUBELET.as_bytes())),
    ]));
    let outer = gz(&tar(&[
        E::F("cases/node1.tar.gz", &inner),
        E::F("cases/README", b"node1 logs, taken after the incident\n"),
    ]));
    let path = tmp.path().join("case-4711.tgz");
    write(&path, &outer);

    let (seen, w) = walk(&path);

    let a = path.display().to_string();
    assert_eq!(
        names(&seen),
        vec![
            format!("{a}:cases/node1.tar.gz:var/log/messages"),
            format!("{a}:cases/node1.tar.gz:var/log/syslog.2.gz"),
            format!("{a}:cases/README"),
        ]
    );
    assert_eq!(seen[1].text, KUBELET);
    assert_eq!(
        w.bundles,
        vec![discover::Bundle {
            root: format!("{a}:cases/node1.tar.gz"),
            kind: BundleKind::VarLog
        }]
    );
}

#[test]
fn too_many_layers_are_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = DOCKERD.as_bytes().to_vec();
    for _ in 0..10 {
        bytes = gz(&bytes);
    }
    let path = tmp.path().join("onion.gz");
    write(&path, &bytes);
    let (seen, w) = walk(&path);
    assert!(seen.is_empty());
    assert!(w.skipped[0].reason.starts_with("nested too deep"));

    // A few layers are fine.
    let mut bytes = DOCKERD.as_bytes().to_vec();
    for _ in 0..3 {
        bytes = gz(&bytes);
    }
    write(&path, &bytes);
    let (seen, _) = walk(&path);
    assert_eq!(seen[0].text, DOCKERD);
}

#[test]
fn zstd_files_are_decompressed_frame_after_frame() {
    use ruzstd::encoding::{compress_to_vec, CompressionLevel};
    let tmp = tempfile::tempdir().unwrap();
    let first = lines(JOURNAL, 200);
    let second = lines(KUBELET, 100);
    let mut bytes = compress_to_vec(first.as_bytes(), CompressionLevel::Fastest);
    // A skippable frame between two frames (as pzstd writes).
    bytes.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
    bytes.extend(compress_to_vec(
        second.as_bytes(),
        CompressionLevel::Fastest,
    ));
    let path = tmp.path().join("kubelet.log-2023-05-07.zst");
    write(&path, &bytes);

    let (seen, w) = walk(&path);
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].text, format!("{first}{second}"));
    assert_eq!(seen[0].name_date, NaiveDate::from_ymd_opt(2023, 5, 7));

    // Cut: what came before is read, and the cut is named.
    let cut = compress_to_vec(lines(JOURNAL, 2000).as_bytes(), CompressionLevel::Fastest);
    write(&path, &cut[..cut.len() / 2]);
    let (seen, w) = walk(&path);
    assert_eq!(seen.len(), 1);
    assert!(seen[0].error.is_some());
    assert!(reason_of(&w, &path.display().to_string()).starts_with("corrupt zstd: "));
}

#[test]
fn cut_xz_and_bzip2_streams_are_named_as_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("sosreport-node1.tar.xz"),
        b"\xfd7zXZ\0\0\x04\xe6\xd6\xb4\x46\x02\0\x21\x01",
    );
    write(
        &tmp.path().join("messages.bz2"),
        b"BZh91AY&SY\x8a\x4e\x52\x1b\0\0\x01\x41\x80",
    );
    let (seen, w) = walk(tmp.path());
    assert!(seen.iter().all(|s| s.text.is_empty()), "nothing decoded");
    let xz = reason_of(&w, &show(tmp.path(), "sosreport-node1.tar.xz"));
    assert!(xz.starts_with("corrupt xz"), "{xz}");
    let bz2 = reason_of(&w, &show(tmp.path(), "messages.bz2"));
    assert!(bz2.starts_with("corrupt bzip2"), "{bz2}");
}

#[test]
fn a_stream_can_be_plain_text_or_an_archive() {
    let mut seen = Vec::new();
    let w = discover::walk_reader("-", &mut Cursor::new(JOURNAL.as_bytes()), &mut |f| {
        seen.push(record(f))
    });
    assert!(w.skipped.is_empty());
    assert_eq!(names(&seen), vec!["-"]);
    assert!(!seen[0].file);
    assert_eq!(seen[0].text, JOURNAL);

    let mut seen = Vec::new();
    let archive = gz(&tar(&[E::F("kubelet.log-20230507", KUBELET.as_bytes())]));
    discover::walk_reader("-", &mut Cursor::new(archive), &mut |f| {
        seen.push(record(f))
    });
    assert_eq!(names(&seen), vec!["-:kubelet.log-20230507"]);
    assert_eq!(seen[0].name_date, NaiveDate::from_ymd_opt(2023, 5, 7));
}

#[test]
fn a_large_stream_is_read_by_the_visitor_without_being_held_whole() {
    // 64 MiB of log lines as a multi-member gzip of ~1 MiB members (cheap
    // to build); the visitor reads it in 16 KiB pieces. Any buffering of
    // the whole stream would show in the process' peak memory.
    let tmp = tempfile::tempdir().unwrap();
    let chunk = lines(DOCKERD, 1 << 20 >> 8);
    let member = gz(chunk.as_bytes());
    let members = (64 << 20) / chunk.len();
    let path = tmp.path().join("messages.gz");
    let mut f = fs::File::create(&path).unwrap();
    for _ in 0..members {
        f.write_all(&member).unwrap();
    }
    drop(f);

    let peak_before = peak_rss_kib();
    let mut total = 0u64;
    let mut newlines = 0u64;
    let w = discover::walk(&path, &mut |found| {
        let Content::Stream(reader) = found.content else {
            panic!("a decompressed file is a stream")
        };
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n as u64;
            newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    });
    assert!(w.skipped.is_empty());
    assert_eq!(total, (members * chunk.len()) as u64);
    assert_eq!(newlines, (members * (1 << 20 >> 8)) as u64);
    if let (Some(before), Some(after)) = (peak_before, peak_rss_kib()) {
        // Other tests run alongside in this process; they hold a few MiB.
        assert!(
            after.saturating_sub(before) < 32 * 1024,
            "peak memory grew by {} KiB",
            after - before
        );
    }
}

/// The process' peak resident memory, where /proc tells it.
fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn name_dates_come_from_rotated_names_only() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    let table: &[(&str, Option<NaiveDate>)] = &[
        ("messages-20230507", d(2023, 5, 7)),
        ("syslog-20230507.gz", d(2023, 5, 7)),
        ("kubelet.log-20230507", d(2023, 5, 7)),
        ("kubelet.log-20230507.gz", d(2023, 5, 7)),
        ("messages-2023-05-07", d(2023, 5, 7)),
        ("messages-2023-05-07.zst", d(2023, 5, 7)),
        ("messages-20230507.1", d(2023, 5, 7)),
        ("messages-20230507.1.gz", d(2023, 5, 7)),
        ("kubelet_20230507.log", d(2023, 5, 7)),
        ("kube-proxy.2023-05-07.log", d(2023, 5, 7)),
        ("messages-2023050712", d(2023, 5, 7)),
        ("/var/log/messages-20230507", d(2023, 5, 7)),
        ("bundle.tar.gz:var/log/syslog-20230506.gz", d(2023, 5, 6)),
        ("messages", None),
        ("syslog.1", None),
        ("syslog.2.gz", None),
        ("kern.log", None),
        ("messages-20231307", None),
        ("messages-20230231", None),
        ("messages-202305071", None),
        ("messages20230507", None),
        ("sosreport-node1-2023-05-07-xkcdabc.tar.xz", None),
        ("eks_i-0a1b2c3d_2023-05-07_0010-UTC_0.7.3.tar.gz", None),
        ("2023-05-07", None),
        ("messages-20230507.bak", None),
        ("bundle-20230507.tar.gz:var/log/messages", None),
    ];
    for (name, want) in table {
        assert_eq!(discover::name_date(name), *want, "{name}");
    }
}

#[test]
fn the_order_is_by_name_whatever_the_creation_order() {
    let tmp = tempfile::tempdir().unwrap();
    for n in ["syslog", "kern.log", "messages", "auth.log", "dpkg.log"] {
        write(&tmp.path().join(n), DMESG.as_bytes());
    }
    let (seen, _) = walk(tmp.path());
    assert_eq!(
        names(&seen),
        ["auth.log", "dpkg.log", "kern.log", "messages", "syslog"]
            .iter()
            .map(|n| show(tmp.path(), n))
            .collect::<Vec<_>>()
    );
}
