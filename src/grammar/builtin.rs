//! The grammar files compiled into the binary, sorted by name. A test checks
//! this list against the files in grammars/ so that none is forgotten.

pub const FILES: &[(&str, &str)] = &[
    ("chains.toml", include_str!("../../grammars/chains.toml")),
    ("cni.toml", include_str!("../../grammars/cni.toml")),
    (
        "containerd.toml",
        include_str!("../../grammars/containerd.toml"),
    ),
    ("crio.toml", include_str!("../../grammars/crio.toml")),
    ("dockerd.toml", include_str!("../../grammars/dockerd.toml")),
    ("kernel.toml", include_str!("../../grammars/kernel.toml")),
    ("kubelet.toml", include_str!("../../grammars/kubelet.toml")),
    ("smartd.toml", include_str!("../../grammars/smartd.toml")),
    ("state.toml", include_str!("../../grammars/state.toml")),
    ("systemd.toml", include_str!("../../grammars/systemd.toml")),
];
