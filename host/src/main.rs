//! The `partyhost` binary; everything lives in the library.

fn main() -> anyhow::Result<()> {
    partyhost::cli::main()
}
