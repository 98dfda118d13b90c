//! The service manager's notification protocol (sd_notify(3)), so that
//! `start --foreground` runs as a systemd `Type=notify` unit: `READY=1`
//! once every enabled model has settled (what `start` waits for),
//! `STATUS=` with the models' states as they change, `WATCHDOG=1` every
//! half `WatchdogSec=`, and `STOPPING=1` on the way out. Without
//! `NOTIFY_SOCKET` none of this runs.
//!
//! The protocol is one datagram per message to the socket named in the
//! environment; written here rather than taken from the `sd-notify` crate,
//! which does not reach abstract socket addresses (`@name`) and reads the
//! environment again for every message.

use std::ffi::OsStr;
use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::registry::Registry;
use super::state::ModelState;

/// What systemd sets for the main process. Removed from the environment of
/// every process the supervisor starts: only the supervisor speaks for the
/// unit, and an engine that knows the protocol would be refused anyway.
pub const ENV: [&str; 3] = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

pub struct Notifier {
    addr: SocketAddr,
    socket: UnixDatagram,
    /// `WatchdogSec=` of the unit, when it is meant for this process.
    watchdog: Option<Duration>,
}

impl Notifier {
    /// The service manager named by the environment; `Ok(None)` when none
    /// listens (not started by systemd, or not `Type=notify`).
    pub fn from_env() -> io::Result<Option<Notifier>> {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
            return Ok(None);
        };
        let var = |name| std::env::var(name).ok();
        Ok(Some(Notifier {
            addr: address(&path)?,
            socket: UnixDatagram::unbound()?,
            watchdog: watchdog(
                var("WATCHDOG_USEC").as_deref(),
                var("WATCHDOG_PID").as_deref(),
                std::process::id(),
            ),
        }))
    }

    /// Send one message: `KEY=value` lines.
    pub fn send(&self, message: &str) -> io::Result<()> {
        self.socket
            .send_to_addr(message.as_bytes(), &self.addr)
            .map(drop)
    }

    /// The log line that says the service manager is being told.
    pub fn describe(&self) -> String {
        use std::os::linux::net::SocketAddrExt;
        let socket = match (self.addr.as_pathname(), self.addr.as_abstract_name()) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(name)) => format!("@{}", String::from_utf8_lossy(name)),
            (None, None) => "an unnamed socket".to_string(),
        };
        match self.watchdog {
            Some(period) => format!(
                "notifying the service manager at {socket} (READY=1 when the models settle; watchdog ping every {:.1} s)",
                (period / 2).as_secs_f64()
            ),
            None => format!(
                "notifying the service manager at {socket} (READY=1 when the models settle)"
            ),
        }
    }

    /// Tell it the supervisor is stopping its models and will exit.
    pub fn stopping(&self) -> io::Result<()> {
        self.send("STOPPING=1\nSTATUS=stopping the models\n")
    }
}

/// `NOTIFY_SOCKET` is a path, or an abstract address written `@name`.
fn address(value: &OsStr) -> io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    let bytes = value.as_bytes();
    match bytes.first() {
        Some(b'@') => SocketAddr::from_abstract_name(&bytes[1..]),
        Some(b'/') => SocketAddr::from_pathname(value),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "NOTIFY_SOCKET={} is neither an absolute path nor an abstract address (@name)",
                value.to_string_lossy()
            ),
        )),
    }
}

/// The watchdog period: `WATCHDOG_USEC`, unless `WATCHDOG_PID` names
/// another process (then the watchdog is not ours to keep).
fn watchdog(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    if pid.is_some_and(|pid| pid.parse::<u32>().ok() != Some(me)) {
        return None;
    }
    usec?
        .parse::<u64>()
        .ok()
        .filter(|usec| *usec > 0)
        .map(Duration::from_micros)
}

/// The one-line status `systemctl status` shows.
pub fn summary(proxy_url: &str, counts: &[(ModelState, usize)]) -> String {
    if counts.is_empty() {
        return format!("proxy on {proxy_url}; no models");
    }
    let states: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!("proxy on {proxy_url}; models: {}", states.join(", "))
}

/// Keep the service manager told until the supervisor exits: `STATUS=` on
/// every change, `READY=1` once `loaded` is true (or its sender is gone),
/// and a watchdog ping every half period.
pub async fn run(notifier: Arc<Notifier>, reg: Arc<Registry>, mut loaded: watch::Receiver<bool>) {
    let mut changes = reg.changes();
    let mut ping = notifier.watchdog.map(|period| {
        let mut ping = tokio::time::interval(period / 2);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping
    });
    let mut ready = false;
    let mut load_ended = false;
    let mut last = String::new();
    let mut failing = false;
    loop {
        let status = summary(&reg.proxy_url, &reg.state_counts());
        let mut message = String::new();
        if status != last {
            message = format!("STATUS={status}\n");
            last = status;
        }
        if !ready && (load_ended || *loaded.borrow()) {
            message.push_str("READY=1\n");
            ready = true;
        }
        let pinged = tokio::select! {
            biased;
            () = async {}, if !message.is_empty() => false,
            _ = changes.changed() => continue,
            ended = loaded.changed(), if !ready => {
                load_ended = ended.is_err();
                continue;
            }
            () = tick(&mut ping) => true,
        };
        if pinged {
            message = "WATCHDOG=1\n".to_string();
        }
        match notifier.send(&message) {
            Ok(()) => failing = false,
            Err(err) if !failing => {
                failing = true;
                reg.log(&format!("cannot notify the service manager: {err}"));
            }
            Err(_) => {}
        }
    }
}

/// The next watchdog tick, or never without a watchdog.
async fn tick(ping: &mut Option<tokio::time::Interval>) {
    match ping {
        Some(ping) => {
            ping.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_and_an_abstract_name_are_addresses_and_nothing_else_is() {
        let path = address(OsStr::new("/run/systemd/notify")).expect("path");
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        use std::os::linux::net::SocketAddrExt;
        let name = address(OsStr::new("@vllm-mux/notify")).expect("abstract");
        assert_eq!(name.as_abstract_name(), Some(&b"vllm-mux/notify"[..]));
        let err = address(OsStr::new("relative")).expect_err("relative");
        assert!(err.to_string().contains("NOTIFY_SOCKET=relative"), "{err}");
        assert!(address(OsStr::new("")).is_err());
    }

    #[test]
    fn the_watchdog_is_kept_only_when_meant_for_this_process() {
        let period = Some(Duration::from_secs(30));
        assert_eq!(watchdog(Some("30000000"), None, 7), period);
        assert_eq!(watchdog(Some("30000000"), Some("7"), 7), period);
        assert_eq!(watchdog(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog(Some("30000000"), Some("x"), 7), None);
        assert_eq!(watchdog(Some("0"), None, 7), None);
        assert_eq!(watchdog(Some("soon"), None, 7), None);
        assert_eq!(watchdog(None, Some("7"), 7), None);
    }

    #[test]
    fn the_summary_counts_states_ready_first() {
        assert_eq!(
            summary("http://127.0.0.1:8000", &[]),
            "proxy on http://127.0.0.1:8000; no models"
        );
        assert_eq!(
            summary(
                "http://0.0.0.0:8000",
                &[(ModelState::Ready, 2), (ModelState::Failed, 1)]
            ),
            "proxy on http://0.0.0.0:8000; models: 2 ready, 1 failed"
        );
    }

    #[test]
    fn messages_reach_the_socket_named_in_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).expect("bind");
        let notifier = Notifier {
            addr: address(path.as_os_str()).expect("address"),
            socket: UnixDatagram::unbound().expect("socket"),
            watchdog: None,
        };
        notifier.stopping().expect("send");
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], &b"STOPPING=1\nSTATUS=stopping the models\n"[..]);
    }

    #[test]
    fn messages_reach_an_abstract_address() {
        let name = format!("@vllm-mux-test-{}", std::process::id());
        let addr = address(OsStr::new(&name)).expect("address");
        let listener = UnixDatagram::bind_addr(&addr).expect("bind");
        let notifier = Notifier {
            addr,
            socket: UnixDatagram::unbound().expect("socket"),
            watchdog: None,
        };
        notifier.send("READY=1\n").expect("send");
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], &b"READY=1\n"[..]);
    }

    #[test]
    fn the_log_line_names_the_socket_and_the_watchdog() {
        let notifier = |value: &str, watchdog| Notifier {
            addr: address(OsStr::new(value)).expect("address"),
            socket: UnixDatagram::unbound().expect("socket"),
            watchdog,
        };
        assert_eq!(
            notifier("/run/systemd/notify", None).describe(),
            "notifying the service manager at /run/systemd/notify (READY=1 when the models settle)"
        );
        assert_eq!(
            notifier("@sd", Some(Duration::from_secs(30))).describe(),
            "notifying the service manager at @sd (READY=1 when the models settle; watchdog ping every 15.0 s)"
        );
    }
}
