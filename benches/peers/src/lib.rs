//! `tabula-peers`: tabula against the databases its users would pick instead (SQLite, redb,
//! fjall, Redis, DeltaTraceDB) and against the machine's physical limits, in one run.
//!
//! This library owns what needs no peer: the data every contender is fed ([`data`]), the
//! physical-limit loops ([`limits`]), the machine description ([`machine`]), the results and
//! their Markdown ([`report`]) and the SVG charts ([`chart`]). The `peers` bench target
//! (`benches/peers/`), where the peers are dev-dependencies, runs the workloads and writes
//! BENCHMARKS.md through these; `cargo xtask bench` runs it (`--quick` for small sizes, in CI).

pub mod chart;
pub mod data;
pub mod limits;
pub mod machine;
pub mod report;
