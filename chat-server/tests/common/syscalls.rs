//! Reading an `strace -f -ttt -T -yy` log into the few facts a durability check needs:
//! which marked messages were written to which file, when files were synced, and when a
//! response left through a socket.

use std::collections::HashMap;

/// One finished system call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Its name (`pwrite64`, `fdatasync`, …).
    pub name: String,
    /// What its first argument's descriptor refers to (`/path`, `TCP:[a:1->b:2]`), if shown.
    pub target: String,
    /// Start and end, in seconds since the epoch.
    pub start: f64,
    /// See `start`.
    pub end: f64,
    /// The arguments as strace printed them (buffers included).
    pub args: String,
    /// The return value, when it is a number.
    pub result: Option<i64>,
}

/// Parses a log, joining `<unfinished ...>` calls with their `<... resumed>` halves.
pub fn parse(log: &str) -> Vec<Call> {
    let mut pending: HashMap<&str, (f64, String)> = HashMap::new();
    let mut calls = Vec::new();
    for line in log.lines() {
        // strace pads the pid column, so fields are split on runs of spaces.
        let Some((pid, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Some((time, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(time) = time.parse::<f64>() else {
            continue;
        };
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, (time, head.to_owned()));
            continue;
        }
        let (start, text) = match rest.strip_prefix("<... ") {
            Some(resumed) => {
                let Some((start, head)) = pending.remove(pid) else {
                    continue;
                };
                let tail = resumed.split_once(" resumed>").map_or("", |(_, tail)| tail);
                (start, head + tail)
            }
            None => (time, rest.to_owned()),
        };
        if let Some(call) = finish(start, &text) {
            calls.push(call);
        }
    }
    calls
}

/// `name(args) = result <duration>` into a [`Call`].
fn finish(start: f64, text: &str) -> Option<Call> {
    let (name, args) = text.split_once('(')?;
    let duration = text
        .rsplit_once('<')
        .and_then(|(_, d)| d.strip_suffix('>'))
        .and_then(|d| d.parse::<f64>().ok())
        .unwrap_or(0.0);
    let target = args
        .split_once('<')
        .filter(|(fd, _)| fd.chars().all(|c| c.is_ascii_digit()))
        .and_then(|(_, rest)| match rest.strip_prefix("TCP:[") {
            Some(tcp) => tcp.split_once("]>").map(|(t, _)| format!("TCP:[{t}]")),
            None => rest.split_once('>').map(|(path, _)| path.to_owned()),
        })
        .unwrap_or_default();
    let result = text
        .rsplit_once(") = ")
        .and_then(|(_, result)| result.split_whitespace().next())
        .and_then(|result| result.parse().ok());
    Some(Call {
        name: name.to_owned(),
        target,
        start,
        end: start + duration,
        args: args.to_owned(),
        result,
    })
}

/// The numbers `n` of every `{prefix}{n}z` in `text`.
pub fn markers(text: &str, prefix: &str) -> Vec<u64> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            let digits: String = text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let after = text[at + prefix.len() + digits.len()..].starts_with('z');
            (after && !digits.is_empty()).then(|| digits.parse().ok())?
        })
        .collect()
}
