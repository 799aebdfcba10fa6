//! `vigil`: the command-line edge of the workbench.

fn main() {
    println!("vigil {}", env!("CARGO_PKG_VERSION"));
}
