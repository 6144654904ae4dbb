//! Converts the built-in price tables (`pricing/*.toml`) to JSON at build time, into `OUT_DIR`: the
//! binary reads JSON several times faster than TOML, and nearly every command starts by reading the
//! tables (a fifth of a small report's run went to the TOML parser). The TOML stays the curated source.
//! A table that does not parse is written as an empty file: the binary then reads the TOML and reports
//! the error itself, naming the file.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=pricing");
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let entries = std::fs::read_dir("pricing").expect("the pricing folder");
    for entry in entries {
        let path = entry.expect("a pricing folder entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("a price table");
        let json = toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|t| serde_json::to_string(&t).ok())
            .unwrap_or_default();
        let name = path.with_extension("json");
        let name = name.file_name().expect("a file name");
        std::fs::write(Path::new(&out).join(name), json).expect("OUT_DIR is writable");
    }
}
