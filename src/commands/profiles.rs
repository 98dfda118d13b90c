//! `profiles`: built-in and user profiles.

use anyhow::Result;

use super::Ctx;
use crate::config::profiles::{Profiles, Source};
use crate::engine::flags::to_flags;
use crate::error::Exit;
use crate::output::{print_json, print_table, table};

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let profiles = Profiles::load(ctx.paths())?;
    if ctx.json {
        print_json(&profiles.iter().collect::<Vec<_>>())?;
        return Ok(Exit::Success);
    }
    let mut t = table(["PROFILE", "SOURCE", "DESCRIPTION", "ENGINE FLAGS"]);
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
        t.add_row([
            p.name.clone(),
            source.into(),
            p.spec.description.clone(),
            flags,
        ]);
    }
    print_table(t, &[]);
    ctx.say(format!(
        "\nadd your own as {}/NAME.json: {{\"description\": \"...\", \"config\": {{\"max_model_len\": 8192}}, \"environment\": {{}}}}",
        ctx.paths().profiles_dir().display()
    ));
    Ok(Exit::Success)
}
