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

/// For [`print_table`]: no column wraps (the table is made to fit, and
/// long text goes under it).
pub const NO_WRAP: &[usize] = &[usize::MAX];

/// The narrowest a wrapped column may become; narrower, and rows run over.
const MIN_WRAPPED: u16 = 24;

/// Print `table`. On a terminal too narrow for it, the `wrap` columns
/// (the last one when empty: an error, a note) wrap within their width,
/// when that leaves them at least `MIN_WRAPPED` characters, instead of
/// each row running over into the next line. A pipe gets every row on one
/// line, for grep and awk.
pub fn print_table(table: Table, wrap: &[usize]) {
    // Without the padding after each row's last cell: nothing to see,
    // and what makes a row one character too wide.
    for line in arranged(table, terminal_width(), wrap).to_string().lines() {
        println!("{}", line.trim_end());
    }
}

/// Lines of free text under a table, one per label: `heading`, then
/// `  LABEL  text` with the labels aligned. On a terminal the text wraps
/// to its width, under itself; a pipe gets each on one line, for grep.
pub fn print_notes(heading: &str, rows: &[(String, String)]) {
    for line in notes(heading, rows, terminal_width()) {
        println!("{line}");
    }
}

/// Lines (a log's), indented by two; on a terminal each wraps to its
/// width, the rest of it indented by four.
pub fn print_lines(lines: &[String]) {
    let width = terminal_width().map(|w| usize::from(w).saturating_sub(4).max(20));
    for line in lines {
        match width {
            Some(width) => {
                for (i, piece) in wrap(line, width).iter().enumerate() {
                    println!("{}{piece}", if i == 0 { "  " } else { "    " });
                }
            }
            None => println!("  {line}"),
        }
    }
}

fn notes(heading: &str, rows: &[(String, String)], width: Option<u16>) -> Vec<String> {
    if rows.is_empty() {
        return Vec::new();
    }
    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let indent = 2 + label_width + 2;
    let mut out = vec![heading.to_string()];
    for (label, text) in rows {
        let room = width.map(|w| usize::from(w).saturating_sub(indent).max(20));
        let mut pieces = match room {
            Some(room) => wrap(text, room).into_iter(),
            None => vec![text.clone()].into_iter(),
        };
        let first = pieces.next().unwrap_or_default();
        out.push(format!("  {label:label_width$}  {first}"));
        out.extend(pieces.map(|more| format!("{:indent$}{more}", "")));
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a
/// word longer than a line is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let used = line.chars().count();
            let extra = usize::from(used > 0) + word.chars().count();
            if used + extra <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // Alone on its line and still too long: cut it.
            let cut: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(cut);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
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
    fn notes_align_their_labels_and_wrap_only_on_a_terminal() {
        let rows = vec![
            ("a".to_string(), "short".to_string()),
            (
                "longer".to_string(),
                "one two three four five six".to_string(),
            ),
        ];
        assert_eq!(
            notes("why:", &rows, None),
            [
                "why:",
                "  a       short",
                "  longer  one two three four five six"
            ]
        );
        assert_eq!(
            notes("why:", &rows, Some(30)),
            [
                "why:",
                "  a       short",
                "  longer  one two three four",
                "          five six"
            ]
        );
        assert_eq!(wrap("abcdefgh ij", 3), ["abc", "def", "gh", "ij"]);
        assert_eq!(wrap("", 5), [""]);
    }

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
