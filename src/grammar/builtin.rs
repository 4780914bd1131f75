//! The grammar files compiled into the binary, sorted by name. A test checks
//! this list against the files in grammars/ so that none is forgotten.

pub const FILES: &[(&str, &str)] = &[
    ("chains.toml", include_str!("../../grammars/chains.toml")),
    ("cni.toml", include_str!("../../grammars/cni.toml")),
    (
        "containerd.toml",
        include_str!("../../grammars/containerd.toml"),
    ),
    (
        "containerd_cri.toml",
        include_str!("../../grammars/containerd_cri.toml"),
    ),
    ("crio.toml", include_str!("../../grammars/crio.toml")),
    (
        "crio_names.toml",
        include_str!("../../grammars/crio_names.toml"),
    ),
    (
        "disk_space.toml",
        include_str!("../../grammars/disk_space.toml"),
    ),
    ("dockerd.toml", include_str!("../../grammars/dockerd.toml")),
    ("kernel.toml", include_str!("../../grammars/kernel.toml")),
    (
        "kernel_limits.toml",
        include_str!("../../grammars/kernel_limits.toml"),
    ),
    ("kubelet.toml", include_str!("../../grammars/kubelet.toml")),
    (
        "kubelet_node.toml",
        include_str!("../../grammars/kubelet_node.toml"),
    ),
    (
        "kubernetes.toml",
        include_str!("../../grammars/kubernetes.toml"),
    ),
    ("npd.toml", include_str!("../../grammars/npd.toml")),
    (
        "process_limits.toml",
        include_str!("../../grammars/process_limits.toml"),
    ),
    ("smartd.toml", include_str!("../../grammars/smartd.toml")),
    ("state.toml", include_str!("../../grammars/state.toml")),
    ("systemd.toml", include_str!("../../grammars/systemd.toml")),
];
