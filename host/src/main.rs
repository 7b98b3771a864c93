//! The `partyhost` binary; everything lives in the library.

/// mimalloc rather than the system allocator: a busy host allocates and
/// frees small buffers on every thread (upgrades, frames, hook arguments),
/// where glibc's malloc spent a tenth of the connect benchmark's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    partyhost::cli::main()
}
