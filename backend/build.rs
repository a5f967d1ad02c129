//! `sqlx::migrate!` embeds `migrations/` at compile time; on stable Rust the compiler does not
//! know it depends on that directory, so without this a new migration is not picked up by an
//! incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
