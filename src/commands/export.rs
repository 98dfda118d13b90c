//! `export`: the config as canonical JSON, or as Kubernetes manifests or
//! production-stack values (see `crate::export`), to stdout or a file.

use anyhow::Result;

use super::Ctx;
use crate::cli::ExportArgs;
use crate::config::profiles::Profiles;
use crate::config::store::write_atomic;
use crate::error::{Exit, Failure};
use crate::export::{render, Format, Options, DEFAULT_SECRET, DEFAULT_VLLM_IMAGE};

pub fn run(ctx: &Ctx, args: ExportArgs) -> Result<Exit> {
    let name = ctx.config_name()?;
    let config = ctx.store.load(name)?;
    if let Some(namespace) = &args.namespace {
        check_name("namespace", namespace, false)?;
    }
    if let Some(claim) = &args.hf_cache_claim {
        check_name("--hf-cache-claim", claim, true)?;
    }
    refuse_unused(&args)?;
    let secret = args.secret.unwrap_or_else(|| DEFAULT_SECRET.to_string());
    let vllm_image = args
        .vllm_image
        .unwrap_or_else(|| DEFAULT_VLLM_IMAGE.to_string());
    check_name("--secret", &secret, true)?;
    for (what, image) in [
        ("--image", args.image.as_deref()),
        ("--vllm-image", Some(vllm_image.as_str())),
    ] {
        if let Some(image) = image.filter(|i| i.is_empty() || i.chars().any(char::is_whitespace)) {
            return Err(
                Failure::usage(format!("{what} '{image}' is not an image name"))
                    .hint("name it as docker pulls it, e.g. registry.example.com/vllm-mux:0.1.0")
                    .into(),
            );
        }
    }
    let options = Options {
        config_name: name.to_string(),
        image: args.image.unwrap_or_else(Options::default_image),
        vllm_image,
        namespace: args.namespace,
        hf_cache_claim: args.hf_cache_claim,
        secret,
    };
    let profiles = Profiles::load(ctx.paths())?;
    // The config itself is JSON either way; manifests are JSON with --json.
    let rendered = render(&config, &profiles, args.format, &options, ctx.json)?;
    if !ctx.quiet {
        for note in &rendered.notes {
            eprintln!("note: {note}");
        }
    }
    match &args.output {
        None => print!("{}", rendered.text),
        Some(path) => {
            write_atomic(path, &rendered.text)?;
            if !ctx.json {
                let what = match args.format {
                    Format::Json => "config",
                    Format::Kubernetes => "Kubernetes manifests of config",
                    Format::ProductionStack => "production-stack values of config",
                };
                ctx.say(format!("exported {what} '{name}' to {}", path.display()));
            }
        }
    }
    Ok(Exit::Success)
}

/// An option the format does not use is refused, so that nobody believes
/// it was applied.
fn refuse_unused(args: &ExportArgs) -> Result<()> {
    let given = [
        ("--image", args.image.is_some()),
        ("--vllm-image", args.vllm_image.is_some()),
        ("--namespace", args.namespace.is_some()),
        ("--hf-cache-claim", args.hf_cache_claim.is_some()),
        ("--secret", args.secret.is_some()),
    ];
    for (option, _) in given.iter().filter(|(_, given)| *given) {
        let refusal = match (args.format, *option) {
            (Format::Json, "--image" | "--namespace") => Some((
                format!("{option} is for --format kubernetes; the plain export is the config itself"),
                "add --format kubernetes".to_string(),
            )),
            (Format::Json, _) => Some((
                format!("{option} is for --format kubernetes or production-stack; the plain export is the config itself"),
                "add --format kubernetes (or --format production-stack)".to_string(),
            )),
            (Format::ProductionStack, "--image") => Some((
                "--image is not used by --format production-stack: the chart runs its own router".to_string(),
                "leave it out, or use --format kubernetes to run vllm-mux as the router".to_string(),
            )),
            (Format::ProductionStack, "--namespace") => Some((
                "--namespace is not written into production-stack values".to_string(),
                format!(
                    "give it to helm: helm install vllm vllm/vllm-stack -n {} -f FILE",
                    args.namespace.as_deref().unwrap_or("NAMESPACE")
                ),
            )),
            _ => None,
        };
        if let Some((error, hint)) = refusal {
            return Err(Failure::usage(error).hint(hint).into());
        }
    }
    Ok(())
}

/// A name Kubernetes takes: a DNS label for a namespace (at most 63
/// lowercase letters, digits and '-', a letter or digit at each end); a
/// claim or Secret may also hold '.' and be up to 253 long.
fn check_name(what: &str, name: &str, dots: bool) -> Result<()> {
    let max = if dots { 253 } else { 63 };
    let ok = !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.')
        })
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!("{what} '{name}' is not a Kubernetes name"))
            .hint(format!(
                "use at most {max} lowercase letters, digits{} and '-', with a letter or digit at each end",
                if dots { ", '.'" } else { "" }
            ))
            .into())
    }
}
