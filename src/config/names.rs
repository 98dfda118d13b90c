//! What a name may look like. Config, model, profile and shortcut names
//! become file names and URL path segments, so they are kept plain.

/// Model names that `logs` uses as keywords.
pub const RESERVED_MODEL_NAMES: [&str; 2] = ["proxy", "all"];

const MAX_NAME: usize = 64;
/// Aliases and LoRA names are what clients send; they may contain '/' or ':'.
const MAX_ALIAS: usize = 256;

/// A name of a config, model, profile or shortcut: 1 to 64 letters, digits,
/// '.', '_' or '-', not starting with '.' or '-'.
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{kind} name is empty"));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "{kind} name '{name}' is longer than {MAX_NAME} characters"
        ));
    }
    if name.starts_with('.') || name.starts_with('-') {
        return Err(format!(
            "{kind} name '{name}' must not start with '.' or '-'"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{kind} name '{name}' has '{bad}'; use letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// An alias or LoRA adapter name as clients send it in `model`: 1 to 256
/// printable characters without spaces.
pub fn check_alias(kind: &str, alias: &str) -> Result<(), String> {
    if alias.is_empty() {
        return Err(format!("{kind} is empty"));
    }
    if alias.len() > MAX_ALIAS {
        return Err(format!(
            "{kind} '{alias}' is longer than {MAX_ALIAS} characters"
        ));
    }
    if alias.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{kind} '{alias}' has a space or control character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in ["qwen-7b", "Llama3.1_8B", "a"] {
            assert_eq!(check_name("model", name), Ok(()));
        }
    }

    #[test]
    fn bad_names_say_why() {
        assert!(check_name("model", "").unwrap_err().contains("empty"));
        assert!(check_name("model", "a/b").unwrap_err().contains("'/'"));
        assert!(check_name("model", ".hidden")
            .unwrap_err()
            .contains("start"));
        assert!(check_name("model", &"x".repeat(65))
            .unwrap_err()
            .contains("longer"));
    }

    #[test]
    fn aliases_may_hold_slashes_but_not_spaces() {
        assert_eq!(check_alias("alias", "org/model:latest"), Ok(()));
        assert!(check_alias("alias", "a b").is_err());
        assert!(check_alias("alias", "").is_err());
    }
}
