//! Links the kernel binary with its linker script (higher-half image loaded at 2 MiB).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    // An index of the debug information's names, so that gdb (`cargo xtask
    // gdb`, `--gdb`) loads the kernel's symbols in a third less time.
    println!("cargo:rustc-link-arg-bins=--gdb-index");
    println!("cargo:rerun-if-changed=link.ld");
}
