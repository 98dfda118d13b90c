//! Human tables (comfy-table) and `--json` printing.

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::config::store::to_canonical_json;

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
