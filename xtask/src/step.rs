//! Running one named step: print what runs, time it, and turn a failure into an error that names
//! the step and the command, so a CI log says at once what broke.
//!
//! Also the small helpers the steps share: the `cargo` to call, probing whether a tool is
//! installed, and a run summary.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::args::UsageError;

/// Why xtask failed.
#[derive(Debug)]
pub(crate) enum Error {
    /// A step's command ran and exited unsuccessfully.
    StepFailed {
        step: String,
        command: String,
        status: ExitStatus,
        elapsed: Duration,
        /// Where the full output is, if it was captured rather than shown.
        log: Option<PathBuf>,
    },
    /// A step's command could not be started, or its output not captured.
    Io {
        step: String,
        command: String,
        error: io::Error,
    },
    /// A tool the command needs is not installed.
    MissingTool { tool: String, install: String },
    /// The command line or the project is not as expected.
    Usage(UsageError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::StepFailed {
                step,
                command,
                status,
                elapsed,
                log,
            } => {
                write!(
                    f,
                    "step `{step}` failed ({status}) after {:.1}s\n  command: {command}",
                    elapsed.as_secs_f64()
                )?;
                if let Some(log) = log {
                    write!(f, "\n  full output: {}", log.display())?;
                }
                Ok(())
            }
            Error::Io {
                step,
                command,
                error,
            } => write!(f, "step `{step}` could not run `{command}`: {error}"),
            Error::MissingTool { tool, install } => {
                write!(f, "{tool} is not installed; install it with `{install}`")
            }
            Error::Usage(e) => e.fmt(f),
        }
    }
}

// Each message carries its inner error, so no `source()` (ARCHITECTURE.md, invariant 12).
impl std::error::Error for Error {}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Error::Usage(e)
    }
}

/// The `cargo` to run: the one that runs xtask (cargo sets `CARGO`), so the same toolchain checks
/// the code; plain `cargo` when xtask is run directly.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

/// Whether `cmd` runs and exits successfully, with its output hidden: used to probe for optional
/// tools (`cargo nextest --version`, `cargo fuzz --version`).
pub(crate) fn succeeds(mut cmd: Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The command line as a user would type it, for messages.
pub(crate) fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_else(|| cmd.get_program());
    std::iter::once(program)
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The steps run so far and how long each took, for the closing summary.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    started: Option<Instant>,
    done: Vec<(String, Duration)>,
}

/// How a step's output is handled.
pub(crate) enum Output<'a> {
    /// Shown as it is written.
    Inherit,
    /// Written to a log file; on success only the last line is shown, on failure the last lines.
    Log(&'a Path),
}

/// Most lines of a panic message shown from a failed step's log.
const PANIC_LINES: usize = 60;

/// Most lines of the end of a failed step's log shown (backtrace frames left out).
const TAIL_LINES: usize = 30;

impl Steps {
    pub(crate) fn new() -> Self {
        Steps {
            started: Some(Instant::now()),
            done: Vec::new(),
        }
    }

    /// Runs `cmd` in `dir` as the step `name`.
    ///
    /// # Errors
    /// [`Error::StepFailed`] if it exits unsuccessfully, [`Error::Io`] if it cannot start.
    pub(crate) fn run(
        &mut self,
        name: &str,
        dir: &Path,
        mut cmd: Command,
        output: Output<'_>,
    ) -> crate::Result {
        let command = display(&cmd);
        let io_error = |source| Error::Io {
            step: name.to_owned(),
            command: command.clone(),
            error: source,
        };
        eprintln!("\nxtask: ==> {name}: {command}");
        cmd.current_dir(dir).stdin(Stdio::null());
        let log = match output {
            Output::Inherit => None,
            Output::Log(path) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io_error)?;
                }
                let file = File::create(path).map_err(io_error)?;
                let err = file.try_clone().map_err(io_error)?;
                cmd.stdout(file).stderr(err);
                eprintln!("xtask:     output: {}", path.display());
                Some(path.to_path_buf())
            }
        };
        let start = Instant::now();
        let status = cmd.status().map_err(io_error)?;
        let elapsed = start.elapsed();
        if let Some(log) = &log {
            let lines = if status.success() {
                tail(log, 1)
            } else {
                failure_excerpt(log)
            };
            for line in lines {
                eprintln!("xtask:     | {line}");
            }
        }
        if !status.success() {
            eprintln!(
                "xtask: <== {name}: FAILED after {:.1}s",
                elapsed.as_secs_f64()
            );
            self.summary();
            return Err(Error::StepFailed {
                step: name.to_owned(),
                command,
                status,
                elapsed,
                log,
            });
        }
        eprintln!("xtask: <== {name}: ok in {:.1}s", elapsed.as_secs_f64());
        self.done.push((name.to_owned(), elapsed));
        Ok(())
    }

    /// Prints each finished step's time and the total.
    pub(crate) fn summary(&self) {
        if self.done.is_empty() {
            return;
        }
        eprintln!("\nxtask: steps passed:");
        for (name, elapsed) in &self.done {
            eprintln!("xtask:   {:>7.1}s  {name}", elapsed.as_secs_f64());
        }
        if let Some(started) = self.started {
            eprintln!("xtask:   {:>7.1}s  total", started.elapsed().as_secs_f64());
        }
    }
}

/// The non-empty lines of the file at `path` (none if it cannot be read).
fn lines(path: &Path) -> Vec<String> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    BufReader::new(file)
        .split(b'\n')
        .map_while(Result::ok)
        .map(|line| String::from_utf8_lossy(&line).trim_end().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

/// The last `n` non-empty lines of the file at `path`.
fn tail(path: &Path, n: usize) -> Vec<String> {
    let mut all = lines(path);
    all.split_off(all.len().saturating_sub(n))
}

/// What to show of a failed step's log: the panic message (what the assertion says and what was
/// decoded), then the end of the log (libFuzzer's summary and how to reproduce), without the
/// backtrace frames that would push both off the screen.
fn failure_excerpt(path: &Path) -> Vec<String> {
    let all = lines(path);
    let panic_at = all.iter().position(|line| line.contains("panicked at"));
    let mut out = Vec::new();
    let mut rest = 0;
    if let Some(start) = panic_at {
        let len = all
            .iter()
            .skip(start)
            .take_while(|line| !line.starts_with("stack backtrace:"))
            .count();
        out.extend(all.iter().skip(start).take(len.min(PANIC_LINES)).cloned());
        if len > PANIC_LINES {
            out.push(format!("... ({} more lines)", len - PANIC_LINES));
        }
        rest = start + len;
    }
    let is_frame = |line: &str| {
        let t = line.trim_start();
        t.starts_with("at ")
            || t.split_once(": ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
    };
    let end: Vec<&String> = all
        .iter()
        .skip(rest)
        .filter(|line| !is_frame(line))
        .collect();
    let skip = end.len().saturating_sub(TAIL_LINES);
    out.extend(end.into_iter().skip(skip).cloned());
    out
}
