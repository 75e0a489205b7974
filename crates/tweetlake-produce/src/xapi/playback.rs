//! A local HTTP server that plays recorded X API responses back, one scripted reply per request:
//! status replies (401, 429, rules JSON) and streams sent in chunks with pauses, ending in a clean
//! close, an abrupt cut, or silence. The stream tests and offline demos point `base_url` at it.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A whole response: status, extra headers, body; then the connection closes.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `200` with a chunked body: each chunk after its pause, then `end`.
    Stream {
        chunks: Vec<(Duration, Vec<u8>)>,
        end: StreamEnd,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The last chunk, then close (a server-side disconnect).
    Close,
    /// Close the socket mid-body, without the last chunk (a network drop).
    Cut,
    /// Keep the connection open and send nothing (a stall), until the server stops.
    Silence,
}

impl Reply {
    /// A JSON reply with `status`.
    pub fn json(status: u16, body: &str) -> Self {
        Reply::Status {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Lower-case header names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: std::time::Instant,
}

type Script = Arc<Mutex<Vec<(String, String, VecDeque<Reply>)>>>;

/// The running server; stops when dropped.
pub struct PlaybackServer {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    stop: Arc<AtomicBool>,
}

impl PlaybackServer {
    /// Serves `script`: (method, path, replies). A request takes the next reply of the first entry
    /// whose method matches and whose path its target starts with; the last reply repeats.
    pub fn start(script: Vec<(&str, &str, Vec<Reply>)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let script: Script = Arc::new(Mutex::new(
            script
                .into_iter()
                .map(|(m, p, r)| (m.to_string(), p.to_string(), r.into()))
                .collect(),
        ));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (script, seen, stop) = (script.clone(), s.clone(), st.clone());
                thread::spawn(move || {
                    // A client that goes away mid-reply is part of what is being tested.
                    let _ = serve(conn, &script, &seen, &stop);
                });
            }
        });
        Ok(Self { addr, seen, stop })
    }

    /// `http://127.0.0.1:PORT`, the `base_url` to give the client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for PlaybackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    conn: TcpStream,
    script: &Script,
    seen: &Mutex<Vec<SeenRequest>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let request = read_request(&mut reader)?;
    let reply = {
        let mut script = script.lock().map_err(|_| std::io::ErrorKind::Other)?;
        let entry = script
            .iter_mut()
            .find(|(m, p, _)| *m == request.method && request.target.starts_with(p.as_str()));
        match entry {
            Some((_, _, replies)) if replies.len() > 1 => replies.pop_front(),
            Some((_, _, replies)) => replies.front().cloned(),
            None => None,
        }
    };
    if let Ok(mut s) = seen.lock() {
        s.push(request);
    }
    let mut out = conn;
    match reply.unwrap_or_else(|| Reply::json(404, r#"{"title":"Not Found"}"#)) {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("connection: close\r\n\r\n");
            out.write_all(head.as_bytes())?;
            out.write_all(&body)?;
        }
        Reply::Stream { chunks, end } => {
            out.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
            )?;
            for (pause, chunk) in chunks {
                thread::sleep(pause);
                out.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                out.write_all(&chunk)?;
                out.write_all(b"\r\n")?;
                out.flush()?;
            }
            match end {
                StreamEnd::Close => out.write_all(b"0\r\n\r\n")?,
                StreamEnd::Cut => {}
                StreamEnd::Silence => {
                    while !stop.load(Ordering::Relaxed) {
                        thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        }
    }
    out.flush()?;
    out.shutdown(std::net::Shutdown::Both)
}

fn read_request(reader: &mut impl BufRead) -> std::io::Result<SeenRequest> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_lowercase(), v.trim().to_string());
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(SeenRequest {
        method,
        target,
        headers,
        body,
        at: std::time::Instant::now(),
    })
}
