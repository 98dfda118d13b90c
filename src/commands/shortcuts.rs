//! `shortcuts`: list, add or remove saved shortcuts.

use anyhow::Result;
use serde_json::Map;

use super::Ctx;
use crate::cli::ShortcutAction;
use crate::config::names::check_name;
use crate::config::profiles::Profiles;
use crate::config::shortcuts::{Shortcut, Shortcuts};
use crate::engine::flags::to_flags;
use crate::error::{Exit, Failure};
use crate::output::{print_json, print_table, table};

pub fn run(ctx: &Ctx, action: Option<ShortcutAction>) -> Result<Exit> {
    match action {
        None => list(ctx),
        Some(ShortcutAction::Add {
            name,
            model,
            profile,
            set,
            description,
            force,
        }) => {
            check_name("shortcut", &name).map_err(Failure::usage)?;
            if let Some(profile) = &profile {
                let profiles = Profiles::load(ctx.paths())?;
                if profiles.get(profile).is_none() {
                    return Err(
                        Failure::usage(format!("profile '{profile}' does not exist"))
                            .hint(format!("known profiles: {}", profiles.names().join(", ")))
                            .into(),
                    );
                }
            }
            let shortcut = Shortcut {
                model,
                profile,
                config_overrides: set.into_iter().collect::<Map<_, _>>(),
                description,
            };
            Shortcuts::update(ctx.paths(), |all| {
                if all.shortcuts.contains_key(&name) && !force {
                    return Err(Failure::usage(format!("shortcut '{name}' already exists"))
                        .hint("pass --force to replace it")
                        .into());
                }
                all.shortcuts.insert(name.clone(), shortcut.clone());
                Ok(())
            })?;
            if ctx.json {
                print_json(&shortcut)?;
            } else {
                ctx.say(format!("saved shortcut '{name}'; use it with 'vllm-mux add-model NAME --shortcut {name}'"));
            }
            Ok(Exit::Success)
        }
        Some(ShortcutAction::Remove { name }) => {
            Shortcuts::update(ctx.paths(), |all| {
                if all.shortcuts.remove(&name).is_none() {
                    all.get(&name)?;
                }
                Ok(())
            })?;
            ctx.say(format!("removed shortcut '{name}'"));
            Ok(Exit::Success)
        }
    }
}

fn list(ctx: &Ctx) -> Result<Exit> {
    let shortcuts = Shortcuts::load(ctx.paths())?;
    if ctx.json {
        print_json(&shortcuts.shortcuts)?;
        return Ok(Exit::Success);
    }
    if shortcuts.shortcuts.is_empty() {
        ctx.say("no shortcuts yet; save one with 'vllm-mux shortcuts add NAME --model ID [--profile P] [--set KEY=VALUE]'");
        return Ok(Exit::Success);
    }
    let mut t = table([
        "SHORTCUT",
        "MODEL",
        "PROFILE",
        "ENGINE FLAGS",
        "DESCRIPTION",
    ]);
    for (name, s) in &shortcuts.shortcuts {
        t.add_row([
            name.clone(),
            s.model.clone(),
            s.profile.clone().unwrap_or_else(|| "-".into()),
            to_flags(&s.config_overrides).join(" "),
            s.description.clone().unwrap_or_default(),
        ]);
    }
    print_table(t, &[]);
    Ok(Exit::Success)
}
