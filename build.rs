//! Embeds the persisted-operations manifest (`assets/operations/<client>/<Name>.graphql`)
//! into the binary: writes `$OUT_DIR/operations.rs`, a list of
//! `(client, name, include_str!(file))` that `graphql::persisted` reads.
//!
//! Why a build script rather than the `include_dir` crate: on stable Rust a macro
//! cannot tell cargo to watch a folder, so a newly added operation file would not
//! rebuild the crate; `cargo:rerun-if-changed` on the folder does.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/operations");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut entries = Vec::new();
    if let Ok(clients) = std::fs::read_dir(&root) {
        for client in clients.flatten() {
            let client_path = client.path();
            if !client_path.is_dir() {
                continue;
            }
            let client_name = client.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(&client_path) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "graphql") {
                    let name = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    entries.push((client_name.clone(), name, path));
                }
            }
        }
    }
    entries.sort();
    let mut code = String::from("&[\n");
    for (client, name, path) in entries {
        let _ = writeln!(
            code,
            "    ({client:?}, {name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("]\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("operations.rs");
    std::fs::write(out, code).expect("write operations.rs");
}
