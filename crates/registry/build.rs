// `sqlx::migrate!` embeds migrations/server/* at compile time, but cargo does not know the
// macro reads that folder: without this, a new migration file would not trigger a rebuild and
// the binary would silently run the old schema.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/server");
}
