//! `models`: models already downloaded into the Hugging Face cache.

use anyhow::Result;

use super::Ctx;
use crate::error::Exit;
use crate::models::{hub_cache, human_size, scan};
use crate::output::{print_json, print_table, table};

pub fn run(ctx: &Ctx) -> Result<Exit> {
    let Some(cache) = hub_cache() else {
        ctx.say("no Hugging Face cache folder: set HF_HOME or HF_HUB_CACHE");
        return Ok(Exit::Success);
    };
    let models = scan(&cache);
    if ctx.json {
        print_json(&models)?;
        return Ok(Exit::Success);
    }
    if models.is_empty() {
        ctx.say(format!(
            "no models in {} yet; 'vllm serve ORG/NAME' downloads one on first start",
            cache.display()
        ));
        return Ok(Exit::Success);
    }
    let mut t = table(["MODEL", "SIZE", "COMPLETE", "PATH"]);
    for m in &models {
        t.add_row([
            m.id.clone(),
            human_size(m.size_bytes),
            if m.complete {
                "yes".into()
            } else {
                "no (no config.json)".into()
            },
            m.path
                .as_ref()
                .map_or("-".into(), |p| p.display().to_string()),
        ]);
    }
    print_table(t, &[]);
    ctx.say(format!(
        "\nfrom {}; add one with 'vllm-mux add-model NAME --model MODEL'",
        cache.display()
    ));
    Ok(Exit::Success)
}
