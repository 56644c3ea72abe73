//! Command-line parsing for `cargo xtask`, by hand: four subcommands do not need a parser crate.

use std::fmt;

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Test,
    Ci,
    Fuzz(FuzzOptions),
    /// Extra arguments for `cargo bench`, passed through untouched.
    Bench(Vec<String>),
}

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
        "bench" => Ok(Command::Bench(rest)),
        "fuzz" => parse_fuzz(rest).map(Command::Fuzz),
        other => Err(UsageError(format!("unknown command {other:?}"))),
    }
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
        if let Some(seconds) = seconds {
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
    fn bench_passes_everything_through() {
        assert_eq!(
            parse_str("bench --bench core -- --quick"),
            Ok(Command::Bench(
                ["--bench", "core", "--", "--quick"]
                    .map(String::from)
                    .to_vec()
            ))
        );
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
        assert!(parse_str("fuzz --seconds").is_err());
        assert!(parse_str("fuzz --seconds 0").is_err());
        assert!(parse_str("fuzz --seconds ten").is_err());
        assert!(parse_str("fuzz a b").is_err());
        assert!(parse_str("fuzz --jobs 2").is_err());
    }
}
