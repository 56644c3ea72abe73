//! Hostile input: lengths claiming far more than is there, 100k levels of nesting, every
//! truncation of a valid record, random and mutated bytes. Each returns `Ok` or a typed error
//! naming the format and offset: never a panic, an abort, a stack overflow or a huge allocation.
//! `under_a_4gb_address_space_limit` runs the deterministic cases again under `ulimit -v 4000000`,
//! where a trusted 2^40-byte length would abort the process.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::process::Command;

use proptest::prelude::*;
use tabula_codec::{Codable, Codec, CodecLimits, Error, Format};
use tabula_core::{Lsn, Map, Op, TableDef, Timestamp, Transaction, Value};

/// Decodes `bytes` as `T` from a slice and from a reader; both must fail.
fn both_fail<T: Codable + std::fmt::Debug>(codec: Codec, bytes: &[u8]) -> Error {
    let from_reader = codec.reader(bytes).read::<T>();
    assert!(
        from_reader.is_err(),
        "{}: reader accepted {bytes:02x?}: {from_reader:?}",
        codec.format()
    );
    codec
        .decode::<T>(bytes)
        .expect_err(&format!("{}: accepted {bytes:02x?}", codec.format()))
}

/// Decodes `bytes` as every record type, every way, and never panics. Whatever decodes must
/// re-encode and decode to the same thing.
fn anything_goes(codec: Codec, bytes: &[u8]) {
    fn one<T: Codable + std::fmt::Debug>(codec: Codec, bytes: &[u8]) {
        if let Ok(record) = codec.decode::<T>(bytes) {
            let again = codec.encode(&record).expect("a decoded record re-encodes");
            let back: T = codec.decode(&again).expect("a re-encoded record decodes");
            assert!(common::same(&back, &record) || format!("{record:?}").contains("NaN"));
        }
        let _ = codec.slice_reader(bytes).iter::<T>().count();
        let _ = codec.reader(bytes).iter::<T>().count();
    }
    one::<Value>(codec, bytes);
    one::<Map>(codec, bytes);
    one::<TableDef>(codec, bytes);
    one::<Op>(codec, bytes);
    one::<Transaction>(codec, bytes);
    let _ = Codec::detect::<Transaction>(bytes, *codec.limits());
}

#[test]
fn lengths_beyond_the_input_are_refused_before_allocating() {
    let huge = (1u64 << 40).to_le_bytes();
    let bin = Codec::new(Format::Bincode);
    // 16 bytes: a text value claiming 2^40 bytes.
    let text: Vec<u8> = [&4u32.to_le_bytes()[..], &huge, b"abcd"].concat();
    assert_eq!(text.len(), 16);
    assert!(matches!(
        both_fail::<Value>(bin, &text),
        Error::TooLarge { .. } | Error::Truncated { .. }
    ));
    // A transaction whose first op's table name claims 2^40 bytes.
    let tx: Vec<u8> = [
        &[0u8; 16][..],
        &[0],
        &1u64.to_le_bytes(),
        &4u32.to_le_bytes(),
        &huge,
    ]
    .concat();
    both_fail::<Transaction>(bin, &tx);
    // Lists, maps and op lists claiming 2^40 elements.
    let list: Vec<u8> = [&7u32.to_le_bytes()[..], &huge, &[0; 4]].concat();
    assert!(matches!(
        both_fail::<Value>(bin, &list),
        Error::TooLarge {
            what: "list length",
            ..
        }
    ));
    assert!(matches!(
        both_fail::<Map>(bin, &huge),
        Error::TooLarge {
            what: "map length",
            ..
        }
    ));
    let ops: Vec<u8> = [&[0u8; 16][..], &[0], &huge].concat();
    assert!(matches!(
        both_fail::<Transaction>(bin, &ops),
        Error::TooLarge {
            what: "op count",
            ..
        }
    ));
    // The same in MessagePack: str32, bin32, array32 and map32 with the largest lengths.
    let mp = Codec::new(Format::MessagePack);
    for marker in [0xdb, 0xc6, 0xdd, 0xdf, 0xc9] {
        let bytes = [
            marker, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
        ];
        both_fail::<Value>(mp, &bytes);
        both_fail::<Transaction>(mp, &bytes);
    }
    // JSON has no length prefixes; an unterminated string is the nearest thing.
    both_fail::<Value>(Codec::new(Format::Json), br#""aaaaaaaaaaaaaaa"#);
}

#[test]
fn deep_nesting_is_refused_without_recursing_through_it() {
    const LEVELS: usize = 100_000;
    let json = [vec![b'['; LEVELS], vec![b']'; LEVELS]].concat();
    let msgpack = [vec![0x91; LEVELS], vec![0xc0]].concat();
    let bincode = [
        [7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0].repeat(LEVELS),
        vec![0; 4],
    ]
    .concat();
    for (format, bytes) in [
        (Format::Json, json),
        (Format::MessagePack, msgpack),
        (Format::Bincode, bincode),
    ] {
        let codec = Codec::new(format);
        let err = both_fail::<Value>(codec, &bytes);
        assert!(matches!(err, Error::TooDeep { .. }), "{format}: {err}");
        // Nested inside a row, in the same way.
        let wrapped: Vec<u8> = match format {
            Format::Json => [&b"{\"a\":"[..], &bytes, b"}"].concat(),
            Format::MessagePack => [&[0x81, 0xa1, b'a'][..], &bytes].concat(),
            _ => [&1u64.to_le_bytes()[..], &1u64.to_le_bytes(), b"a", &bytes].concat(),
        };
        assert!(
            matches!(both_fail::<Map>(codec, &wrapped), Error::TooDeep { .. }),
            "{format}"
        );
    }
}

/// A value nested `depth` levels: lists and maps alternating.
fn nested(depth: usize) -> Value {
    let mut v = Value::Int(1);
    for i in 1..depth {
        v = if i % 2 == 0 {
            Value::List(vec![v])
        } else {
            Value::Map([("k".to_owned(), v)].into())
        };
    }
    v
}

#[test]
fn the_deepest_allowed_record_decodes_in_a_1_mib_stack() {
    let limits = CodecLimits::default().with_max_depth(tabula_codec::MAX_DEPTH);
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for format in Format::ALL {
                let codec = Codec::new(format).with_limits(limits);
                let row: Map = [("a".to_owned(), nested(limits.max_depth - 1))].into();
                let tx = Transaction::new(Lsn(1), Timestamp::from_micros(0)).with(Op::Insert {
                    table: "t".into(),
                    row,
                });
                let bytes = codec.encode(&tx).unwrap();
                let back: Transaction = codec.decode(&bytes).unwrap();
                assert!(common::same(&back, &tx), "{format}");
                // One level more is refused on both sides.
                let deeper = nested(limits.max_depth + 1);
                assert!(
                    matches!(codec.encode(&deeper), Err(Error::Unencodable { .. })),
                    "{format}"
                );
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

fn sample() -> Transaction {
    let row: Map = [
        ("id".to_owned(), Value::Int(7)),
        ("name".to_owned(), "Grace".into()),
        ("b".to_owned(), Value::Bytes(vec![1, 2, 3])),
        ("t".to_owned(), Value::Timestamp(Timestamp::from_micros(99))),
        (
            "l".to_owned(),
            Value::List(vec![Value::Float(f64::NAN), Value::Null]),
        ),
    ]
    .into();
    Transaction::new(Lsn(9), Timestamp::from_micros(1)).with(Op::Insert {
        table: "people".into(),
        row,
    })
}

#[test]
fn every_truncation_of_a_valid_record_is_an_error() {
    for codec in common::codecs() {
        let bytes = codec.encode(&sample()).unwrap();
        for len in 0..bytes.len() {
            let prefix = &bytes[..len];
            let err = codec
                .decode::<Transaction>(prefix)
                .expect_err(&format!("{} at {len}", codec.format()));
            let _ = err.to_string();
            if len > 0 {
                assert!(
                    codec.reader(prefix).read::<Transaction>().is_err(),
                    "{} at {len}",
                    codec.format()
                );
            }
        }
        // And extra bytes after a whole record are reported, not ignored.
        let mut longer = bytes.clone();
        longer.push(b'x');
        let err = codec.decode::<Transaction>(&longer).unwrap_err();
        assert!(
            matches!(err, Error::TrailingBytes { .. } | Error::Invalid { .. }),
            "{err}"
        );
    }
}

#[test]
fn errors_name_the_format_the_offset_and_what_was_expected() {
    let bin = Codec::new(Format::Bincode);
    let mut bytes = bin
        .encode(&Value::List(vec![Value::Int(1), Value::Int(2)]))
        .unwrap();
    bytes[24] = 42; // the second element's tag
    let err = bin.decode::<Value>(&bytes).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { format: Format::Bincode, offset: Some(24), expected } if expected.contains("found 42")),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "bincode: invalid input at byte 24: expected value tag 0..=8, found 42"
    );

    let text = bin.encode(&Value::from("abc")).unwrap();
    let mut bad = text.clone();
    bad[13] = 0xff;
    let err = bin.decode::<Value>(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                offset: Some(13),
                ..
            }
        ),
        "{err}"
    );

    let mp = Codec::new(Format::MessagePack);
    let err = mp.decode::<Value>(&[0x92, 0x01, 0xc1]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                format: Format::MessagePack,
                offset: Some(2),
                ..
            }
        ),
        "{err}"
    );

    let json = Codec::new(Format::Json);
    let err = json.decode::<Value>(b"[1, 2, ?]").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                format: Format::Json,
                offset: Some(7),
                ..
            }
        ),
        "{err}"
    );
    let mut stream = b"{\"a\":1}\n".to_vec();
    stream.extend_from_slice(b"{\"a\":?}\n");
    let mut reader = json.reader(stream.as_slice());
    assert!(reader.read::<Map>().unwrap().is_some());
    let err = reader.read::<Map>().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                offset: Some(13),
                ..
            }
        ),
        "offsets count from the stream start: {err}"
    );
}

#[test]
fn limits_hold_on_both_sides() {
    let small = CodecLimits::default()
        .with_max_record_size(64)
        .with_max_collection_len(16);
    let big_row: Map = (0..20)
        .map(|i| (format!("k{i}"), Value::from("0123456789")))
        .collect();
    for format in Format::ALL {
        let codec = Codec::new(format).with_limits(small);
        let err = codec.encode(&big_row).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{format}: {err}");
        let bytes = Codec::new(format).encode(&big_row).unwrap();
        let err = codec.decode::<Map>(&bytes).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{format}: {err}");
        let err = codec.reader(bytes.as_slice()).read::<Map>().unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{format}: {err}");
        // The collection limit on its own.
        let few =
            Codec::new(format).with_limits(CodecLimits::default().with_max_collection_len(16));
        let err = few.decode::<Map>(&bytes).unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooLarge {
                    what: "map length",
                    ..
                }
            ),
            "{format}: {err}"
        );
    }
}

#[test]
fn detection_is_by_decoding_and_says_when_it_cannot_tell() {
    let tx = sample();
    for codec in common::codecs() {
        let bytes = codec.encode(&tx).unwrap();
        assert_eq!(
            Codec::detect::<Transaction>(&bytes, CodecLimits::default()).unwrap(),
            codec.format()
        );
    }
    let err = Codec::detect::<Transaction>(b"", CodecLimits::default()).unwrap_err();
    assert!(matches!(err, Error::Undetected { .. }));
    let err = Codec::detect::<Transaction>(&[0xc1, 0xc1], CodecLimits::default()).unwrap_err();
    assert!(err.to_string().contains("no format fits"), "{err}");
    // A lone `0` byte is a fixint in MessagePack and could start a JSON number too.
    let err = Codec::detect::<Value>(b"1", CodecLimits::default()).unwrap_err();
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for codec in common::codecs() {
            anything_goes(codec, &bytes);
        }
    }

    #[test]
    fn mutated_records_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        for codec in common::codecs() {
            let mut bytes = codec.encode(&sample()).unwrap();
            for (at, byte) in &flips {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            anything_goes(codec, &bytes);
        }
    }
}

const CHILD: &str = "TABULA_HOSTILE_CHILD";

#[test]
fn under_a_4gb_address_space_limit() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 4000000 && exec "$0" "$@""#)
        .arg(&exe)
        .args([
            "--test-threads=1",
            "lengths_beyond_the_input_are_refused_before_allocating",
            "deep_nesting_is_refused_without_recursing_through_it",
            "every_truncation_of_a_valid_record_is_an_error",
            "limits_hold_on_both_sides",
            "amplification_is_bounded_by_the_memory_limit",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 5 passed"),
        "child under ulimit failed: {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Each was found by the fuzz targets; the inputs are the minimized reproducers.
#[test]
fn fuzz_findings_stay_fixed() {
    let json = Codec::new(Format::Json);
    // Form feed is not JSON whitespace: the slice and the reader agree that it is an error.
    assert!(json.slice_reader(b"\x0c1").read::<Value>().is_err());
    assert!(json.reader(&b"\x0c1"[..]).read::<Value>().is_err());
    // Blank lines and leading whitespace do not count towards the record size, either way.
    let tiny = json.with_limits(CodecLimits::default().with_max_record_size(0));
    assert!(tiny.slice_reader(b" \n").read::<Value>().unwrap().is_none());
    assert!(tiny.reader(&b" \n"[..]).read::<Value>().unwrap().is_none());
    let a = tiny.slice_reader(b"\t2").read::<Value>().unwrap();
    let b = tiny.reader(&b"\t2"[..]).read::<Value>().unwrap();
    assert_eq!(a, b);
    // The collection limit counts every element, the first one included (it is at least 16).
    let few = json.with_limits(CodecLimits::default().with_max_collection_len(0));
    assert_eq!(
        few.limits().max_collection_len,
        tabula_codec::MIN_COLLECTION_LEN
    );
    let list = |n: usize| format!("[{}]", vec!["1"; n].join(","));
    assert!(few.decode::<Value>(list(16).as_bytes()).is_ok());
    assert!(matches!(
        few.decode::<Value>(list(17).as_bytes()),
        Err(Error::TooLarge { .. })
    ));
    let inner = format!("[{}]", list(16));
    assert!(few.decode::<Value>(inner.as_bytes()).is_ok());
    // Escaped maps nest deeper than their value depth; what encodes must decode.
    for format in Format::ALL {
        let limits = CodecLimits::default().with_max_depth(10);
        let codec = Codec::new(format).with_limits(limits);
        let value = nested(10);
        let bytes = codec.encode(&value).unwrap();
        let back: Value = codec
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(common::same(&back, &value));
    }
}

/// Each was found by review.
#[test]
fn review_findings_stay_fixed() {
    // Setting the public depth field past MAX_DEPTH cannot deepen recursion.
    let mut limits = CodecLimits::default();
    limits.max_depth = 1_000_000;
    let bin = Codec::new(Format::Bincode).with_limits(limits);
    let deep = [
        [7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0].repeat(100_000),
        vec![0; 4],
    ]
    .concat();
    assert!(matches!(
        bin.decode::<Value>(&deep),
        Err(Error::TooDeep {
            limit: tabula_codec::MAX_DEPTH,
            ..
        })
    ));
    // A MessagePack str must be UTF-8; it does not quietly become bytes.
    let mp = Codec::new(Format::MessagePack);
    let err = mp.decode::<Value>(&[0xa2, 0xff, 0xfe]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                offset: Some(1),
                ..
            }
        ),
        "{err}"
    );
    // A reader reports a truncation where the input really ended, as a slice does.
    let short: Vec<u8> = [&4u32.to_le_bytes()[..], &100u64.to_le_bytes(), &[b'x'; 10]].concat();
    let a = bin.decode::<Value>(&short).unwrap_err();
    let b = bin.reader(short.as_slice()).read::<Value>().unwrap_err();
    assert!(
        matches!(
            (&a, &b),
            (
                Error::Truncated { offset: 22, .. },
                Error::Truncated { offset: 22, .. }
            )
        ),
        "{a} / {b}"
    );
    // Encoders refuse what their decoders would refuse.
    let few = CodecLimits::default().with_max_collection_len(20);
    let long = Value::List(vec![Value::Int(0); 21]);
    for format in Format::ALL {
        let err = Codec::new(format)
            .with_limits(few)
            .encode(&long)
            .unwrap_err();
        assert!(matches!(err, Error::Unencodable { .. }), "{format}: {err}");
    }
    // A path of many dots is refused rather than split into many strings.
    let dots = format!(
        r#"{{"name": "i", "path": "{}", "unique": false}}"#,
        ".".repeat(1000)
    );
    assert!(
        Codec::new(Format::Json)
            .decode::<tabula_core::IndexDef>(dots.as_bytes())
            .is_err()
    );
}

/// Small records that decode into far larger heaps (a one-entry map is 3 bytes of MessagePack
/// but a B-tree node in memory) are refused by the memory estimate, not allocated.
#[test]
fn amplification_is_bounded_by_the_memory_limit() {
    let n: u32 = 16 << 20;
    let mut bytes = vec![0xdd];
    bytes.extend_from_slice(&n.to_be_bytes());
    for _ in 0..n {
        bytes.extend_from_slice(&[0x81, 0xa0, 0xc0]);
    }
    let mp = Codec::new(Format::MessagePack);
    let err = mp.decode::<Value>(&bytes).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { what, .. } if what.contains("memory")),
        "{err}"
    );
    // The same shape in JSON and bincode.
    let json = [&b"["[..], &br#"{"":0},"#.repeat(2_000_000), b"0]"].concat();
    let err = Codec::new(Format::Json).decode::<Value>(&json).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { what, .. } if what.contains("memory")),
        "{err}"
    );
    let one = [
        &8u32.to_le_bytes()[..],
        &1u64.to_le_bytes(),
        &0u64.to_le_bytes(),
        &0u32.to_le_bytes(),
    ]
    .concat();
    let bin = [
        &7u32.to_le_bytes()[..],
        &2_000_000u64.to_le_bytes(),
        &one.repeat(2_000_000),
    ]
    .concat();
    let err = Codec::new(Format::Bincode)
        .decode::<Value>(&bin)
        .unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { what, .. } if what.contains("memory")),
        "{err}"
    );
}

#[test]
fn depth_is_exact_in_every_format() {
    let limits = CodecLimits::default();
    let max = limits.max_depth;
    for format in Format::ALL {
        let codec = Codec::new(format);
        // Build the encodings by hand: the encoder itself refuses the deeper one.
        let encode = |lists: usize| -> Vec<u8> {
            match format {
                Format::Json => [vec![b'['; lists], b"1".to_vec(), vec![b']'; lists]].concat(),
                Format::MessagePack => [vec![0x91; lists], vec![0x01]].concat(),
                _ => [
                    [7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0].repeat(lists),
                    vec![2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
                ]
                .concat(),
            }
        };
        // `max - 1` lists around a scalar is exactly `max` deep.
        let ok: Value = codec.decode(&encode(max - 1)).unwrap();
        assert_eq!(
            tabula_core::Measure::of(&ok, usize::MAX).depth,
            max,
            "{format}"
        );
        let err = codec.decode::<Value>(&encode(max)).unwrap_err();
        assert!(matches!(err, Error::TooDeep { .. }), "{format}: {err}");
    }
}
