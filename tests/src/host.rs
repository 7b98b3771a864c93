//! The `partyhost` binary, built inside the test package so that the
//! integration tests can find it (`CARGO_BIN_EXE_partyhost-test-host`).

fn main() -> anyhow::Result<()> {
    partyhost::cli::main()
}
