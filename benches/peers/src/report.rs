//! The results of one run and their rendering as BENCHMARKS.md.
//!
//! A [`Report`] is what the `peers` bench target measured: the machine and versions, the physical
//! limits, every workload's figures per engine and setting, the goals judged from them, the peers
//! that were skipped and why, and any engine error. [`Report::markdown`] turns it into the report
//! file; nothing in it is typed by hand, so the committed report is the output of a real run.
//!
//! Each workload table gives every figure, its ratio to tabula (how many times better tabula is:
//! above 1 tabula wins, below 1 it loses, whichever way the unit counts as better), and tabula's
//! fraction of the physical limit where one applies.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The engine name tabula's own figures carry.
pub const TABULA: &str = "tabula";

/// Whether a larger figure is better (throughput) or a smaller one (latency, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Better {
    /// Throughput: more is better.
    Higher,
    /// Latency, time, memory: less is better.
    Lower,
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The engine: [`TABULA`], `SQLite`, `redb`, ...
    pub engine: String,
    /// How it was set up (`synchronous=FULL`, `Always`, ...).
    pub setting: String,
    /// The group it is compared in (`1 writer`, `durable`, ...): ratios are taken to tabula's
    /// figure of the same group.
    pub group: String,
    /// The figure, in the workload's unit; `None` when the engine errored.
    pub value: Option<f64>,
    /// What else is worth knowing (operations run, a p50 beside a p99, the error).
    pub detail: String,
}

/// A physical limit: what the hardware allows for a workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// What was measured.
    pub name: String,
    /// The figure, in the workload's unit.
    pub value: f64,
}

/// One workload and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// A short id (`w1`, ...), also the chart panel order.
    pub id: String,
    /// The heading.
    pub title: String,
    /// What was done, in a sentence or two.
    pub what: String,
    /// The unit of every figure.
    pub unit: String,
    /// Which way is better.
    pub better: Better,
    /// The figures, tabula's first.
    pub figures: Vec<Figure>,
    /// The physical limit the figures are judged against, if any.
    pub limit: Option<Limit>,
    /// Notes on fairness and on what a figure includes.
    pub notes: Vec<String>,
}

impl Workload {
    /// tabula's figure in `group`, or in the first group it has one in.
    #[must_use]
    pub fn tabula(&self, group: &str) -> Option<f64> {
        let tabula = |f: &&Figure| f.engine == TABULA && f.value.is_some();
        self.figures
            .iter()
            .filter(tabula)
            .find(|f| f.group == group)
            .or_else(|| self.figures.iter().find(tabula))
            .and_then(|f| f.value)
    }

    /// tabula's best figure across settings and groups, by the workload's direction.
    #[must_use]
    pub fn tabula_best(&self) -> Option<f64> {
        let values = self
            .figures
            .iter()
            .filter(|f| f.engine == TABULA)
            .filter_map(|f| f.value);
        match self.better {
            Better::Higher => values.reduce(f64::max),
            Better::Lower => values.reduce(f64::min),
        }
    }

    /// How many times better tabula is than `figure` (`None` without both figures).
    #[must_use]
    pub fn advantage(&self, figure: &Figure) -> Option<f64> {
        let theirs = figure.value?;
        let ours = self.tabula(&figure.group)?;
        let ratio = match self.better {
            Better::Higher => ours / theirs,
            Better::Lower => theirs / ours,
        };
        ratio.is_finite().then_some(ratio)
    }

    /// The best figure of each engine other than tabula, across settings and groups.
    pub fn best_peers(&self) -> impl Iterator<Item = &Figure> + '_ {
        let better = self.better;
        self.figures.iter().filter(move |f| {
            f.engine != TABULA
                && f.value.is_some_and(|v| {
                    !self.figures.iter().any(|g| {
                        g.engine == f.engine
                            && g.value.is_some_and(|w| match better {
                                Better::Higher => w > v,
                                Better::Lower => w < v,
                            })
                    })
                })
        })
    }
}

/// A goal of the issue, judged from the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// The goal as stated.
    pub goal: String,
    /// What was measured against it.
    pub measured: String,
    /// Met, missed, or not judged (a peer was skipped).
    pub verdict: Verdict,
}

/// The verdict on a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The figures meet it.
    Met,
    /// The figures miss it.
    Missed,
    /// A figure it needs is missing (a skipped peer, an error).
    NotJudged,
}

impl Verdict {
    /// `Met` when `ok`, else `Missed`.
    #[must_use]
    pub fn of(ok: bool) -> Verdict {
        if ok { Verdict::Met } else { Verdict::Missed }
    }

    fn text(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::NotJudged => "not judged",
        }
    }
}

/// Where and how the run was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The date of the run (UTC).
    pub date: String,
    /// The command line that made this report.
    pub command: String,
    /// CPU, cores, memory, kernel, file system of the data directory.
    pub machine: Vec<(String, String)>,
    /// Every engine's version.
    pub versions: Vec<(String, String)>,
    /// Whether this was the `--quick` run (small sizes).
    pub quick: bool,
    /// Wall time of the whole run, in seconds.
    pub seconds: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Where and how.
    pub meta: Meta,
    /// The physical limits: name, figure, unit.
    pub limits: Vec<(String, f64, String)>,
    /// The workloads in order.
    pub workloads: Vec<Workload>,
    /// The goals, judged.
    pub goals: Vec<Goal>,
    /// Peers not run, and why.
    pub skipped: Vec<String>,
    /// Engine errors: any makes the run fail.
    pub errors: Vec<String>,
}

/// A figure with three significant digits and a thousands separator (`1,234,000`, `12.3`,
/// `0.0456`).
#[must_use]
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs();
    if magnitude >= 1_000.0 {
        let digits = magnitude.log10().floor() as i32 + 1;
        let unit = 10f64.powi((digits - 3).max(0));
        let rounded = (v / unit).round() * unit;
        group_thousands(rounded as i64)
    } else if magnitude >= 100.0 {
        format!("{v:.0}")
    } else if magnitude >= 10.0 {
        format!("{v:.1}")
    } else if magnitude >= 1.0 {
        format!("{v:.2}")
    } else if magnitude == 0.0 {
        "0".to_owned()
    } else {
        let digits = (-magnitude.log10()).ceil() as usize + 2;
        format!("{v:.digits$}")
    }
}

fn group_thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// A count with thousands separators (`1,000,000`).
#[must_use]
pub fn count(n: usize) -> String {
    group_thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A ratio as `3.2x`.
#[must_use]
pub fn ratio(v: f64) -> String {
    format!("{}x", number(v))
}

impl Report {
    /// The report as Markdown, with the charts linked from `charts` (a path relative to the
    /// report).
    #[must_use]
    pub fn markdown(&self, charts: &str) -> String {
        let mut out = String::new();
        let m = &self.meta;
        let _ = writeln!(out, "# tabula against its peers and the machine\n");
        let _ = writeln!(
            out,
            "Written by `{}` on {}{}, in {} s. Every figure below comes from that one run on one machine; \
             nothing is typed by hand. Ratios are how many times better tabula is (above 1x tabula wins, \
             below 1x it loses).\n",
            m.command,
            m.date,
            if m.quick {
                " (**quick run: small sizes, figures not representative**)"
            } else {
                ""
            },
            number(m.seconds)
        );
        let _ = writeln!(out, "## Machine\n\n| | |\n|---|---|");
        for (k, v) in &m.machine {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        let _ = writeln!(out, "\n## Versions\n\n| engine | version |\n|---|---|");
        for (k, v) in &m.versions {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(out, "\n**Skipped:**\n");
            for s in &self.skipped {
                let _ = writeln!(out, "- {s}");
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(out, "\n**Errors (the run failed):**\n");
            for e in &self.errors {
                let _ = writeln!(out, "- {e}");
            }
        }
        self.goals_markdown(&mut out);
        let _ = writeln!(
            out,
            "\n## Physical limits\n\nMeasured in the same run, on the same disk as every engine's data.\n\n| limit | figure |\n|---|---|"
        );
        for (name, v, unit) in &self.limits {
            let _ = writeln!(out, "| {name} | {} {unit} |", number(*v));
        }
        let _ = writeln!(
            out,
            "\n## Charts\n\n![durable commits per second against writers]({charts}/scaling.svg)\n\n\
             ![throughput per workload]({charts}/throughput.svg)"
        );
        for w in &self.workloads {
            workload_markdown(&mut out, w);
        }
        out
    }

    fn goals_markdown(&self, out: &mut String) {
        if self.goals.is_empty() {
            return;
        }
        let met = self
            .goals
            .iter()
            .filter(|g| g.verdict == Verdict::Met)
            .count();
        let _ = writeln!(
            out,
            "\n## Goals\n\n{met} of {} goals met.\n\n| goal | measured | verdict |\n|---|---|---|",
            self.goals.len()
        );
        for g in &self.goals {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                g.goal,
                g.measured,
                g.verdict.text()
            );
        }
    }
}

fn workload_markdown(out: &mut String, w: &Workload) {
    let _ = writeln!(out, "\n## {}\n\n{}\n", w.title, w.what);
    // Figures of several groups (writer counts, steps) are listed group by group, so each peer
    // sits next to tabula's figure it is compared with.
    let mut groups: Vec<&str> = Vec::new();
    for f in &w.figures {
        if !groups.contains(&f.group.as_str()) {
            groups.push(&f.group);
        }
    }
    let grouped = groups.len() > 1;
    let mut figures: Vec<&Figure> = w.figures.iter().collect();
    if grouped {
        figures.sort_by_key(|f| groups.iter().position(|g| *g == f.group));
    }
    let _ = writeln!(
        out,
        "| {}engine | setting | {} | tabula vs it | notes |\n|{}---|---|--:|--:|---|",
        if grouped { "group | " } else { "" },
        w.unit,
        if grouped { "---|" } else { "" },
    );
    for f in figures {
        let value = f.value.map_or_else(|| "error".to_owned(), number);
        let vs = if f.engine == TABULA {
            String::new()
        } else {
            w.advantage(f).map_or_else(String::new, ratio)
        };
        let group = if grouped {
            format!("{} | ", f.group)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {group}{} | {} | {value} | {vs} | {} |",
            f.engine, f.setting, f.detail
        );
    }
    if let Some(limit) = &w.limit {
        let best = w.tabula_best();
        let _ = write!(
            out,
            "\nPhysical limit: {} = {} {}",
            limit.name,
            number(limit.value),
            w.unit
        );
        if let Some(best) = best {
            let share = match w.better {
                Better::Higher => best / limit.value,
                Better::Lower => limit.value / best,
            };
            let _ = write!(out, "; tabula's best is {} of it", percent(share));
        }
        let _ = writeln!(out, ".");
    }
    for n in &w.notes {
        let _ = writeln!(out, "\n- {n}");
    }
}

/// A fraction as a percentage (`41%`, `0.52%`).
#[must_use]
pub fn percent(v: f64) -> String {
    format!("{}%", number(v * 100.0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn figure(engine: &str, group: &str, value: Option<f64>) -> Figure {
        Figure {
            engine: engine.to_owned(),
            setting: String::new(),
            group: group.to_owned(),
            value,
            detail: String::new(),
        }
    }

    fn workload(better: Better, figures: Vec<Figure>) -> Workload {
        Workload {
            id: "w".into(),
            title: "t".into(),
            what: String::new(),
            unit: "ops/s".into(),
            better,
            figures,
            limit: None,
            notes: vec![],
        }
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(1_234_567.0), "1,230,000");
        assert_eq!(number(7_776.4), "7,780");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(0.01234), "0.0123");
        assert_eq!(number(0.0), "0");
        assert_eq!(percent(0.4123), "41.2%");
        assert_eq!(count(32), "32");
        assert_eq!(count(1_000_000), "1,000,000");
    }

    #[test]
    fn ratios_are_taken_in_the_same_group_and_respect_the_direction() {
        let w = workload(
            Better::Higher,
            vec![
                figure(TABULA, "a", Some(100.0)),
                figure(TABULA, "b", Some(1_000.0)),
                figure("peer", "a", Some(50.0)),
                figure("peer", "b", Some(2_000.0)),
                figure("peer", "c", Some(10.0)),
                figure("broken", "a", None),
            ],
        );
        assert_eq!(w.advantage(&w.figures[2]), Some(2.0));
        assert_eq!(w.advantage(&w.figures[3]), Some(0.5));
        // No tabula figure in group c: the first one is used.
        assert_eq!(w.advantage(&w.figures[4]), Some(10.0));
        assert_eq!(w.advantage(&w.figures[5]), None);
        let lower = workload(
            Better::Lower,
            vec![figure(TABULA, "a", Some(2.0)), figure("p", "a", Some(8.0))],
        );
        assert_eq!(lower.advantage(&lower.figures[1]), Some(4.0));
    }

    #[test]
    fn best_peers_keep_one_figure_per_engine() {
        let w = workload(
            Better::Higher,
            vec![
                figure(TABULA, "a", Some(100.0)),
                figure("p", "a", Some(50.0)),
                figure("p", "b", Some(70.0)),
                figure("q", "a", Some(5.0)),
            ],
        );
        let best: Vec<f64> = w.best_peers().filter_map(|f| f.value).collect();
        assert_eq!(best, [70.0, 5.0]);
    }

    #[test]
    fn the_markdown_shows_errors_goals_and_limits() {
        let mut w = workload(
            Better::Higher,
            vec![figure(TABULA, "a", Some(800.0)), figure("p", "a", None)],
        );
        w.limit = Some(Limit {
            name: "fdatasync loop".into(),
            value: 1_000.0,
        });
        let report = Report {
            workloads: vec![w],
            goals: vec![Goal {
                goal: "g".into(),
                measured: "m".into(),
                verdict: Verdict::Missed,
            }],
            errors: vec!["p: boom".into()],
            ..Report::default()
        };
        let md = report.markdown("charts");
        assert!(md.contains("| p |  | error |"), "{md}");
        assert!(md.contains("tabula's best is 80.0% of it"), "{md}");
        assert!(md.contains("0 of 1 goals met"), "{md}");
        assert!(md.contains("**missed**"), "{md}");
        assert!(md.contains("p: boom"), "{md}");
    }
}
