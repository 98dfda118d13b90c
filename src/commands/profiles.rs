//! `profiles`: built-in and user profiles.

use anyhow::Result;

use super::Ctx;
use crate::config::profiles::{Profiles, Source};
use crate::engine::flags::to_flags;
use crate::error::Exit;
use crate::output::{print_json, print_notes, print_table, table};

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let profiles = Profiles::load(ctx.paths())?;
    if ctx.json {
        print_json(&profiles.iter().collect::<Vec<_>>())?;
        return Ok(Exit::Success);
    }
    // The flags are long: under the table, which fits 80 columns.
    let mut t = table(["PROFILE", "SOURCE", "DESCRIPTION"]);
    let mut flag_lines = Vec::new();
    for p in profiles.iter() {
        let source = match (p.source, p.shadows_builtin) {
            (Source::Builtin, _) => "built-in",
            (Source::User, false) => "user",
            (Source::User, true) => "user (replaces built-in)",
        };
        let mut flags = to_flags(&p.spec.config).join(" ");
        if !p.spec.environment.is_empty() {
            let env: Vec<String> = p
                .spec
                .environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            flags = format!("{} {flags}", env.join(" ")).trim().to_string();
        }
        t.add_row([p.name.clone(), source.into(), p.spec.description.clone()]);
        if !flags.is_empty() {
            flag_lines.push((p.name.clone(), flags));
        }
    }
    print_table(t, &[2]);
    if !flag_lines.is_empty() {
        println!();
        print_notes("engine flags:", &flag_lines);
    }
    ctx.say(format!(
        "\nadd your own as {}/NAME.json, for example:\n  {{\"description\": \"...\", \"config\": {{\"max_model_len\": 8192}}, \"environment\": {{}}}}",
        ctx.paths().profiles_dir().display()
    ));
    Ok(Exit::Success)
}
