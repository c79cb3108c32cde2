//! Offline email end to end: a real `chat-server` process sends through a real SMTP server
//! process (Python's `aiosmtpd`, writing every message it receives to a maildir), on sled
//! and on PostgreSQL.
//!
//! A visitor who left an address gets no email while its WebSocket is open; once it has
//! been gone for `--email-after`, one email carries the agent's unread reply, a link back
//! and an unsubscribe link; another reply in the same absence sends nothing; after the
//! visitor came back and left again, the next reply sends one email quoting every unread
//! reply; after the unsubscribe link's button, nothing more is sent.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::process::{free_port, http, login, spawn_via};
use common::scratch::ScratchDatabase;
use common::ws_client::Client;
use serde_json::{Value, json};

/// The delay the server is started with (seconds).
const EMAIL_AFTER: &str = "2";
const PUBLIC_URL: &str = "http://chat.example.test";

/// `aiosmtpd` on a free port, delivering into `maildir` (testkit checked it is installed).
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(maildir: &Path) -> Self {
        let port = free_port();
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn aiosmtpd");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self {
                    child,
                    port,
                    maildir: maildir.to_owned(),
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start listening");
    }

    /// Every message received so far, oldest first, as raw text.
    fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| {
                (
                    e.metadata().and_then(|m| m.modified()).expect("mtime"),
                    e.path(),
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| std::fs::read_to_string(path).expect("message"))
            .collect()
    }

    /// Waits until `count` messages arrived (panics after 20 s), then returns them.
    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {count} emails, got {:?}", self.messages());
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A message's body, decoded from quoted-printable when the message says so.
fn body(message: &str) -> String {
    let (headers, body) = message
        .split_once("\n\n")
        .or_else(|| message.split_once("\r\n\r\n"))
        .expect("headers and body");
    if !headers.contains("quoted-printable") {
        return body.replace("\r\n", "\n");
    }
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let mut decoded = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            decoded.push(byte);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(decoded)
        .expect("utf-8")
        .replace("\r\n", "\n")
}

/// The value of header `name` (unfolded).
fn header(message: &str, name: &str) -> Option<String> {
    let unfolded = message
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

async fn send(
    address: SocketAddr,
    token: &str,
    conversation: &str,
    sender: &str,
    text: &str,
) -> Value {
    let body = json!({"conversationId": conversation, "senderType": sender,
        "message": text, "timestamp": "2026-01-01T00:00:00Z"});
    let (status, reply) = http(address, "POST", "/api/messages/send", Some(token), &body).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

async fn offline_email(database_url: Option<&str>) {
    let mail = tempfile::tempdir().expect("maildir");
    let smtp = SmtpServer::start(&mail.path().join("maildir"));
    let data = tempfile::tempdir().expect("data dir");
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let options = [
        "--smtp-url",
        smtp_url.as_str(),
        "--email-from",
        "Support <support@example.com>",
        "--email-after",
        EMAIL_AFTER,
        "--public-url",
        PUBLIC_URL,
    ];
    let (mut server, address) = spawn_via(None, data.path(), database_url, &options);
    let owner = login(address).await;

    let (_, session) = http(address, "POST", "/api/sessions/visitor", None, &json!({})).await;
    let visitor = session["token"].as_str().expect("token").to_owned();
    let customer = session["customerId"].as_str().expect("customer").to_owned();
    let (_, created) = http(
        address,
        "POST",
        "/api/conversations",
        Some(&visitor),
        &json!({}),
    )
    .await;
    let conversation = created["conversation"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/visitors/{customer}/email");
    let (status, left) = http(
        address,
        "PUT",
        &path,
        Some(&visitor),
        &json!({"email": "Visitor@Example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(left["visitor"]["email"], "visitor@example.com");
    send(
        address,
        &visitor,
        &conversation,
        "customer",
        "my order is late",
    )
    .await;

    // Here, with a socket open: nothing, however long the reply stays unread.
    let socket = Client::connect(address, &visitor).await;
    send(
        address,
        &owner,
        &conversation,
        "admin",
        "Sorry! Checking now.",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(smtp.messages().is_empty(), "{:?}", smtp.messages());

    // Gone: one email after the delay.
    drop(socket);
    let first = smtp.wait_for(1).await.remove(0);
    assert_eq!(header(&first, "To").as_deref(), Some("visitor@example.com"));
    assert!(
        header(&first, "From")
            .expect("from")
            .contains("support@example.com")
    );
    assert_eq!(
        header(&first, "Subject").as_deref(),
        Some("You have a new reply")
    );
    let text = body(&first);
    assert!(text.contains("> Sorry! Checking now."), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC_URL}/widget?conversation={conversation}")),
        "{text}"
    );
    // The link back signs the visitor in (on any device): its token reads the conversation.
    let resume = text
        .split_once(&format!("#resume={customer}."))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .expect("a resume token in the link back")
        .to_owned();
    let (status, opened) = http(
        address,
        "GET",
        &format!("/api/conversations/{conversation}"),
        Some(&resume),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{opened}");
    let unsubscribe = header(&first, "List-Unsubscribe").expect("List-Unsubscribe");
    let unsubscribe = unsubscribe
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert!(unsubscribe.starts_with(&format!(
        "{PUBLIC_URL}/api/visitors/{customer}/unsubscribe?token="
    )));
    assert!(text.contains(&unsubscribe), "{text}");
    assert_eq!(
        header(&first, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    // Another reply in the same absence: nothing more.
    send(address, &owner, &conversation, "admin", "Found it.").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(smtp.messages().len(), 1, "one email per quiet period");

    // Back (without reading) and gone again: the next reply sends one email with all three.
    drop(Client::connect(address, &visitor).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(
        address,
        &owner,
        &conversation,
        "admin",
        "It ships tomorrow.",
    )
    .await;
    let second = smtp.wait_for(2).await.remove(1);
    assert_eq!(
        header(&second, "Subject").as_deref(),
        Some("You have 3 new replies")
    );
    let text = body(&second);
    let order: Vec<usize> = ["Sorry! Checking now.", "Found it.", "It ships tomorrow."]
        .iter()
        .map(|reply| {
            text.find(reply)
                .unwrap_or_else(|| panic!("{reply} in {text}"))
        })
        .collect();
    assert!(order.is_sorted(), "oldest first: {text}");

    // The unsubscribe link: a page with a button (following the link changes nothing), then
    // the button.
    let link = unsubscribe.strip_prefix(PUBLIC_URL).expect("path");
    let page = raw(address, "GET", link).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<form method=\"post\""), "{page}");
    let (status, wrong) = http(
        address,
        "POST",
        &format!("/api/visitors/{customer}/unsubscribe?token=wrong"),
        None,
        &json!({}),
    )
    .await;
    assert_eq!(status, 404, "{wrong}");
    let done = raw(address, "POST", link).await;
    assert!(done.starts_with("HTTP/1.1 200"), "{done}");
    let (_, record) = http(
        address,
        "GET",
        &format!("/api/visitors/{customer}"),
        Some(&visitor),
        &json!({}),
    )
    .await;
    assert_eq!(record["visitor"]["emailUnsubscribed"], true, "{record}");

    drop(Client::connect(address, &visitor).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(address, &owner, &conversation, "admin", "Anything else?").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(smtp.messages().len(), 2, "nothing after unsubscribing");

    server.kill().expect("stop");
    server.wait().expect("reaped");
}

/// A bodiless request; the raw response.
async fn raw(address: SocketAddr, method: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

async fn offline_email_on_sled() {
    offline_email(None).await;
}

async fn offline_email_on_postgres() {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let database = ScratchDatabase::create(&url, &format!("chat_email_{}", std::process::id()));
    offline_email(Some(&database.url)).await;
}

fn main() {
    testkit::Suite::new()
        .add("offline_email_on_sled", &[testkit::Needs::Aiosmtpd], |_| {
            offline_email_on_sled()
        })
        .add(
            "offline_email_on_postgres",
            &[testkit::Needs::Aiosmtpd, testkit::Needs::Postgres],
            |_| offline_email_on_postgres(),
        )
        .run();
}
