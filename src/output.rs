//! Human tables (comfy-table) and `--json` printing.

use std::io::IsTerminal;

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table};
use serde::Serialize;

use crate::config::store::to_canonical_json;

/// The config the commands of this run act on, when it is not `default`:
/// every command a message shows for the user to copy gets
/// `--config NAME` ([`for_config`]).
static CONFIG: std::sync::RwLock<Option<String>> = std::sync::RwLock::new(None);

/// The subcommands that act on one config (not `list`, `gpus`, `import`,
/// `profiles`, …): the ones a copied hint must carry `--config` for.
const CONFIG_COMMANDS: [&str; 15] = [
    "init",
    "add-model",
    "edit-model",
    "edit-proxy",
    "remove-model",
    "show",
    "start",
    "status",
    "logs",
    "stop",
    "start-model",
    "wait",
    "reload",
    "export",
    "lora",
];

/// Say which config the commands in messages act on from now on
/// (`default` needs no `--config`).
pub fn set_config(name: &str) {
    let name = (name != crate::commands::DEFAULT_CONFIG).then(|| name.to_string());
    if let Ok(mut config) = CONFIG.write() {
        *config = name;
    }
}

/// `text` with `--config NAME` in every `vllm-mux SUBCOMMAND` that acts on
/// a config and names none, when the config is not `default`: a hint
/// copied from a message about config `NAME` must act on `NAME`.
pub fn for_config(text: &str) -> std::borrow::Cow<'_, str> {
    let name = match CONFIG.read() {
        Ok(config) => match config.as_deref() {
            Some(name) => name.to_string(),
            None => return std::borrow::Cow::Borrowed(text),
        },
        Err(_) => return std::borrow::Cow::Borrowed(text),
    };
    const BIN: &str = "vllm-mux ";
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(at) = rest.find(BIN) {
        let after = &rest[at + BIN.len()..];
        out.push_str(&rest[..at + BIN.len()]);
        let word = after
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .next()
            .unwrap_or("");
        if CONFIG_COMMANDS.contains(&word) {
            out.push_str("--config ");
            out.push_str(&name);
            out.push(' ');
        }
        rest = after;
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// A `warning:` or `note:` line on stderr, its commands for this config.
pub fn warn(line: &str) {
    eprintln!("{}", for_config(line));
}

/// A borderless table, like `kubectl get`: easy to read and to grep.
pub fn table<I, S>(headers: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers);
    table
}

/// The narrowest a wrapped column may become; narrower, and rows run over.
const MIN_WRAPPED: u16 = 24;

/// Print `table`. On a terminal too narrow for it, the `wrap` columns
/// (the last one when empty: an error, a note) wrap within their width,
/// when that leaves them at least `MIN_WRAPPED` characters, instead of
/// each row running over into the next line. A pipe gets every row on one
/// line, for grep and awk.
pub fn print_table(table: Table, wrap: &[usize]) {
    println!("{}", arranged(table, terminal_width(), wrap));
}

/// `table` arranged for a terminal `width` columns wide (`None`: not a
/// terminal), as [`print_table`] says.
fn arranged(mut table: Table, width: Option<u16>, wrap: &[usize]) -> Table {
    if let Some(width) = width {
        let widths = table.column_max_content_widths();
        let last = widths.len().saturating_sub(1);
        let wraps = |i: usize| {
            if wrap.is_empty() {
                i == last
            } else {
                wrap.contains(&i)
            }
        };
        // Each column is padded by a space on either side.
        let padded = |w: u16| w.saturating_add(2);
        let total: u16 = widths.iter().map(|w| padded(*w)).sum();
        let fixed: u16 = (0..widths.len())
            .map(|i| if wraps(i) { 2 } else { padded(widths[i]) })
            .sum();
        let wrapping = (0..widths.len()).filter(|i| wraps(*i)).count() as u16;
        let room = width.saturating_sub(fixed);
        if total > width && wrapping > 0 && room / wrapping >= MIN_WRAPPED {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width);
            for (i, column) in table.column_iter_mut().enumerate() {
                if !wraps(i) {
                    column.set_constraint(ColumnConstraint::ContentWidth);
                }
            }
        }
    }
    table
}

/// The width of the terminal stdout is, if it is one.
fn terminal_width() -> Option<u16> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(&stdout)
        .ok()
        .map(|size| size.ws_col)
        .filter(|cols| *cols > 0)
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    print!("{}", to_canonical_json(value)?);
    Ok(())
}

/// Print a value as one line of JSON on stdout, flushed at once (for
/// JSON Lines streams such as `status --json --watch`).
pub fn print_json_line<T: Serialize>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// How long, at a glance, in its two largest units: `42s`, `13m5s`,
/// `3h2m`, `2d4h`.
pub fn short_duration(secs: u64) -> String {
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let (major, major_unit, minor, minor_unit) = if days > 0 {
        (days, "d", hours, "h")
    } else if hours > 0 {
        (hours, "h", minutes, "m")
    } else if minutes > 0 {
        (minutes, "m", seconds, "s")
    } else {
        return format!("{seconds}s");
    };
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

/// `[0, 1]` → `0,1`; empty → `-`.
pub fn join_or_dash<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `1 model`, `3 models`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

pub fn on_off(flag: bool) -> &'static str {
    if flag {
        "on"
    } else {
        "off"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_commands_carry_the_config_they_are_about() {
        set_config("bad");
        assert_eq!(
            for_config("see why with 'vllm-mux logs broken'; or 'vllm-mux --config x stop'"),
            "see why with 'vllm-mux --config bad logs broken'; or 'vllm-mux --config x stop'"
        );
        assert_eq!(
            for_config("next: vllm-mux add-model NAME; see 'vllm-mux gpus'; this vllm-mux cannot read"),
            "next: vllm-mux --config bad add-model NAME; see 'vllm-mux gpus'; this vllm-mux cannot read"
        );
        set_config("default");
        assert_eq!(
            for_config("'vllm-mux logs broken'"),
            "'vllm-mux logs broken'"
        );
    }

    fn wide() -> Table {
        let mut t = table(["MODEL", "STATE", "LAST ERROR"]);
        t.add_row([
            "qwen",
            "failed",
            "exited with code 1 before it was ready: CUDA out of memory",
        ]);
        t.add_row(["llama", "ready", ""]);
        t
    }

    fn widest_line(t: &Table) -> usize {
        t.to_string()
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_table_wraps_its_last_column_to_the_terminal_only_when_that_leaves_room() {
        // Not a terminal: one line per row, however long.
        let piped = arranged(wide(), None, &[]);
        assert_eq!(piped.to_string().lines().count(), 3);
        // A narrow terminal: the error wraps, the other columns stay whole.
        let narrow = arranged(wide(), Some(50), &[]);
        assert!(widest_line(&narrow) <= 50, "{narrow}");
        assert!(narrow.to_string().lines().count() > 3, "{narrow}");
        assert!(narrow.to_string().contains(" failed "), "{narrow}");
        // Too narrow to leave the error 24 characters: rows run over as before.
        let tiny = arranged(wide(), Some(30), &[]);
        assert_eq!(tiny.to_string().lines().count(), 3);
        // Wide enough: untouched.
        let roomy = arranged(wide(), Some(200), &[]);
        assert_eq!(roomy.to_string(), piped.to_string());
    }

    #[test]
    fn durations_read_at_a_glance() {
        for (secs, text) in [
            (0, "0s"),
            (42, "42s"),
            (60, "1m"),
            (785, "13m5s"),
            (3_600, "1h"),
            (11_000, "3h3m"),
            (86_400, "1d"),
            (187_200, "2d4h"),
        ] {
            assert_eq!(short_duration(secs), text, "{secs}");
        }
    }

    #[test]
    fn join_or_dash_shows_a_dash_for_nothing() {
        assert_eq!(join_or_dash::<u32>(&[]), "-");
        assert_eq!(join_or_dash(&[0, 1]), "0,1");
    }

    #[test]
    fn plural_counts() {
        assert_eq!(plural(1, "model"), "1 model");
        assert_eq!(plural(0, "model"), "0 models");
    }

    #[test]
    fn table_has_headers_and_rows() {
        let mut t = table(["NAME", "PORT"]);
        t.add_row(["a", "8001"]);
        let text = t.to_string();
        assert!(text.contains("NAME") && text.contains("8001"), "{text}");
    }
}
