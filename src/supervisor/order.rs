//! Load order: `loading_priority` ascending, equal values start together,
//! `null` last; a group starts when the one before is ready or failed.

use std::collections::BTreeMap;

use crate::config::ModelConfig;

/// Enabled models' names, grouped in the order their groups start.
pub fn load_groups(models: &[ModelConfig]) -> Vec<Vec<String>> {
    let mut by_priority: BTreeMap<(bool, i64), Vec<String>> = BTreeMap::new();
    for model in models.iter().filter(|m| m.enabled) {
        // (false, p) sorts before (true, 0): priorities first, null last.
        let key = match model.loading_priority {
            Some(p) => (false, p),
            None => (true, 0),
        };
        by_priority.entry(key).or_default().push(model.name.clone());
    }
    by_priority.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, priority: Option<i64>) -> ModelConfig {
        ModelConfig {
            loading_priority: priority,
            ..ModelConfig::new(name)
        }
    }

    #[test]
    fn ascending_groups_with_null_last_in_config_order() {
        let models = [
            model("n1", None),
            model("b", Some(2)),
            model("a", Some(-1)),
            model("b2", Some(2)),
            model("n2", None),
        ];
        assert_eq!(
            load_groups(&models),
            vec![vec!["a"], vec!["b", "b2"], vec!["n1", "n2"]]
        );
    }

    #[test]
    fn disabled_models_are_not_started() {
        let mut off = model("off", Some(0));
        off.enabled = false;
        assert_eq!(load_groups(&[off, model("on", None)]), vec![vec!["on"]]);
    }

    #[test]
    fn no_models_no_groups() {
        assert!(load_groups(&[]).is_empty());
    }
}
