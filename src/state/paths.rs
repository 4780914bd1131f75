//! What a path on a node stands for: a pod's or a container's cgroup (per
//! controller, both drivers, cgroup v1 and v2), a containerd task
//! directory, a kubelet pod directory.
//!
//! The layouts, as kubelet and the runtimes make them:
//! - cgroupfs driver: `…/kubepods/[burstable|besteffort/]pod<uid>/<id>`
//!   (kubernetes/kubernetes pkg/kubelet/cm/cgroup_manager_linux.go,
//!   `ToCgroupfs`: the name's parts joined with `/`);
//! - systemd driver: `…/kubepods.slice/kubepods-burstable.slice/
//!   kubepods-burstable-pod<uid with _ for ->.slice/cri-containerd-<id>.scope`
//!   (`docker-<id>.scope`, `crio-<id>.scope`; the same file's
//!   `escapeSystemdCgroupName` writes the UID's `-` as `_`);
//! - v1 mounts one hierarchy per controller, `/sys/fs/cgroup/<controller>/…`;
//!   v2 one tree, `/sys/fs/cgroup/kubepods…`;
//! - containerd's v2 task bundles: `…/io.containerd.runtime.v2.task/<namespace>/<id>`;
//! - kubelet's pod directories: `/var/lib/kubelet/pods/<uid>/volumes/<plugin>/<name>`.

use crate::entity::{container_id, pod_uid};

/// What a cgroup directory belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupPath {
    /// The v1 controller (`memory`, `cpu,cpuacct`), `unified` for v2, or
    /// `unknown` for a path that does not say.
    pub controller: String,
    pub pod_uid: Option<String>,
    /// The container (or sandbox) ID of a container's cgroup.
    pub container: Option<String>,
}

/// The cgroup a path is, if it is a pod's or a container's.
pub fn cgroup(path: &str) -> Option<CgroupPath> {
    if !path.contains("kubepods") {
        return None;
    }
    let rest = match path.find("/sys/fs/cgroup/") {
        Some(at) => &path[at + "/sys/fs/cgroup/".len()..],
        None => path.trim_start_matches("./").trim_start_matches('/'),
    };
    let mut segments = rest.split('/').filter(|s| !s.is_empty()).peekable();
    // A path relative to an unnamed mount point (`find . -type d` run in
    // one controller's directory) does not say which hierarchy it is.
    let rooted = path.contains("/sys/fs/cgroup/");
    let controller = match segments.peek() {
        Some(_) if !rooted => "unknown".to_string(),
        Some(first) if first.starts_with("kubepods") => "unified".to_string(),
        Some(_) => segments.next()?.to_string(),
        None => "unknown".to_string(),
    };
    let mut uid = None;
    let mut container = None;
    for segment in segments {
        if let Some(id) = pod_segment(segment) {
            uid = Some(id);
        } else if uid.is_some() {
            // Anything else below a pod's cgroup is no container's.
            container = Some(container_id(segment).filter(|id| id.len() == 64)?);
        }
    }
    Some(CgroupPath {
        controller,
        pod_uid: uid,
        container,
    })
    .filter(|c| c.pod_uid.is_some())
}

/// `pod<uid>` (cgroupfs) or `kubepods[-<qos>]-pod<uid_>.slice` (systemd).
fn pod_segment(segment: &str) -> Option<String> {
    let raw = match segment.strip_suffix(".slice") {
        Some(slice) => slice.rsplit_once("-pod")?.1,
        None => segment.strip_prefix("pod")?,
    };
    pod_uid(raw)
}

/// A containerd task directory: `(namespace, id)`.
pub fn task_dir(path: &str) -> Option<(String, String)> {
    const ROOT: &str = "io.containerd.runtime.v2.task/";
    let rest = &path[path.find(ROOT)? + ROOT.len()..];
    let mut parts = rest.split('/');
    let ns = parts.next()?;
    let id = parts.next()?;
    (parts.next().is_none() && id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (ns.to_string(), id.to_ascii_lowercase()))
}

/// A file directly inside a task directory: `(id, file name)`.
pub fn task_file(path: &str) -> Option<(String, String)> {
    let (dir, file) = path.rsplit_once('/')?;
    let (_, id) = task_dir(dir)?;
    Some((id, file.to_string()))
}

/// A kubelet pod directory, or what is inside it: `(uid, volume path
/// below volumes/ when it names one: plugin/name)`.
pub fn pod_dir(path: &str) -> Option<(String, Option<String>)> {
    const ROOT: &str = "kubelet/pods/";
    let rest = &path[path.find(ROOT)? + ROOT.len()..];
    let mut parts = rest.split('/');
    let uid = pod_uid(parts.next()?)?;
    let volume = match (parts.next(), parts.next(), parts.next()) {
        (Some("volumes"), Some(plugin), Some(name)) if !name.is_empty() => {
            Some(format!("{plugin}/{name}"))
        }
        _ => None,
    };
    Some((uid, volume))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "83bf797db1414d96259aa29a7325f107360383ff418ffbd3c356b14ef09f6aa2";
    const UID: &str = "5f2b0c1e-8d4a-4c3b-9e7f-1a2b3c4d5e6f";

    #[test]
    fn both_drivers_and_both_versions() {
        let cases = [
            (format!("/sys/fs/cgroup/memory/kubepods/burstable/pod{UID}/{ID}"), "memory", true),
            (format!("/sys/fs/cgroup/cpu,cpuacct/kubepods/pod{UID}"), "cpu,cpuacct", false),
            (
                format!(
                    "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{ID}.scope",
                    UID.replace('-', "_")
                ),
                "unified",
                true,
            ),
            (
                format!(
                    "/sys/fs/cgroup/pids/kubepods.slice/kubepods-pod{}.slice/docker-{ID}.scope",
                    UID.replace('-', "_")
                ),
                "pids",
                true,
            ),
            (format!("kubepods/besteffort/pod{UID}/{ID}"), "unknown", true),
        ];
        for (path, controller, has_container) in cases {
            let c = cgroup(&path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(c.controller, controller, "{path}");
            assert_eq!(c.pod_uid.as_deref(), Some(UID), "{path}");
            assert_eq!(c.container.is_some(), has_container, "{path}");
        }
        assert_eq!(cgroup("/sys/fs/cgroup/memory/kubepods/burstable"), None);
        assert_eq!(
            cgroup("/sys/fs/cgroup/memory/system.slice/docker.service"),
            None
        );
    }

    #[test]
    fn task_and_pod_dirs() {
        let dir = format!("/run/containerd/io.containerd.runtime.v2.task/k8s.io/{ID}");
        assert_eq!(task_dir(&dir), Some(("k8s.io".into(), ID.into())));
        assert_eq!(
            task_file(&format!("{dir}/init.pid")),
            Some((ID.into(), "init.pid".into()))
        );
        assert_eq!(task_dir(&format!("{dir}/rootfs")), None);
        let vol = format!("/var/lib/kubelet/pods/{UID}/volumes/kubernetes.io~secret/token");
        assert_eq!(
            pod_dir(&vol),
            Some((UID.into(), Some("kubernetes.io~secret/token".into())))
        );
        assert_eq!(
            pod_dir(&format!("/var/lib/kubelet/pods/{UID}")),
            Some((UID.into(), None))
        );
    }
}
