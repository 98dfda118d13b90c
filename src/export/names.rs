//! Kubernetes names for models. A Service name is a DNS label (RFC 1035):
//! lowercase letters, digits and '-', starting with a letter, at most 63
//! characters. Model names may hold capitals, '.' and '_', so a name that
//! had to change gets a short hash of the original, and `Qwen` and `qwen`
//! never meet in one object.

/// The longest DNS label.
const MAX_LABEL: usize = 63;
/// Room kept for a copy's suffix (`-r12`).
const COPY_ROOM: usize = 4;

/// The base name of `model`'s objects: `prefix-model`, as a DNS label
/// with room for a copy's suffix.
pub fn object_name(prefix: &str, model: &str) -> String {
    let wanted = format!("{prefix}-{model}");
    let mut plain: String = wanted
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    while plain.contains("--") {
        plain = plain.replace("--", "-");
    }
    let limit = MAX_LABEL - COPY_ROOM;
    if plain == wanted && plain.len() <= limit {
        return plain;
    }
    let hash = format!("{:06x}", fnv1a(model.as_bytes()) & 0xff_ffff);
    plain.truncate(limit - hash.len() - 1);
    format!("{}-{hash}", plain.trim_end_matches('-'))
}

/// The name of copy `index` of a model (0: the model itself): its
/// Deployment. `vllm-qwen`, `vllm-qwen-r1`, …
pub fn copy_name(base: &str, index: usize) -> String {
    if index == 0 {
        base.to_string()
    } else {
        format!("{base}-r{index}")
    }
}

/// 32-bit FNV-1a: stable across builds and platforms, which a name that
/// lands in a cluster must be.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_dns_label(name: &str) -> bool {
        name.len() <= MAX_LABEL
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    #[test]
    fn a_plain_name_is_kept() {
        assert_eq!(object_name("vllm", "qwen-7b"), "vllm-qwen-7b");
        assert_eq!(copy_name("vllm-qwen-7b", 0), "vllm-qwen-7b");
        assert_eq!(copy_name("vllm-qwen-7b", 2), "vllm-qwen-7b-r2");
    }

    #[test]
    fn a_changed_name_gets_a_hash_so_two_models_never_share_one() {
        let upper = object_name("vllm", "Qwen");
        let lower = object_name("vllm", "qwen");
        assert_ne!(upper, lower);
        assert!(upper.starts_with("vllm-qwen-"), "{upper}");
        let dotted = object_name("vllm", "Llama3.1_8B");
        assert!(dotted.starts_with("vllm-llama3-1-8b-"), "{dotted}");
        assert_ne!(object_name("vllm", "a.b"), object_name("vllm", "a_b"));
    }

    #[test]
    fn every_valid_model_name_becomes_a_dns_label_with_room_for_copies() {
        for model in [
            "a",
            "Qwen2.5-7B-Instruct",
            "x_",
            "9lives",
            "a..b__c",
            &"Long.Name_".repeat(7)[..64],
            &"z".repeat(64),
        ] {
            let base = object_name("vllm", model);
            for index in [0, 1, 99] {
                let name = copy_name(&base, index);
                assert!(is_dns_label(&name), "{model} -> {name}");
            }
        }
    }

    #[test]
    fn the_hash_is_stable() {
        // A cluster holds objects by these names: they must not change
        // between builds.
        assert_eq!(fnv1a(b"Qwen"), 0xb700_9eb6);
        assert_eq!(object_name("vllm", "Qwen"), "vllm-qwen-009eb6");
    }
}
