//! Redis as a [`Store`]: Debian's `redis-server`, started by the benchmark on 127.0.0.1 on a free
//! port with `appendonly yes` and `appendfsync always` (durable) or `everysec`, RDB saves off, and
//! driven through a minimal RESP client (one TCP connection per thread, one request at a time,
//! as an application would, so Redis pays its network round trip as it does for its users).
//!
//! The client is written here rather than taken from the `redis` crate: the benchmark needs
//! `SET`, `GET`, `MSET`, `DBSIZE`, `INFO` and `PING`, which are a few lines of RESP, and the crate
//! would bring its own connection layer into the figures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tabula_peers::data::{key, value};

use crate::Result;
use crate::store::{Contender, Dump, Handle, Store};

/// `redis-server`'s version, or `None` when it is not installed.
pub fn version() -> Option<String> {
    let out = Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // "Redis server v=7.0.15 sha=... malloc=jemalloc-5.3.0 bits=64 build=..."
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .map(str::to_owned)
}

/// A `redis-server` this benchmark started; killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    fsync: &'static str,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl RedisServer {
    /// Starts a server keeping its files in `dir`, with `appendfsync` = `fsync`, and waits until
    /// it answers.
    pub fn start(dir: &Path, fsync: &'static str) -> Result<RedisServer> {
        let mut server = RedisServer {
            child: None,
            port: free_port()?,
            dir: dir.to_owned(),
            fsync,
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<Duration> {
        let start = Instant::now();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--appendonly", "yes", "--appendfsync", self.fsync])
            .args(["--save", "", "--protected-mode", "no", "--daemonize", "no"])
            .args(["--logfile", "redis.log"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        // Up once PING answers PONG: while it loads its append-only file it answers LOADING.
        loop {
            if let Ok(mut conn) = self.connect()
                && let Ok(Reply::Simple(s)) = conn.command(&[b"PING"])
                && s == "PONG"
            {
                return Ok(start.elapsed());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(format!(
                    "redis-server exited ({status}) at start; see {}",
                    self.dir.join("redis.log").display()
                )
                .into());
            }
            if start.elapsed() > Duration::from_secs(600) {
                return Err("redis-server did not answer within 600 s".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// A new connection.
    pub fn connect(&self) -> Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
            out: Vec::new(),
        })
    }

    /// SIGKILLs the server (no shutdown, no final fsync).
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the server again on the same files; how long until it answered (its recovery).
    pub fn restart(&mut self) -> Result<Duration> {
        self.kill()?;
        self.spawn()
    }

    /// `used_memory` from `INFO memory`, in bytes.
    pub fn used_memory(&self) -> Result<u64> {
        let Reply::Bulk(Some(info)) = self.connect()?.command(&[b"INFO", b"memory"])? else {
            return Err("redis: INFO memory gave no text".into());
        };
        let info = String::from_utf8_lossy(&info).into_owned();
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| "redis: INFO memory has no used_memory".into())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Nothing to do about a server that is already gone.
        let _ = self.kill();
    }
}

/// A reply in RESP2.
#[derive(Debug)]
pub enum Reply {
    /// `+OK`.
    Simple(String),
    /// `:1`.
    Int(i64),
    /// `$3 foo`, or `$-1` (`None`).
    Bulk(Option<Vec<u8>>),
    /// `*2 ...` (the benchmark reads none of the elements).
    Array,
}

/// One connection, one request at a time.
pub struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    out: Vec<u8>,
}

impl Conn {
    /// Sends `args` as one command and reads its reply; a Redis error reply is an `Err`.
    pub fn command(&mut self, args: &[&[u8]]) -> Result<Reply> {
        self.out.clear();
        self.out
            .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            self.out
                .extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            self.out.extend_from_slice(a);
            self.out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&self.out)?;
        self.read_reply()
    }

    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err("redis: connection closed".into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    fn read_reply(&mut self) -> Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at_checked(1).ok_or("redis: empty reply line")?;
        match kind {
            "+" => Ok(Reply::Simple(rest.to_owned())),
            "-" => Err(format!("redis: {rest}").into()),
            ":" => Ok(Reply::Int(rest.parse()?)),
            "$" => {
                let len: i64 = rest.parse()?;
                if len < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let mut data = vec![0; usize::try_from(len)? + 2];
                self.reader.read_exact(&mut data)?;
                data.truncate(data.len() - 2);
                Ok(Reply::Bulk(Some(data)))
            }
            "*" => {
                let len: i64 = rest.parse()?;
                for _ in 0..len.max(0) {
                    self.read_reply()?;
                }
                Ok(Reply::Array)
            }
            other => Err(format!("redis: unknown reply type {other:?}").into()),
        }
    }
}

/// Redis with `appendfsync always` (`durable`) or `everysec`. Only when the server is
/// installed: the caller checks [`version`] first.
pub fn contender(durable: bool) -> Contender {
    let fsync = if durable { "always" } else { "everysec" };
    Contender {
        engine: "Redis",
        setting: format!("appendonly yes, appendfsync {fsync}"),
        open: Box::new(move |dir| Ok(Box::new(RedisServer::start(dir, fsync)?) as Box<dyn Store>)),
    }
}

impl Store for RedisServer {
    fn handle(&self) -> Result<Box<dyn Handle + '_>> {
        Ok(Box::new(self.connect()?))
    }

    fn close(mut self: Box<Self>) -> Result<()> {
        // Every workload discards its data afterwards, and Redis with `appendfsync always` has
        // already synced each write: stopping the server is all that is left.
        self.kill()
    }

    fn checkpoint(&self) -> Option<Result<()>> {
        Some(self.rewrite_aof())
    }

    fn dump(&self, _dir: &Path) -> Result<Vec<Dump>> {
        let mut conn = self.connect()?;
        let start = Instant::now();
        conn.command(&[b"SAVE"])?;
        let write_seconds = start.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(self.dir.join("dump.rdb"))?.len();
        Ok(vec![Dump {
            format: "SAVE (RDB)".to_owned(),
            bytes,
            write_seconds,
            load_seconds: None,
        }])
    }

    fn used_memory(&self) -> Option<Result<u64>> {
        Some(RedisServer::used_memory(self))
    }
}

impl RedisServer {
    /// `BGREWRITEAOF`, waited for: Redis's compaction of its log, the counterpart of a checkpoint.
    fn rewrite_aof(&self) -> Result<()> {
        let mut conn = self.connect()?;
        conn.command(&[b"BGREWRITEAOF"])?;
        let start = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(5));
            let Reply::Bulk(Some(info)) = conn.command(&[b"INFO", b"persistence"])? else {
                return Err("redis: INFO persistence gave no text".into());
            };
            let info = String::from_utf8_lossy(&info).into_owned();
            let busy = info.lines().any(|l| {
                l.trim() == "aof_rewrite_in_progress:1" || l.trim() == "aof_rewrite_scheduled:1"
            });
            if !busy {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(600) {
                return Err("redis: AOF rewrite still running after 600 s".into());
            }
        }
    }
}

fn ok(reply: &Reply) -> Result<()> {
    match reply {
        Reply::Simple(s) if s == "OK" => Ok(()),
        other => Err(format!("redis: expected OK, got {other:?}").into()),
    }
}

impl Handle for Conn {
    fn put(&mut self, i: usize) -> Result<()> {
        let reply = self.command(&[b"SET", key(i).as_bytes(), &value(i)])?;
        ok(&reply)
    }

    fn put_batch(&mut self, rows: Range<usize>) -> Result<()> {
        // MSET is one atomic command: Redis's batch commit.
        let pairs: Vec<(String, Vec<u8>)> = rows.map(|i| (key(i), value(i))).collect();
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        for (k, v) in &pairs {
            args.push(k.as_bytes());
            args.push(v);
        }
        let reply = self.command(&args)?;
        ok(&reply)
    }

    fn get(&mut self, i: usize) -> Result<bool> {
        match self.command(&[b"GET", key(i).as_bytes()])? {
            Reply::Bulk(v) => Ok(v.is_some_and(|v| !v.is_empty())),
            other => Err(format!("redis: GET gave {other:?}").into()),
        }
    }

    fn scan(&mut self, _i: usize, _n: usize) -> Result<usize> {
        Err("redis: no ordered range over plain keys".into())
    }

    fn count(&mut self) -> Result<usize> {
        match self.command(&[b"DBSIZE"])? {
            Reply::Int(n) => Ok(usize::try_from(n)?),
            other => Err(format!("redis: DBSIZE gave {other:?}").into()),
        }
    }
}
