//! A child process commits under `SyncPolicy::Always` (with checkpoints now and then) and is
//! killed with SIGKILL at a random moment, again and again on the same directory. After each
//! reopen every commit the child reported as acknowledged is present, and no transaction is half
//! applied (each inserts a debit and its credit; the ledger always balances).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use tabula_core::{Op, Row, TableDef, Value};
use tabula_engine::{CheckpointPolicy, Engine, Options};

fn options() -> Options {
    Options::new()
        .checkpoint(CheckpointPolicy::manual())
        .segment_size(16 << 10)
}

fn entry(id: i64, amount: i64) -> Op {
    Op::Insert {
        table: "ledger".into(),
        row: Row::from([
            ("id".to_owned(), Value::Int(id)),
            ("amount".to_owned(), Value::Int(amount)),
        ]),
    }
}

#[test]
fn every_acknowledged_commit_survives_sigkill() {
    let temp = tempfile::tempdir().unwrap();
    let mut acknowledged: Vec<i64> = Vec::new();
    for round in 0..12u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_commits_until_killed",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TABULA_CHILD_DIR", temp.path())
            .env("TABULA_CHILD_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(id) = line.strip_prefix("ack ") {
                    acks.push(id.parse::<i64>().unwrap());
                }
            }
            acks
        });
        // Kill at a moment that varies by round: from early in the open to deep into commits.
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 250));
        child.kill().unwrap();
        child.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());

        let (engine, _) =
            Engine::open(temp.path(), options()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let db = engine.read();
        if let Some(ledger) = db.table("ledger") {
            let sum: i64 = ledger
                .iter()
                .map(|(_, row)| match row.get("amount").unwrap() {
                    Value::Int(a) => a,
                    ref other => panic!("{other:?}"),
                })
                .sum();
            assert_eq!(
                (sum, ledger.len() % 2),
                (0, 0),
                "round {round}: half a transaction"
            );
            for id in &acknowledged {
                assert!(
                    ledger.get(&Value::Int(*id)).is_some(),
                    "round {round}: acknowledged {id} lost"
                );
            }
        } else {
            assert!(
                acknowledged.is_empty(),
                "round {round}: acknowledged commits but no table"
            );
        }
        engine.close().unwrap();
    }
    assert!(
        acknowledged.len() > 20,
        "the child acknowledged only {} commits",
        acknowledged.len()
    );
}

/// Not a test on its own: the child process of the test above (does nothing without its
/// environment variables). Commits until killed, printing each acknowledged commit.
#[test]
fn child_commits_until_killed() {
    let Some(dir) = std::env::var_os("TABULA_CHILD_DIR") else {
        return;
    };
    let round: i64 = std::env::var("TABULA_CHILD_ROUND")
        .unwrap()
        .parse()
        .unwrap();
    let (engine, _) = Engine::open(&dir, options()).unwrap();
    if engine.read().table("ledger").is_none() {
        engine
            .commit(vec![Op::CreateTable(TableDef::new("ledger", "id"))])
            .unwrap();
    }
    let mut out = std::io::stdout().lock();
    for i in 0..1_000_000i64 {
        let id = (round * 1_000_000 + i) * 2;
        engine
            .commit(vec![entry(id, -(i % 13 + 1)), entry(id + 1, i % 13 + 1)])
            .unwrap();
        writeln!(out, "ack {id}").unwrap();
        out.flush().unwrap();
        if i % 25 == 24 {
            engine.checkpoint().unwrap();
        }
    }
}
