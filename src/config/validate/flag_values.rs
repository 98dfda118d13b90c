//! Values of the `vllm serve` flags whose type is well known, checked when
//! the config is saved rather than when vLLM refuses them at start (minutes
//! later, on a GPU box). Flags not listed here pass through unchecked: vLLM
//! gains flags faster than a list could follow.

use serde_json::Value;

enum Kind {
    /// A whole number.
    Count,
    /// A whole number, or one with a size suffix (`32k`, `32K`, `25.6k`).
    Size,
    /// A number of at least 0.
    Amount,
    Switch,
    OneOf(&'static [&'static str]),
}

const KNOWN: [(&str, Kind); 16] = [
    ("max_model_len", Kind::Size),
    ("max_num_batched_tokens", Kind::Size),
    ("max_num_seqs", Kind::Count),
    ("tensor_parallel_size", Kind::Count),
    ("pipeline_parallel_size", Kind::Count),
    ("data_parallel_size", Kind::Count),
    ("seed", Kind::Count),
    ("max_loras", Kind::Count),
    ("max_lora_rank", Kind::Count),
    ("swap_space", Kind::Amount),
    ("cpu_offload_gb", Kind::Amount),
    ("enforce_eager", Kind::Switch),
    ("enable_prefix_caching", Kind::Switch),
    ("enable_chunked_prefill", Kind::Switch),
    ("trust_remote_code", Kind::Switch),
    (
        "dtype",
        Kind::OneOf(&["auto", "half", "float16", "bfloat16", "float", "float32"]),
    ),
];

/// What is wrong with `value` for the flag `key` (normalized: `max_model_len`),
/// if its type is known: "'abc' is not a whole number". `null` (no flag)
/// is always fine.
pub fn problem(key: &str, value: &Value) -> Option<String> {
    let (_, kind) = KNOWN.iter().find(|(k, _)| *k == key)?;
    if value.is_null() {
        return None;
    }
    let shown = match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    let fits = match kind {
        Kind::Count => value.as_u64().is_some(),
        Kind::Size => value.as_u64().is_some() || value.as_str().is_some_and(is_size),
        Kind::Amount => value.as_f64().is_some_and(|f| f >= 0.0),
        Kind::Switch => value.is_boolean(),
        Kind::OneOf(choices) => value.as_str().is_some_and(|s| choices.contains(&s)),
    };
    if fits {
        return None;
    }
    let wanted = match kind {
        Kind::Count => "a whole number".to_string(),
        Kind::Size => "a whole number (vLLM also takes 32k or 32K)".to_string(),
        Kind::Amount => "a number of at least 0".to_string(),
        Kind::Switch => "true or false".to_string(),
        Kind::OneOf(choices) => format!("one of {}", choices.join(", ")),
    };
    Some(format!("{shown} is not {wanted}"))
}

/// vLLM's human-readable integers: `1000`, `25.6k` (decimal suffixes k, m,
/// g, t take fractions), `32K` (binary suffixes K, M, G, T do not).
fn is_size(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(last) = text.chars().last() else {
        return false;
    };
    let number = &text[..text.len() - last.len_utf8()];
    match last {
        'k' | 'm' | 'g' | 't' => match number.split_once('.') {
            Some((whole, fraction)) => digits(whole) && digits(fraction),
            None => digits(number),
        },
        'K' | 'M' | 'G' | 'T' => digits(number),
        _ => digits(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_vllm_human_readable_integers() {
        for good in ["8192", "32k", "32K", "25.6k", "1M", "2g"] {
            assert!(is_size(good), "{good}");
        }
        for bad in ["", "k", "25.6K", "32kb", "-5", "1.5", "abc", ".5k"] {
            assert!(!is_size(bad), "{bad}");
        }
    }
}
