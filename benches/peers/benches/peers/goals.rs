//! The goals, judged from one run's figures. A goal whose figures are missing (a skipped
//! peer, an engine error) is "not judged", never met by default.

use tabula_peers::report::{Goal, Report, TABULA, Verdict, Workload, number, percent, ratio};

fn find<'a>(report: &'a Report, id: &str) -> Option<&'a Workload> {
    report.workloads.iter().find(|w| w.id == id)
}

fn figure(w: &Workload, engine: &str, group: &str) -> Option<f64> {
    w.figures
        .iter()
        .find(|f| f.engine == engine && f.group == group)
        .and_then(|f| f.value)
}

fn goal(text: &str, judged: Option<(bool, String)>) -> Goal {
    match judged {
        Some((ok, measured)) => Goal {
            goal: text.to_owned(),
            measured,
            verdict: Verdict::of(ok),
        },
        None => Goal {
            goal: text.to_owned(),
            measured: "a figure it needs is missing".to_owned(),
            verdict: Verdict::NotJudged,
        },
    }
}

/// tabula against the best peer figure of a throughput workload: (tabula / best, which peer).
fn against_fastest_peer(w: &Workload) -> Option<(f64, String, f64)> {
    let ours = w.tabula_best()?;
    let best = w
        .best_peers()
        .filter_map(|f| f.value.map(|v| (v, f.engine.clone())))
        .reduce(|a, b| if b.0 > a.0 { b } else { a })?;
    Some((ours / best.0, best.1, ours))
}

/// `3x ` for 3, nothing for 1: "≥ 3x the fastest peer", "≥ the fastest peer".
fn times(factor: f64) -> String {
    if (factor - 1.0).abs() < f64::EPSILON {
        String::new()
    } else {
        format!("{factor}x ")
    }
}

/// Every goal of the open issues the run can judge, in their order.
/// `encoded_row` is the bytes per row of tabula's bincode dump, when it was written.
pub fn judge(report: &Report, redis: bool, encoded_row: Option<f64>) -> Vec<Goal> {
    let mut goals = Vec::new();
    let w1 = find(report, "w1");
    let w2 = find(report, "w2");
    let w3 = find(report, "w3");

    goals.push(goal(
        "Durable commits, 1 writer, ≥ 0.8x the raw fdatasync loop rate",
        w1.and_then(|w| {
            let ours = figure(w, TABULA, "1 writer")?;
            let limit = w.limit.as_ref()?.value;
            Some((
                ours >= 0.8 * limit,
                format!(
                    "{} commits/s = {} of {} appends/s",
                    number(ours),
                    ratio(ours / limit),
                    number(limit)
                ),
            ))
        }),
    ));
    let one = w1.and_then(|w| figure(w, TABULA, "1 writer"));
    let sixty_four = w2.and_then(|w| figure(w, TABULA, "64 writers"));
    goals.push(goal(
        "64 writers ≥ 10x 1 writer",
        one.zip(sixty_four).map(|(one, many)| {
            (
                many >= 10.0 * one,
                format!(
                    "{} against {} commits/s = {}",
                    number(many),
                    number(one),
                    ratio(many / one)
                ),
            )
        }),
    ));
    let redis_64 = w2.and_then(|w| figure(w, "Redis", "64 writers"));
    goals.push(goal(
        "64 writers ≥ Redis `appendfsync always` at 64 clients",
        if redis {
            sixty_four.zip(redis_64).map(|(ours, theirs)| {
                (
                    ours >= theirs,
                    format!(
                        "{} against {} commits/s = {}",
                        number(ours),
                        number(theirs),
                        ratio(ours / theirs)
                    ),
                )
            })
        } else {
            None
        },
    ));
    let fast = w3.and_then(Workload::tabula_best);
    for (peer, factor) in [("SQLite", 5.0), ("redb", 2.0)] {
        let theirs = w3.and_then(|w| figure(w, peer, "1 writer"));
        goals.push(goal(
            &format!("Non-durable commits ≥ {factor}x {peer}"),
            fast.zip(theirs).map(|(ours, theirs)| {
                (
                    ours >= factor * theirs,
                    format!(
                        "{} against {} commits/s = {}",
                        number(ours),
                        number(theirs),
                        ratio(ours / theirs)
                    ),
                )
            }),
        ));
    }
    for (id, what, factor) in [
        ("w4", "Bulk load with durable 1,000-row commits", 1.0),
        ("w5a", "Point reads", 3.0),
        ("w5b", "Range scans of 10", 2.0),
    ] {
        goals.push(goal(
            &format!("{what} ≥ {}the fastest peer", times(factor)),
            find(report, id)
                .and_then(against_fastest_peer)
                .map(|(r, peer, ours)| {
                    (
                        r >= factor,
                        format!("{} = {} {peer}", number(ours), ratio(r)),
                    )
                }),
        ));
    }
    goals.push(goal(
        "Point reads ≥ 0.6x std `HashMap` get",
        find(report, "w5a").and_then(|w| {
            let ours = w.tabula_best()?;
            let limit = w.limit.as_ref()?.value;
            Some((
                ours >= 0.6 * limit,
                format!(
                    "{} against {} gets/s = {}",
                    number(ours),
                    number(limit),
                    ratio(ours / limit)
                ),
            ))
        }),
    ));
    typed_goals(report, &mut goals);
    goals.push(goal(
        "Snapshot write ≥ 50% of raw write bandwidth",
        find(report, "w6a").and_then(|w| {
            let ours = w.tabula_best()?;
            let limit = w.limit.as_ref()?.value;
            Some((
                ours >= 0.5 * limit,
                format!(
                    "best codec {} MB/s = {} of {} MB/s",
                    number(ours),
                    percent(ours / limit),
                    number(limit)
                ),
            ))
        }),
    ));
    goals.push(goal(
        "Recovery ≥ 1M records/s",
        find(report, "w7").and_then(|w| {
            let ours = figure(w, TABULA, "")?;
            Some((
                ours >= 1e6,
                format!("{} rows/s (one record per row)", number(ours)),
            ))
        }),
    ));
    goals.push(goal(
        "DeltaTraceDB's speed test ≥ 10x faster in every step",
        find(report, "w10").and_then(|w| {
            let mut worst: Option<(f64, String)> = None;
            for f in w.figures.iter().filter(|f| f.engine == "DeltaTraceDB") {
                let r = w.advantage(f)?;
                if worst.as_ref().is_none_or(|(x, _)| r < *x) {
                    worst = Some((r, f.group.clone()));
                }
            }
            let (r, step) = worst?;
            Some((
                r >= 10.0,
                format!("slowest step against it: {step}, {}", ratio(r)),
            ))
        }),
    ));
    let w9 = find(report, "w9");
    let resident = w9.and_then(|w| figure(w, TABULA, ""));
    goals.push(goal(
        "Resident memory per bench row ≤ 200 bytes",
        resident.map(|ours| (ours <= 200.0, format!("{} bytes", number(ours)))),
    ));
    let tarantool = w9.and_then(|w| figure(w, "Tarantool", ""));
    goals.push(goal(
        "Resident memory per bench row ≤ Tarantool's (stretch)",
        resident.zip(tarantool).map(|(ours, theirs)| {
            (
                ours <= theirs,
                format!(
                    "{} against {} bytes = {}",
                    number(ours),
                    number(theirs),
                    ratio(ours / theirs)
                ),
            )
        }),
    ));
    goals.push(goal(
        "Resident memory per 150-byte row ≤ 3x its encoded size",
        find(report, "w9").and_then(|w| {
            let ours = figure(w, TABULA, "")?;
            let encoded = encoded_row?;
            Some((
                ours <= 3.0 * encoded,
                format!(
                    "{} bytes against {} encoded = {}",
                    number(ours),
                    number(encoded),
                    ratio(ours / encoded)
                ),
            ))
        }),
    ));
    goals
}

/// The figure of `engine` with `setting` in `w`.
fn setting(w: &Workload, engine: &str, setting: &str) -> Option<f64> {
    w.figures
        .iter()
        .find(|f| f.engine == engine && f.setting == setting)
        .and_then(|f| f.value)
}

/// Workload 11's goals: typed reads and the typed load.
fn typed_goals(report: &Report, goals: &mut Vec<Goal>) {
    use crate::run::{TYPED_HASHMAP, TYPED_REDB};
    let w11a = find(report, "w11a");
    let view = w11a.and_then(|w| setting(w, TABULA, "TableView::get"));
    let get = w11a.and_then(|w| setting(w, TABULA, "Table::get"));
    let map = w11a.and_then(|w| setting(w, TYPED_HASHMAP, "clone"));
    let redb = w11a.and_then(|w| setting(w, "redb", TYPED_REDB));
    let against = |ours: Option<f64>, theirs: Option<f64>, factor: f64| {
        ours.zip(theirs).map(|(ours, theirs)| {
            (
                ours >= factor * theirs,
                format!(
                    "{} against {} = {}",
                    number(ours),
                    number(theirs),
                    ratio(ours / theirs)
                ),
            )
        })
    };
    goals.push(goal(
        "Typed reads from a held `TableView` ≥ 0.8x std `HashMap<String, T>` returning clones",
        against(view, map, 0.8),
    ));
    goals.push(goal(
        "Typed reads from a held `TableView` ≥ 2x redb with bincode",
        against(view, redb, 2.0),
    ));
    goals.push(goal(
        "`Table::get` each time ≥ 1.5x redb with bincode",
        against(get, redb, 1.5),
    ));
    let w11b = find(report, "w11b");
    goals.push(goal(
        "Typed in-memory load ≥ 3x redb's unsynced load",
        against(
            w11b.and_then(|w| setting(w, TABULA, "in memory")),
            w11b.and_then(|w| setting(w, "redb", TYPED_REDB)),
            3.0,
        ),
    ));
}
