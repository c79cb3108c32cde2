//! scratch
use chat_core::conformance::fixtures::{chatting, engine, send};
use std::sync::Arc;
use std::time::Instant;
#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let writers: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    {
        let store = Arc::new(chat_store_sled::SledStore::open(dir.path()).unwrap());
        let engine = engine(store);
        let mut senders = vec![];
        for _ in 0..writers {
            let (v, c) = chatting(&engine, 0).await;
            senders.push((v, c.id));
        }
        let t = Instant::now();
        let per = 8192 / writers;
        let tasks: Vec<_> = senders
            .iter()
            .map(|&(v, c)| {
                let e = engine.clone();
                tokio::spawn(async move {
                    for _ in 0..per {
                        send(&e, &v, c, &"x".repeat(150), None).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let el = t.elapsed();
        println!("{writers} writers: {:.0} msg/s", 8192.0 / el.as_secs_f64());
    }
}
