//! Rebuilds when the web bundle changes, so the binary always embeds the committed UI.

fn main() {
    println!("cargo:rerun-if-changed=web/dist");
}
