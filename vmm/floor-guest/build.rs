//! Links the floor guest with the kernel's linker script: it boots exactly
//! like the kernel (higher-half image loaded at physical 2 MiB).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../kernel/link.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=../../kernel/link.ld");
}
