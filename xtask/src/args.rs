//! Command-line parsing for `cargo xtask`, by hand: four subcommands do not need a parser crate.

use std::fmt;

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Test,
    Ci,
    Fuzz(FuzzOptions),
    /// The peer benchmark; `true` for `--quick`.
    Bench {
        quick: bool,
    },
    /// Extra arguments for `cargo bench -p tabula-benches`, passed through untouched.
    Criterion(Vec<String>),
    Reliability(ReliabilityOptions),
}

/// Options of `cargo xtask reliability`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ReliabilityOptions {
    /// `ci` or `full`.
    pub(crate) scale: String,
    /// How long each fuzz target runs (0: no fuzzing).
    pub(crate) fuzz_seconds: u64,
}

/// Default fuzzing per target in `cargo xtask reliability`.
pub(crate) const DEFAULT_RELIABILITY_FUZZ_SECONDS: u64 = 60;

/// Options of `cargo xtask fuzz`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FuzzOptions {
    /// One target, or every target.
    pub(crate) target: Option<String>,
    /// How long each target runs.
    pub(crate) seconds: u64,
    /// Arguments for libFuzzer, after `--`.
    pub(crate) libfuzzer_args: Vec<String>,
}

/// Default length of a `cargo xtask fuzz` run, per target.
pub(crate) const DEFAULT_FUZZ_SECONDS: u64 = 300;

/// A command line that does not parse.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the arguments after `cargo xtask`.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(command) = args.next() else {
        return Err(UsageError("no command given".into()));
    };
    let rest: Vec<String> = args.collect();
    let no_args = |command: Command| {
        if let Some(extra) = rest.first() {
            Err(UsageError(format!("unexpected argument {extra:?}")))
        } else {
            Ok(command)
        }
    };
    match command.as_str() {
        "help" | "-h" | "--help" => Ok(Command::Help),
        "test" => no_args(Command::Test),
        "ci" => no_args(Command::Ci),
        "bench" => match rest.split_first() {
            Some((first, criterion)) if first == "criterion" => {
                Ok(Command::Criterion(criterion.to_vec()))
            }
            Some((first, more)) if first == "--quick" => match more.first() {
                Some(extra) => Err(UsageError(format!("unexpected argument {extra:?}"))),
                None => Ok(Command::Bench { quick: true }),
            },
            Some((other, _)) => Err(UsageError(format!("unexpected argument {other:?}"))),
            None => Ok(Command::Bench { quick: false }),
        },
        "fuzz" => parse_fuzz(rest).map(Command::Fuzz),
        "reliability" => parse_reliability(rest).map(Command::Reliability),
        other => Err(UsageError(format!("unknown command {other:?}"))),
    }
}

/// A positive whole number given to `flag`.
fn positive(flag: &str, value: Option<String>) -> Result<u64, UsageError> {
    let value = value.ok_or_else(|| UsageError(format!("{flag} needs a value")))?;
    match value.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(UsageError(format!(
            "{flag} wants a positive whole number, not {value:?}"
        ))),
    }
}

fn parse_reliability(args: Vec<String>) -> Result<ReliabilityOptions, UsageError> {
    let mut options = ReliabilityOptions {
        scale: "full".to_owned(),
        fuzz_seconds: DEFAULT_RELIABILITY_FUZZ_SECONDS,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scale" => match args.next().as_deref() {
                Some(scale @ ("ci" | "full")) => scale.clone_into(&mut options.scale),
                other => {
                    return Err(UsageError(format!(
                        "--scale wants ci or full, not {other:?}"
                    )));
                }
            },
            "--fuzz-seconds" => options.fuzz_seconds = positive("--fuzz-seconds", args.next())?,
            "--no-fuzz" => options.fuzz_seconds = 0,
            other => return Err(UsageError(format!("unknown option {other:?}"))),
        }
    }
    Ok(options)
}

fn parse_fuzz(args: Vec<String>) -> Result<FuzzOptions, UsageError> {
    let mut options = FuzzOptions {
        target: None,
        seconds: DEFAULT_FUZZ_SECONDS,
        libfuzzer_args: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let seconds = if arg == "--seconds" {
            Some(
                args.next()
                    .ok_or_else(|| UsageError("--seconds needs a value".into()))?,
            )
        } else {
            arg.strip_prefix("--seconds=").map(str::to_owned)
        };
        if arg == "--minutes" {
            options.seconds = positive("--minutes", args.next())? * 60;
        } else if let Some(seconds) = seconds {
            options.seconds = match seconds.parse() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(UsageError(format!(
                        "--seconds wants a positive whole number, not {seconds:?}"
                    )));
                }
            };
        } else if arg == "--" {
            options.libfuzzer_args = args.by_ref().collect();
        } else if arg.starts_with('-') {
            return Err(UsageError(format!("unknown option {arg:?}")));
        } else if let Some(first) = &options.target {
            return Err(UsageError(format!(
                "one target at a time: got {first:?} and {arg:?}"
            )));
        } else {
            options.target = Some(arg);
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, UsageError> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn simple_commands() {
        assert_eq!(parse_str("test"), Ok(Command::Test));
        assert_eq!(parse_str("ci"), Ok(Command::Ci));
        assert_eq!(parse_str("--help"), Ok(Command::Help));
        assert!(parse_str("").is_err());
        assert!(parse_str("test --fast").is_err());
        assert!(parse_str("deploy").is_err());
    }

    #[test]
    fn bench_runs_the_peers_and_criterion_passes_everything_through() {
        assert_eq!(parse_str("bench"), Ok(Command::Bench { quick: false }));
        assert_eq!(
            parse_str("bench --quick"),
            Ok(Command::Bench { quick: true })
        );
        assert!(parse_str("bench --fast").is_err());
        assert!(parse_str("bench --quick more").is_err());
        assert_eq!(
            parse_str("bench criterion --bench core -- --quick"),
            Ok(Command::Criterion(
                ["--bench", "core", "--", "--quick"]
                    .map(str::to_owned)
                    .to_vec()
            ))
        );
    }

    #[test]
    fn reliability_options() {
        assert_eq!(
            parse_str("reliability"),
            Ok(Command::Reliability(ReliabilityOptions {
                scale: "full".into(),
                fuzz_seconds: DEFAULT_RELIABILITY_FUZZ_SECONDS,
            }))
        );
        assert_eq!(
            parse_str("reliability --scale ci --fuzz-seconds 5"),
            Ok(Command::Reliability(ReliabilityOptions {
                scale: "ci".into(),
                fuzz_seconds: 5,
            }))
        );
        assert!(parse_str("reliability --scale huge").is_err());
        assert!(parse_str("reliability --fuzz-seconds 0").is_err());
    }

    #[test]
    fn fuzz_options() {
        assert_eq!(
            parse_str("fuzz"),
            Ok(Command::Fuzz(FuzzOptions {
                target: None,
                seconds: DEFAULT_FUZZ_SECONDS,
                libfuzzer_args: Vec::new(),
            }))
        );
        assert_eq!(
            parse_str("fuzz apply_ops --seconds 60 -- -jobs=2 -workers=2"),
            Ok(Command::Fuzz(FuzzOptions {
                target: Some("apply_ops".into()),
                seconds: 60,
                libfuzzer_args: vec!["-jobs=2".into(), "-workers=2".into()],
            }))
        );
        assert_eq!(
            parse_str("fuzz --seconds=5"),
            Ok(Command::Fuzz(FuzzOptions {
                target: None,
                seconds: 5,
                libfuzzer_args: Vec::new(),
            }))
        );
        assert_eq!(
            parse_str("fuzz --minutes 2"),
            Ok(Command::Fuzz(FuzzOptions {
                target: None,
                seconds: 120,
                libfuzzer_args: Vec::new(),
            }))
        );
        assert!(parse_str("fuzz --minutes 0").is_err());
        assert!(parse_str("fuzz --seconds").is_err());
        assert!(parse_str("fuzz --seconds 0").is_err());
        assert!(parse_str("fuzz --seconds ten").is_err());
        assert!(parse_str("fuzz a b").is_err());
        assert!(parse_str("fuzz --jobs 2").is_err());
    }
}
