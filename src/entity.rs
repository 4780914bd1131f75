//! Who a line is about. Log lines name the same container and pod in many
//! spellings: 64-hex and 12-hex IDs, `docker://<id>`, `{Type:docker ID:<id>}`,
//! `ns/name`, Calico workload names with doubled dashes. This module turns
//! each spelling into one [`Entity`], resolves short IDs to full ones, and
//! joins entities that lines name together into one connected group
//! ([`EntityGraph`]): a pod with its sandbox and containers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::thin::Thin;

/// The entity a named regex capture stands for. Grammar captures use these
/// names; any other capture name is kept as a plain field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A container or sandbox ID, full or short, with or without `docker://`.
    Container,
    /// `namespace/name`.
    Pod,
    /// A pod name without namespace (joined to `namespace` when both appear).
    PodName,
    Namespace,
    PodUid,
    /// A Calico workload endpoint name: `<node>-k8s-<pod>-<iface>`, dashes doubled.
    Workload,
    /// The node itself: a detector `per = "node"` counts a node's lines
    /// together (kernel, PLEG, runtime restarts). Not a capture: the host
    /// comes from the record's envelope.
    Node,
    /// A process ID on the record's host. Never a finding's subject: a line
    /// naming a PID and a container makes the container the PID's owner,
    /// and lines naming only the PID (a hung task) then name the container
    /// ([`IdResolver`]).
    Pid,
    /// An image reference (`registry/repo:tag`, `repo@sha256:…`): a
    /// detector `per = "image"` counts a pull failure once per image, with
    /// the pods that hit it. Never joins entities: many pods share an image.
    Image,
}

impl Role {
    pub const NAMES: &'static str =
        "container, pod, pod_name, namespace, pod_uid, workload, node, pid, image";
    const ALL: [Role; 9] = [
        Role::Container,
        Role::Pod,
        Role::PodName,
        Role::Namespace,
        Role::PodUid,
        Role::Workload,
        Role::Node,
        Role::Pid,
        Role::Image,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Container => "container",
            Role::Pod => "pod",
            Role::PodName => "pod_name",
            Role::Namespace => "namespace",
            Role::PodUid => "pod_uid",
            Role::Workload => "workload",
            Role::Node => "node",
            Role::Pid => "pid",
            Role::Image => "image",
        }
    }

    /// The captures that can name this role's subject: a pod is named by
    /// `ns/name`, or by a UID or bare name the entity graph ties to one.
    pub fn spellings(self) -> &'static [&'static str] {
        match self {
            Role::Pod => &["pod", "pod_name", "pod_uid", "workload"],
            Role::Container => &["container"],
            Role::PodName => &["pod_name"],
            Role::Namespace => &["namespace"],
            Role::PodUid => &["pod_uid"],
            Role::Workload => &["workload"],
            Role::Node => &["node"],
            Role::Pid => &["pid"],
            Role::Image => &["image"],
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// An entity's value, shared: the events, links, lifecycle lines and graph
/// that name one container hold one copy of its ID between them (a node
/// log names hundreds of thousands of containers over a month; issue 10).
pub type Name = Arc<str>;

/// The entities one line named together, shared by the events, links and
/// lifecycle lines that name the same (one word an event: [`Thin`]).
pub type EntitySet = Thin<[Entity]>;

/// One thing on the node that findings can be about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// Lowercase hex ID: 64 characters once resolved, else as short as seen.
    Container(Name),
    /// `namespace/name`.
    Pod(Name),
    /// A pod known only by name so far.
    PodName(Name),
    PodUid(Name),
    /// A host, by the name its log envelopes give it.
    Node(Name),
    /// `<host>:<pid>`: PIDs are per host.
    Pid(Name),
    /// An image reference as the line spells it.
    Image(Name),
}

/// One shared copy of each entity value and host name an input names
/// (see [`Name`]).
#[derive(Debug, Default)]
pub struct Names(HashSet<Name>);

impl Names {
    /// The shared copy of `name`.
    pub fn get(&mut self, name: &str) -> Name {
        if let Some(known) = self.0.get(name) {
            return known.clone();
        }
        let new = Name::from(name);
        self.0.insert(new.clone());
        new
    }

    /// `entity`, its value the shared copy.
    pub fn entity(&mut self, entity: &Entity) -> Entity {
        let mut shared = entity.clone();
        let value = match &mut shared {
            Entity::Container(v)
            | Entity::Pod(v)
            | Entity::PodName(v)
            | Entity::PodUid(v)
            | Entity::Node(v)
            | Entity::Pid(v)
            | Entity::Image(v) => v,
        };
        *value = self.get(value);
        shared
    }
}

impl Entity {
    /// The entity for `role`, if this entity plays it.
    pub fn value_for(&self, role: Role) -> Option<&str> {
        match (self, role) {
            (Entity::Container(v), Role::Container)
            | (Entity::Pod(v), Role::Pod)
            | (Entity::PodUid(v), Role::PodUid) => Some(v),
            (Entity::PodName(v), Role::PodName | Role::Workload) => Some(v),
            (Entity::Node(v), Role::Node)
            | (Entity::Pid(v), Role::Pid)
            | (Entity::Image(v), Role::Image) => Some(v),
            _ => None,
        }
    }
}

/// Normalizes the captured `(role, value)` pairs of one line, written on
/// `host`, into entities. Values that are not valid spellings of their role
/// are dropped.
pub fn entities_of(fields: &[(Role, &str)], host: Option<&str>) -> Vec<Entity> {
    let namespace = fields
        .iter()
        .find(|(r, _)| *r == Role::Namespace)
        .map(|(_, v)| *v);
    let mut out: Vec<Entity> = fields
        .iter()
        .filter_map(|&(role, value)| match role {
            Role::Container => container_id(value).map(|v| Entity::Container(v.into())),
            Role::Pod => pod_ref(value).map(|v| Entity::Pod(v.into())),
            Role::PodName => Some(match namespace {
                Some(ns) => Entity::Pod(format!("{ns}/{value}").into()),
                None => Entity::PodName(value.into()),
            }),
            Role::PodUid => pod_uid(value).map(|v| Entity::PodUid(v.into())),
            Role::Workload => workload_pod(value).map(|v| Entity::PodName(v.into())),
            Role::Pid => (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| Entity::Pid(format!("{}:{value}", host.unwrap_or_default()).into())),
            Role::Image => image_ref(value).map(|v| Entity::Image(v.into())),
            Role::Namespace | Role::Node => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The scope-unit prefixes runtimes give a container's cgroup with the
/// systemd cgroup driver (and that the kernel prints as the cgroup's name:
/// an OOM report's `cpuset=`, a memcg cache's name).
const SCOPE_PREFIXES: [&str; 5] = [
    "docker-",
    "cri-containerd-",
    "crio-conmon-",
    "crio-",
    "libpod-",
];

/// `docker://ABC…`, `containerd://abc…`, `cri-o://…`, a systemd scope unit
/// (`docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`) or
/// a bare ID, as a lowercase hex ID of at least 12 characters.
///
/// ```
/// use podmortem::entity::container_id;
/// assert_eq!(container_id("docker://A9ACD5210705").as_deref(), Some("a9acd5210705"));
/// assert_eq!(container_id("crio-a9acd5210705.scope").as_deref(), Some("a9acd5210705"));
/// assert_eq!(container_id("a9acd"), None);
/// ```
pub fn container_id(raw: &str) -> Option<String> {
    let bare = raw.rsplit("://").next().unwrap_or(raw);
    let bare = match bare.strip_suffix(".scope") {
        Some(unit) => SCOPE_PREFIXES
            .iter()
            .find_map(|p| unit.strip_prefix(p))
            .unwrap_or(unit),
        None => bare,
    };
    let ok = (12..=64).contains(&bare.len()) && bare.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| bare.to_ascii_lowercase())
}

/// An image reference: no spaces or quotes, not empty.
fn image_ref(raw: &str) -> Option<String> {
    let ok = !raw.is_empty() && !raw.bytes().any(|b| b.is_ascii_whitespace() || b == b'"');
    ok.then(|| raw.to_string())
}

fn pod_ref(raw: &str) -> Option<String> {
    let (ns, name) = raw.split_once('/')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then(|| raw.to_string())
}

/// Pod UIDs appear with dashes, or with underscores in systemd slice names;
/// a static pod's UID is the hash of its manifest, 32 hex digits with no
/// dashes at all (kubelet's config.applyDefaults), in every spelling.
pub fn pod_uid(raw: &str) -> Option<String> {
    let uid = raw.replace('_', "-").to_ascii_lowercase();
    let dashed = uid.len() == 36
        && uid.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    let hashed = uid.len() == 32 && uid.bytes().all(|b| b.is_ascii_hexdigit());
    (dashed || hashed).then_some(uid)
}

/// The pod name inside a Calico workload endpoint name.
///
/// Calico joins `<node>-<orchestrator>-<pod>-<endpoint>` with single dashes
/// after doubling every dash inside each part, so
/// `ecs--prod--003-k8s-fluentd--hjj42-eth0` is node `ecs-prod-003`, pod
/// `fluentd-hjj42`, endpoint `eth0`.
///
/// ```
/// use podmortem::entity::workload_pod;
/// let pod = workload_pod("ecs--prod--003-k8s-fluentd--hjj42-eth0");
/// assert_eq!(pod.as_deref(), Some("fluentd-hjj42"));
/// ```
pub fn workload_pod(raw: &str) -> Option<String> {
    let mut parts = vec![String::new()];
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                chars.next();
                parts.last_mut()?.push('-');
            }
            '-' => parts.push(String::new()),
            c => parts.last_mut()?.push(c),
        }
    }
    match parts.as_slice() {
        [_node, orchestrator, pod, _endpoint] if orchestrator == "k8s" && !pod.is_empty() => {
            Some(pod.clone())
        }
        _ => None,
    }
}

/// Resolves short container IDs to the one full ID they are a prefix of,
/// and PIDs to the container that owns them.
#[derive(Debug, Default)]
pub struct IdResolver {
    full: Vec<Name>,
    /// `host:pid` → its container, learned from lines that name both (an
    /// OOM kill's `task_memcg` and `pid`, systemd killing a process of a
    /// container's scope). `None` when lines disagree — the PID was reused
    /// — so nothing is guessed.
    owners: HashMap<Name, Option<Name>>,
}

impl IdResolver {
    /// Learns every 64-character ID among `ids`.
    pub fn new(ids: impl Iterator<Item = Name>) -> IdResolver {
        let mut full: Vec<Name> = ids.filter(|id| id.len() == 64).collect();
        full.sort_unstable();
        full.dedup();
        IdResolver {
            full,
            owners: HashMap::new(),
        }
    }

    /// Learns which container each PID belongs to from the entities of
    /// lines; a line naming a PID and exactly one container ties them.
    pub fn learn_owners<'a>(&mut self, lines: impl Iterator<Item = &'a [Entity]>) {
        for entities in lines {
            let mut containers = entities.iter().filter_map(|e| match e {
                Entity::Container(id) => Some(self.resolve(id)),
                _ => None,
            });
            let (Some(owner), None) = (containers.next(), containers.next()) else {
                continue;
            };
            for e in entities {
                if let Entity::Pid(pid) = e {
                    self.owners
                        .entry(pid.clone())
                        .and_modify(|known| {
                            if known.as_ref() != Some(&owner) {
                                *known = None;
                            }
                        })
                        .or_insert_with(|| Some(owner.clone()));
                }
            }
        }
    }

    /// The full ID `id` abbreviates, when exactly one is known; else `id`.
    pub fn resolve(&self, id: &Name) -> Name {
        self.full_of(id).unwrap_or(id).clone()
    }

    /// The one full ID known that starts with `id`.
    pub fn full_of(&self, id: &str) -> Option<&Name> {
        let start = self.full.partition_point(|f| &**f < id);
        let mut candidates = self.full[start..].iter().take_while(|f| f.starts_with(id));
        match (candidates.next(), candidates.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// One line's entities, resolved: short IDs to full ones, PIDs to the
    /// container that owns them. A PID no line ties to a container is
    /// dropped: alone it names nothing a report can show.
    pub fn resolve_all(&self, entities: &[Entity]) -> Vec<Entity> {
        let mut out: Vec<Entity> = entities
            .iter()
            .filter_map(|e| match e {
                Entity::Container(id) => Some(Entity::Container(self.resolve(id))),
                Entity::Pid(pid) => self.owners.get(pid)?.clone().map(Entity::Container),
                other => Some(other.clone()),
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The containers that findings named, recognizable on a raw line in any
/// spelling (`docker://<id>`, `{Type:docker ID:<id>}`, a 12-hex short ID,
/// inside a cgroup path…) by the first 12 hex digits of a hex run.
#[derive(Debug, Default)]
pub struct Mentions {
    prefixes: HashSet<[u8; 12]>,
}

impl Mentions {
    /// From container IDs of at least 12 hex digits.
    pub fn new<'a>(ids: impl Iterator<Item = &'a str>) -> Mentions {
        let prefixes = ids.filter_map(|id| short_key(id.as_bytes())).collect();
        Mentions { prefixes }
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// Whether `line` holds a run of 12 or more hex digits that begins like
    /// one of the containers.
    pub fn in_line(&self, line: &[u8]) -> bool {
        let mut i = 0;
        while i < line.len() {
            if !line[i].is_ascii_hexdigit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < line.len() && line[i].is_ascii_hexdigit() {
                i += 1;
            }
            if short_key(&line[start..i]).is_some_and(|k| self.prefixes.contains(&k)) {
                return true;
            }
        }
        false
    }
}

/// The first 12 hex digits of an ID, lowercased.
fn short_key(id: &[u8]) -> Option<[u8; 12]> {
    let head: [u8; 12] = id.get(..12)?.try_into().ok()?;
    Some(head.map(|b| b.to_ascii_lowercase()))
}

/// Entities joined by the lines that name them together (union-find).
#[derive(Debug, Default)]
pub struct EntityGraph {
    index: HashMap<Entity, usize>,
    parent: Vec<usize>,
}

impl EntityGraph {
    /// Records that one line named all of `entities`. An image is no
    /// identity of a pod: pods that pull one image stay apart.
    pub fn link(&mut self, entities: &[Entity]) {
        let ids: Vec<usize> = entities
            .iter()
            .filter(|e| !matches!(e, Entity::Image(_)))
            .map(|e| self.node(e))
            .collect();
        for pair in ids.windows(2) {
            self.union(pair[0], pair[1]);
        }
    }

    /// Joins each bare pod name to the one `namespace/name` pod with that
    /// name, when there is exactly one. Call after all links are in.
    pub fn join_pod_names(&mut self) {
        let mut pods_by_name: HashMap<&str, Vec<&Entity>> = HashMap::new();
        for e in self.index.keys() {
            if let Entity::Pod(full) = e {
                let name = full.split_once('/').map_or(&**full, |(_, n)| n);
                pods_by_name.entry(name).or_default().push(e);
            }
        }
        let joins: Vec<[Entity; 2]> = self
            .index
            .keys()
            .filter_map(|bare| match bare {
                Entity::PodName(name) => match pods_by_name.get(&**name)?.as_slice() {
                    [only] => Some([bare.clone(), Entity::clone(only)]),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        for pair in joins {
            self.link(&pair);
        }
    }

    /// The group an entity belongs to, if any line named it.
    pub fn group(&self, e: &Entity) -> Option<usize> {
        self.index.get(e).map(|&i| self.find(i))
    }

    /// Every group with its entities, each list sorted. One pass over all
    /// entities: callers look groups up here rather than scanning per group.
    pub fn groups(&self) -> HashMap<usize, Vec<&Entity>> {
        let mut out: HashMap<usize, Vec<&Entity>> = HashMap::new();
        for (e, &i) in &self.index {
            out.entry(self.find(i)).or_default().push(e);
        }
        for members in out.values_mut() {
            members.sort();
        }
        out
    }

    fn node(&mut self, e: &Entity) -> usize {
        if let Some(&i) = self.index.get(e) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.index.insert(e.clone(), i);
        i
    }

    fn find(&self, mut i: usize) -> usize {
        while self.parent[i] != i {
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller index wins, which keeps groups independent of hash order.
        let (keep, drop) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[drop] = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SANDBOX: &str = "a9acd5210705c3e2e95ca459d1b244883c0ba2a5ee94650cb2fa23422367e6e9";
    const CONTAINER: &str = "fef3e1fbee146788d1557ec20204e10922eeb2607969a26d1323588cc8a7f469";

    #[test]
    fn container_spellings_normalize_to_one_id() {
        for raw in [
            CONTAINER.to_string(),
            format!("docker://{CONTAINER}"),
            format!("containerd://{}", CONTAINER.to_uppercase()),
        ] {
            assert_eq!(container_id(&raw).as_deref(), Some(CONTAINER), "{raw}");
        }
        assert_eq!(
            container_id("a9acd5210705").as_deref(),
            Some("a9acd5210705")
        );
        assert_eq!(container_id("a9acd"), None);
        assert_eq!(container_id("not-an-id-at-all"), None);
    }

    #[test]
    fn scope_units_name_their_container() {
        for raw in [
            format!("docker-{CONTAINER}.scope"),
            format!("cri-containerd-{CONTAINER}.scope"),
            format!("crio-{CONTAINER}.scope"),
            format!("crio-conmon-{CONTAINER}.scope"),
            format!("{CONTAINER}.scope"),
        ] {
            assert_eq!(container_id(&raw).as_deref(), Some(CONTAINER), "{raw}");
        }
        // A scope that is no container's, and a prefix without its scope.
        assert_eq!(container_id("session-3042.scope"), None);
        assert_eq!(container_id(&format!("docker-{CONTAINER}")), None);
        assert_eq!(container_id(&format!("sshd-{CONTAINER}.scope")), None);
    }

    #[test]
    fn pod_uids_dashed_underscored_or_hashed() {
        let dashed = "d6097c23-9b88-4708-93e0-226bb313e7f3";
        assert_eq!(pod_uid(dashed).as_deref(), Some(dashed));
        assert_eq!(
            pod_uid("d6097c23_9b88_4708_93e0_226bb313e7f3").as_deref(),
            Some(dashed)
        );
        // A static pod's UID: the manifest hash.
        let hashed = "1883213d8fec799ee2b7bf9f2185a5c7";
        assert_eq!(pod_uid(hashed).as_deref(), Some(hashed));
        assert_eq!(pod_uid(&hashed.to_uppercase()).as_deref(), Some(hashed));
        // Dashes in the wrong places, a short hash, a non-hex character.
        assert_eq!(pod_uid("d6097c239-b88-4708-93e0-226bb313e7f3"), None);
        assert_eq!(pod_uid("1883213d8fec799ee2b7bf9f2185a5c"), None);
        assert_eq!(pod_uid("1883213d8fec799ee2b7bf9f2185a5cg"), None);
    }

    #[test]
    fn short_ids_resolve_to_the_unique_full_id() {
        let other = format!("a9acd5210706{}", &SANDBOX[12..]);
        let ids = IdResolver::new(
            [SANDBOX, CONTAINER, other.as_str()]
                .into_iter()
                .map(Name::from),
        );
        let resolve = |id: &str| ids.resolve(&Name::from(id)).to_string();
        assert_eq!(resolve("a9acd5210705"), SANDBOX);
        assert_eq!(resolve("fef3e1fbee14"), CONTAINER);
        // Ambiguous prefix: both a9acd5210705… and a9acd5210706… match.
        assert_eq!(resolve("a9acd521070"), "a9acd521070");
        assert_eq!(resolve("0123456789ab"), "0123456789ab");
    }

    #[test]
    fn mentions_find_a_container_in_any_spelling() {
        let m = Mentions::new([SANDBOX, "fef3e1fbee14"].into_iter());
        for line in [
            format!("ContainerID=\"{SANDBOX}\" Workload=\"x\""),
            format!("handle 'k8s-pod-network.{SANDBOX}'"),
            format!("containerID={{Type:docker ID:{CONTAINER}}}"),
            "msg=\"Container a9acd5210705 failed\"".to_string(),
            format!("/kubepods/burstable/pod1/{}", CONTAINER.to_uppercase()),
        ] {
            assert!(m.in_line(line.as_bytes()), "{line}");
        }
        for line in [
            "a9acd521070 is too short",
            "0a9acd5210705 starts elsewhere",
            "no ids here",
        ] {
            assert!(!m.in_line(line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn a_pid_resolves_to_the_container_a_line_ties_it_to() {
        let host = Some("ecs-prod-003");
        // systemd killing a process of the container's scope.
        let tie = entities_of(&[(Role::Container, CONTAINER), (Role::Pid, "4242")], host);
        // The same PID on another host, and a PID two lines disagree on.
        let elsewhere = entities_of(
            &[(Role::Container, SANDBOX), (Role::Pid, "4242")],
            Some("n2"),
        );
        let reused_a = entities_of(&[(Role::Container, CONTAINER), (Role::Pid, "77")], host);
        let reused_b = entities_of(&[(Role::Container, SANDBOX), (Role::Pid, "77")], host);
        let mut ids = IdResolver::new([SANDBOX, CONTAINER].into_iter().map(Name::from));
        ids.learn_owners(
            [&tie, &elsewhere, &reused_a, &reused_b]
                .into_iter()
                .map(Vec::as_slice),
        );
        let hung = |pid: &str| ids.resolve_all(&entities_of(&[(Role::Pid, pid)], host));
        assert_eq!(hung("4242"), vec![Entity::Container(CONTAINER.into())]);
        assert_eq!(hung("77"), vec![]);
        assert_eq!(hung("5"), vec![]);
        assert_eq!(hung("not-a-pid"), vec![]);
    }

    #[test]
    fn calico_workload_names_decode_to_pods() {
        assert_eq!(
            workload_pod("ecs--prod--003-k8s-fluentd--hjj42-eth0").as_deref(),
            Some("fluentd-hjj42")
        );
        assert_eq!(
            workload_pod("node1-k8s-nginx--7d9f8b6c5--x2k4p-eth0").as_deref(),
            Some("nginx-7d9f8b6c5-x2k4p")
        );
        assert_eq!(workload_pod("node1-libvirt-vm1-eth0"), None);
        assert_eq!(workload_pod("fluentd-hjj42"), None);
    }

    #[test]
    fn kubelet_and_cni_lines_join_sandbox_and_container_to_the_pod() {
        let mut graph = EntityGraph::default();
        // kubelet: "Container termination failed" names pod, uid and container.
        graph.link(&entities_of(
            &[
                (Role::Pod, "kube-system/fluentd-hjj42"),
                (Role::PodUid, "d6097c23-9b88-4708-93e0-226bb313e7f3"),
                (Role::Container, &format!("docker://{CONTAINER}")),
            ],
            None,
        ));
        // Calico: the sandbox's workload endpoint.
        graph.link(&entities_of(
            &[
                (Role::Container, SANDBOX),
                (Role::Workload, "ecs--prod--003-k8s-fluentd--hjj42-eth0"),
            ],
            None,
        ));
        graph.join_pod_names();
        let pod = graph.group(&Entity::Pod("kube-system/fluentd-hjj42".into()));
        assert!(pod.is_some());
        assert_eq!(graph.group(&Entity::Container(SANDBOX.into())), pod);
        assert_eq!(graph.group(&Entity::Container(CONTAINER.into())), pod);
    }

    #[test]
    fn pods_that_pull_one_image_stay_apart() {
        let image = "registry.example.com/team/app:v2.3.9";
        let mut graph = EntityGraph::default();
        for pod in ["default/app-1", "default/app-2"] {
            let line = entities_of(&[(Role::Pod, pod), (Role::Image, image)], None);
            assert!(line.contains(&Entity::Image(image.into())));
            graph.link(&line);
        }
        assert!(graph.group(&Entity::Image(image.into())).is_none());
        assert_ne!(
            graph.group(&Entity::Pod("default/app-1".into())),
            graph.group(&Entity::Pod("default/app-2".into()))
        );
        // A quoted or empty capture is no image.
        assert!(entities_of(&[(Role::Image, "")], None).is_empty());
        assert!(entities_of(&[(Role::Image, "a\"b")], None).is_empty());
    }

    #[test]
    fn a_pod_name_in_two_namespaces_is_not_guessed() {
        let mut graph = EntityGraph::default();
        graph.link(&[Entity::Pod("a/web-1".into())]);
        graph.link(&[Entity::Pod("b/web-1".into())]);
        graph.link(&entities_of(
            &[
                (Role::Container, SANDBOX),
                (Role::Workload, "n-k8s-web--1-eth0"),
            ],
            None,
        ));
        graph.join_pod_names();
        let sandbox = graph.group(&Entity::Container(SANDBOX.into()));
        assert_ne!(sandbox, graph.group(&Entity::Pod("a/web-1".into())));
        assert_ne!(sandbox, graph.group(&Entity::Pod("b/web-1".into())));
    }

    #[test]
    fn namespace_and_pod_name_captures_combine() {
        let e = entities_of(
            &[
                (Role::Namespace, "kube-system"),
                (Role::PodName, "fluentd-hjj42"),
            ],
            None,
        );
        assert_eq!(e, vec![Entity::Pod("kube-system/fluentd-hjj42".into())]);
    }
}
