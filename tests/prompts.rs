//! The prompts in a pseudo-terminal, as a person meets them.

use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::Expect;

use crate::helper::Env;

const DOWN: &str = "\x1b[B";
const UP: &str = "\x1b[A";
const ENTER: &str = "\r";

fn session(env: &Env, args: &[&str]) -> Session {
    // The same environment as Env's non-interactive runs (fake GPUs too).
    let mut cmd = env.command_for_terminal(args);
    cmd.env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("spawn in a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(15)));
    session
}

fn wait_for(session: &mut Session, text: &str) {
    if let Err(err) = session.expect(text) {
        panic!("never saw {text:?}: {err}");
    }
}

fn answer(session: &mut Session, prompt: &str, keys: &str) {
    wait_for(session, prompt);
    session.send(keys).expect("type");
}

/// Host, port, CORS, metrics, request log: the defaults and "no" to
/// logging. A yes or no is a key and Enter.
fn proxy_defaults(session: &mut Session) {
    answer(session, "Host the proxy listens on", ENTER);
    answer(session, "Proxy port", ENTER);
    answer(session, "CORS", &format!("y{ENTER}"));
    answer(session, "metrics", &format!("y{ENTER}"));
    answer(session, "Log one line per request", &format!("n{ENTER}"));
}

/// A mock model: name, source (mock is the 5th), alias, port choice.
fn mock_model(session: &mut Session, name: &str, alias: &str) {
    answer(session, "Model name", &format!("{name}{ENTER}"));
    answer(
        session,
        "Where does the model come from?",
        &format!("{}{ENTER}", DOWN.repeat(4)),
    );
    answer(
        session,
        "Alias clients may also send",
        &format!("{alias}{ENTER}"),
    );
}

#[test]
fn init_with_two_models_saved_for_later_writes_the_config() {
    let env = Env::new();
    let mut s = session(&env, &["init"]);
    proxy_defaults(&mut s);
    answer(&mut s, "Add a model (0 so far)", ENTER);
    mock_model(&mut s, "chat", "gpt-4o-mini");
    answer(&mut s, "Port of the model's server", ENTER);
    // With one model, "Done" is preselected: go up to add another.
    answer(&mut s, "Add a model (1 so far)", &format!("{UP}{ENTER}"));
    mock_model(&mut s, "embed", "");
    answer(
        &mut s,
        "Port of the model's server",
        &format!("{DOWN}{ENTER}"),
    );
    // A wrong port is asked again, with the reason.
    answer(&mut s, "Port", &format!("80{ENTER}"));
    wait_for(&mut s, "below 1024");
    s.send(format!("8123{ENTER}")).expect("type");
    answer(&mut s, "Add a model (2 so far)", ENTER);
    answer(&mut s, "What now?", &format!("{DOWN}{ENTER}"));
    wait_for(&mut s, "saved config 'default'");
    let json = env.run(&["--json", "show"]).json();
    let models = &json["config"]["models"];
    assert_eq!(models[0]["name"], "chat");
    assert_eq!(models[0]["engine"], "mock");
    assert_eq!(models[0]["aliases"], serde_json::json!(["gpt-4o-mini"]));
    assert!(models[0]["port"].as_u64().is_some_and(|p| p >= 8001));
    assert_eq!(models[1]["name"], "embed");
    assert_eq!(models[1]["aliases"], serde_json::json!([]));
    assert_eq!(models[1]["port"], 8123);
    assert_eq!(json["config"]["port"], 8000);
    assert_eq!(json["config"]["log_requests"], false);
}

/// Issue 21: the prompts as a newcomer meets them: a port that is not a
/// number is told what a port is; y and Enter answer one question, the
/// Enter is not taken by the next; Esc at a menu cancels, and Ctrl-C
/// there leaves the cursor shown.
#[test]
fn prompts_take_what_people_type() {
    let env = Env::new();
    let mut s = session(&env, &["init"]);
    answer(&mut s, "Host the proxy listens on", ENTER);
    answer(&mut s, "Proxy port", &format!("99999{ENTER}"));
    wait_for(
        &mut s,
        "'99999' is not a port: a whole number from 1 to 65535",
    );
    s.send("\x15").expect("clear the line");
    s.send(format!("80x{ENTER}")).expect("type");
    wait_for(&mut s, "'80x' is not a port");
    s.send("\x15").expect("clear the line");
    s.send(format!("8123{ENTER}")).expect("type");
    // "n" then Enter: the Enter confirms the n.
    answer(&mut s, "CORS", &format!("n{ENTER}"));
    answer(&mut s, "metrics", &format!("n{ENTER}"));
    answer(&mut s, "Log one line per request", &format!("y{ENTER}"));
    // Esc at the menu: cancelled, nothing written.
    answer(&mut s, "Add a model (0 so far)", "\x1b");
    wait_for(&mut s, "cancelled; nothing was saved");
    assert!(env.snapshot().is_empty());
    // Ctrl-C at a menu: the cursor is shown again.
    let mut s = session(&env, &["init"]);
    proxy_defaults(&mut s);
    wait_for(&mut s, "Add a model (0 so far)");
    s.send("\x03").expect("Ctrl-C");
    let rest = s.expect(expectrl::Eof).expect("the end");
    let rest = String::from_utf8_lossy(rest.as_bytes()).into_owned();
    assert!(rest.contains("\x1b[?25h"), "cursor shown again: {rest:?}");
    // The answers of the first session, had it gone on, were kept apart:
    // a typed key and its Enter made one answer each.
    let mut s = session(&env, &["init"]);
    answer(&mut s, "Host the proxy listens on", ENTER);
    answer(&mut s, "Proxy port", &format!("8123{ENTER}"));
    answer(&mut s, "CORS", &format!("n{ENTER}"));
    answer(&mut s, "metrics", &format!("n{ENTER}"));
    answer(&mut s, "Log one line per request", &format!("y{ENTER}"));
    answer(&mut s, "Add a model (0 so far)", &format!("{DOWN}{ENTER}"));
    answer(&mut s, "What now? (no model yet)", ENTER);
    wait_for(&mut s, "saved config 'default'");
    let config = &env.run(&["--json", "show"]).json()["config"];
    assert_eq!(
        (
            &config["port"],
            &config["enable_cors"],
            &config["enable_metrics"],
            &config["log_requests"]
        ),
        (
            &serde_json::json!(8123),
            &serde_json::json!(false),
            &serde_json::json!(false),
            &serde_json::json!(true)
        ),
        "{config}"
    );
}

#[test]
fn init_cancelled_writes_nothing() {
    let env = Env::new();
    let mut s = session(&env, &["init"]);
    proxy_defaults(&mut s);
    answer(&mut s, "Add a model (0 so far)", &format!("{DOWN}{ENTER}"));
    // With no model there is nothing to start: save, or cancel.
    answer(
        &mut s,
        "What now? (no model yet)",
        &format!("{DOWN}{ENTER}"),
    );
    wait_for(&mut s, "nothing was written");
    assert!(
        env.snapshot().is_empty(),
        "cancel wrote {:?}",
        env.snapshot().keys().collect::<Vec<_>>()
    );
}

#[test]
fn init_with_no_model_is_saved_and_points_at_add_model() {
    let env = Env::new();
    let mut s = session(&env, &["init"]);
    proxy_defaults(&mut s);
    answer(&mut s, "Add a model (0 so far)", &format!("{DOWN}{ENTER}"));
    wait_for(&mut s, "What now? (no model yet)");
    let screen = s.expect("Cancel").expect("the choices");
    let shown = String::from_utf8_lossy(screen.before()).into_owned();
    assert!(!shown.contains("start"), "nothing to start: {shown}");
    s.send(ENTER).expect("type");
    wait_for(&mut s, "saved config 'default'");
    wait_for(&mut s, "next: vllm-mux add-model NAME");
}

#[test]
fn add_model_alone_on_a_terminal_asks_and_rechecks_a_bad_port() {
    let env = Env::new();
    env.ok(&["init"]);
    let mut s = session(&env, &["add-model", "chat"]);
    answer(
        &mut s,
        "Where does the model come from?",
        &format!("{}{ENTER}", DOWN.repeat(4)),
    );
    answer(&mut s, "Alias clients may also send", ENTER);
    answer(
        &mut s,
        "Port of the model's server",
        &format!("{DOWN}{ENTER}"),
    );
    answer(&mut s, "Port", &format!("8000{ENTER}"));
    wait_for(&mut s, "the proxy's own port");
    s.send(format!("8124{ENTER}")).expect("type");
    wait_for(&mut s, "added chat (mock, port 8124)");
    // Without a terminal the same command names the flag to pass (exit 2).
    let stderr = env.fails(&["add-model", "other"], 2);
    assert!(stderr.contains("--model"), "{stderr}");
}

#[test]
fn the_gpu_picker_shows_holders_and_asks_again_on_a_conflict() {
    let env = Env::with_gpus(2);
    env.ok(&["init"]);
    env.ok(&["add-model", "a", "--engine", "mock", "--gpus", "0"]);
    let mut s = session(&env, &["add-model", "b"]);
    answer(&mut s, "Where does the model come from?", ENTER);
    answer(&mut s, "Hugging Face id", &format!("org/b{ENTER}"));
    answer(&mut s, "Alias clients may also send", ENTER);
    wait_for(&mut s, "GPU 0: Fake H100");
    wait_for(&mut s, "used by a");
    // GPU 0 is a's: picking it is refused with the reason, then GPU 1 is fine.
    s.send(format!(" {ENTER}")).expect("pick GPU 0");
    wait_for(&mut s, "already used by model 'a'");
    answer(&mut s, "GPUs", &format!("{DOWN} {ENTER}"));
    answer(&mut s, "Port of the model's server", ENTER);
    answer(&mut s, "Profile", ENTER);
    wait_for(&mut s, "added b (vllm, org/b");
    let json = env.run(&["--json", "show"]).json();
    assert_eq!(
        json["config"]["models"][1]["gpu_ids"],
        serde_json::json!([1])
    );
    assert_eq!(json["config"]["models"][1]["profile"], "standard");
}

#[test]
fn no_input_and_yes_never_prompt_even_on_a_terminal() {
    let env = Env::new();
    env.ok(&["init"]);
    for flag in ["--no-input", "--yes"] {
        let mut s = session(&env, &[flag, "add-model", "chat"]);
        wait_for(&mut s, "needs --model ID_OR_PATH");
        match s.get_process_mut().wait().expect("wait") {
            expectrl::process::unix::WaitStatus::Exited(_, code) => assert_eq!(code, 2, "{flag}"),
            other => panic!("{flag}: {other:?}"),
        }
    }
}

/// init up to "What now?" with one mock model and the proxy on a free port.
fn init_with_one_mock(s: &mut Session) -> u16 {
    let port = crate::helper::free_port();
    // A host with its port is asked again, with the reason, as saving would refuse it.
    answer(
        s,
        "Host the proxy listens on",
        &format!("0.0.0.0:8000{ENTER}"),
    );
    wait_for(s, "is not an IP address or a host name");
    s.send(format!("{}127.0.0.1{ENTER}", "\x08".repeat(12)))
        .expect("type");
    answer(s, "Proxy port", &format!("{port}{ENTER}"));
    answer(s, "CORS", &format!("y{ENTER}"));
    answer(s, "metrics", &format!("y{ENTER}"));
    answer(s, "Log one line per request", &format!("n{ENTER}"));
    answer(s, "Add a model (0 so far)", ENTER);
    mock_model(s, "chat", "");
    // A port of our own: the automatic one may be taken by a parallel test
    // by the time this config starts.
    answer(s, "Port of the model's server", &format!("{DOWN}{ENTER}"));
    answer(s, "Port", &format!("{}{ENTER}", crate::helper::free_port()));
    answer(s, "Add a model (1 so far)", ENTER);
    port
}

#[test]
fn start_without_saving_serves_until_ctrl_c_and_writes_no_config() {
    let env = Env::new();
    let mut s = session(&env, &["init"]);
    let port = init_with_one_mock(&mut s);
    answer(&mut s, "What now?", &format!("{DOWN}{DOWN}{ENTER}"));
    wait_for(&mut s, "without saving it; Ctrl-C stops it");
    wait_for(&mut s, "'chat': starting → ready");
    let answer_ = crate::helper::http()
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .json(&serde_json::json!({"model": "chat", "messages": []}))
        .send()
        .expect("request");
    assert_eq!(answer_.status(), 200);
    assert!(!env.config_file("default").exists(), "nothing is saved");
    s.send("\x03").expect("Ctrl-C");
    wait_for(&mut s, "supervisor stopped");
    assert!(!env.home().join("configs").exists(), "still nothing saved");
}

#[test]
fn save_and_start_now_saves_then_starts() {
    let env = Env::new();
    let mut s = session(&env, &["init"]);
    let port = init_with_one_mock(&mut s);
    let started = env.started("default", port);
    answer(&mut s, "What now?", ENTER);
    wait_for(&mut s, "saved config 'default'");
    wait_for(&mut s, "(1 model)");
    wait_for(&mut s, "chat");
    wait_for(&mut s, "ready");
    assert!(env.config_file("default").exists());
    assert_eq!(
        crate::helper::Started::model(&started.status(), "chat")["state"],
        "ready"
    );
}
