//! `cargo xtask dist`: static musl release binaries for x86_64 and aarch64, checked static and small.
//!
//! The builds use the default target directory (`target/<triple>/release/mesolite`) whatever
//! CARGO_TARGET_DIR says, so the artefacts are always where this job and its readers look.
//! The aarch64 link uses `rust-lld` (set in .cargo/config.toml), so no cross C toolchain is needed.

use std::path::PathBuf;
use std::process::Command;

use crate::cmd;
use crate::XtaskError;

/// The release triples, in build order.
const TRIPLES: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];
/// The x86_64 binary must stay strictly below this size in bytes (4 MiB).
const X86_64_LIMIT: u64 = 4 * 1024 * 1024;

pub fn run() -> Result<(), XtaskError> {
    let mut built = Vec::new();
    for triple in TRIPLES {
        eprintln!("\n==> dist: {triple}");
        built.push(build(triple)?);
    }
    println!();
    println!("dist:");
    for artefact in &built {
        println!("  {}", artefact.path.display());
        println!("    file: {}", artefact.file_report);
        println!("    size: {}", cmd::bytes_and_mib(artefact.size));
    }
    let x86_64 = built
        .iter()
        .find(|a| a.triple.starts_with("x86_64"))
        .map(|a| a.size);
    if let Some(size) = x86_64 {
        if size >= X86_64_LIMIT {
            return Err(XtaskError::Check(format!(
                "the x86_64 binary is {size} bytes, at or above the limit of {X86_64_LIMIT} bytes (4 MiB)"
            )));
        }
        println!("  x86_64 size {size} < {X86_64_LIMIT} bytes (4 MiB): ok");
    }
    Ok(())
}

/// One built and checked release binary.
struct Artefact {
    triple: &'static str,
    path: PathBuf,
    file_report: String,
    size: u64,
}

fn build(triple: &'static str) -> Result<Artefact, XtaskError> {
    cmd::ensure_target(triple)?;
    cmd::run(cmd::cargo().env_remove("CARGO_TARGET_DIR").args([
        "build",
        "--release",
        "-p",
        "mesolite",
        "--target",
        triple,
    ]))?;
    let path = cmd::workspace_root()
        .join("target")
        .join(triple)
        .join("release")
        .join("mesolite");
    // `file -b` prints the description alone, without the path in front.
    let described = cmd::capture(Command::new("file").arg("-b").arg(&path))?;
    let file_report = described.trim().to_string();
    if !is_static(&file_report) {
        return Err(XtaskError::Check(format!(
            "{} is not statically linked; `file` says: {file_report}",
            path.display()
        )));
    }
    let size = std::fs::metadata(&path)
        .map_err(|source| XtaskError::Io {
            what: format!("cannot stat {}", path.display()),
            source,
        })?
        .len();
    Ok(Artefact {
        triple,
        path,
        file_report,
        size,
    })
}

/// True when `file`'s description says the executable needs no dynamic loader.
fn is_static(description: &str) -> bool {
    description.contains("statically linked") || description.contains("static-pie linked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_descriptions_are_recognised() {
        assert!(is_static(
            "ELF 64-bit LSB pie executable, x86-64, version 1 (SYSV), static-pie linked, stripped"
        ));
        assert!(is_static(
            "ELF 64-bit LSB executable, ARM aarch64, version 1 (SYSV), statically linked, stripped"
        ));
        assert!(!is_static(
            "ELF 64-bit LSB pie executable, x86-64, version 1 (SYSV), dynamically linked, \
             interpreter /lib64/ld-linux-x86-64.so.2, stripped"
        ));
    }
}
