//! Streaming load for the benchmark: `--concurrency` streams at a time,
//! `--requests` in all, against `--url`. Per stream it records the time to
//! the first body byte, how many reads (body frames) and SSE events it took.
//! Prints one JSON summary line.
//!
//! cargo run --release --example bench-stream -- --url http://127.0.0.1:8000/v1/chat/completions --concurrency 64 --requests 640

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Semaphore;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

struct One {
    ttfb: Duration,
    reads: usize,
    events: usize,
    ok: bool,
}

async fn one(client: reqwest::Client, url: String) -> One {
    let body =
        r#"{"model": "bench", "messages": [{"role": "user", "content": "hi"}], "stream": true}"#;
    let started = Instant::now();
    let mut result = One {
        ttfb: Duration::ZERO,
        reads: 0,
        events: 0,
        ok: false,
    };
    let Ok(response) = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    else {
        return result;
    };
    if !response.status().is_success() {
        return result;
    }
    let mut stream = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return result;
        };
        if result.reads == 0 {
            result.ttfb = started.elapsed();
        }
        result.reads += 1;
        text.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&text);
    result.events = text.matches("\n\n").count();
    result.ok = text.contains("data: [DONE]");
    result
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> std::io::Result<()> {
    let url = arg("--url").unwrap_or_else(|| "http://127.0.0.1:8000/v1/chat/completions".into());
    let concurrency: usize = arg("--concurrency")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let requests: usize = arg("--requests")
        .and_then(|v| v.parse().ok())
        .unwrap_or(concurrency);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()
            .map_err(std::io::Error::other)?;
        let gate = Arc::new(Semaphore::new(concurrency));
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(requests);
        for _ in 0..requests {
            let permit = Arc::clone(&gate)
                .acquire_owned()
                .await
                .map_err(std::io::Error::other)?;
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let result = one(client, url).await;
                drop(permit);
                result
            }));
        }
        let mut results = Vec::with_capacity(requests);
        for task in tasks {
            if let Ok(result) = task.await {
                results.push(result);
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let ok: Vec<&One> = results.iter().filter(|r| r.ok).collect();
        let mut ttfb: Vec<f64> = ok.iter().map(|r| r.ttfb.as_secs_f64() * 1000.0).collect();
        ttfb.sort_by(f64::total_cmp);
        let mean = |f: &dyn Fn(&One) -> usize| {
            if ok.is_empty() {
                0.0
            } else {
                ok.iter().map(|r| f(r)).sum::<usize>() as f64 / ok.len() as f64
            }
        };
        println!(
            "{}",
            json!({
                "requests": requests, "ok": ok.len(), "errors": requests - ok.len(),
                "seconds": elapsed, "streams_per_s": ok.len() as f64 / elapsed,
                "ttfb_p50_ms": percentile(&ttfb, 0.5), "ttfb_p99_ms": percentile(&ttfb, 0.99),
                "reads_per_stream": mean(&|r| r.reads), "events_per_stream": mean(&|r| r.events),
            })
        );
        Ok(())
    })
}
