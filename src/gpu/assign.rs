//! Who may use which GPU. Two enabled models on one GPU is a conflict, unless
//! every model on it sets `gpu_memory_utilization` and the fractions add up
//! to at most [`MAX_SHARED_FRACTION`] (sharing by memory fraction), or they
//! are in one swap group (which runs one member at a time: the group claims
//! the GPU once, with the largest fraction of its members).

use std::collections::BTreeMap;

/// The most of one GPU's memory that models sharing it may claim together.
pub const MAX_SHARED_FRACTION: f64 = 0.95;

/// One enabled model's claim on GPUs.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim<'a> {
    pub model: &'a str,
    pub gpu_ids: &'a [u32],
    /// The model's effective `gpu_memory_utilization`, if it sets one.
    pub memory_fraction: Option<f64>,
    /// Its swap group, unique across the claims checked together.
    pub swap_group: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Conflict {
    /// `later` wants a GPU that `earlier` already holds, and at least one of
    /// the models sharing it does not set a memory fraction.
    Shared {
        gpu: u32,
        earlier: String,
        later: String,
    },
    /// Every model sets a fraction, but together they want too much.
    OverCommitted {
        gpu: u32,
        models: Vec<String>,
        total: f64,
    },
}

impl Conflict {
    /// The model the problem is reported against (the one added last).
    pub fn model(&self) -> &str {
        match self {
            Conflict::Shared { later, .. } => later,
            Conflict::OverCommitted { models, .. } => models.last().map_or("", String::as_str),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Conflict::Shared { gpu, earlier, later } => format!(
                "GPU {gpu} is already used by model '{earlier}'; '{later}' and '{earlier}' may share it only if both set gpu_memory_utilization with a sum of at most {MAX_SHARED_FRACTION}"
            ),
            Conflict::OverCommitted { gpu, models, total } => format!(
                "GPU {gpu} is shared by models {} whose gpu_memory_utilization adds up to {total:.2}, more than {MAX_SHARED_FRACTION}",
                models.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// Every conflict among `claims`, GPU by GPU in index order.
pub fn conflicts(claims: &[Claim<'_>]) -> Vec<Conflict> {
    let mut by_gpu: BTreeMap<u32, Vec<&Claim<'_>>> = BTreeMap::new();
    for claim in claims {
        let mut ids = claim.gpu_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for gpu in ids {
            by_gpu.entry(gpu).or_default().push(claim);
        }
    }
    let mut found = Vec::new();
    for (gpu, holders) in by_gpu {
        let holders = one_per_swap_group(holders);
        if holders.len() < 2 {
            continue;
        }
        let fractions: Option<Vec<f64>> = holders.iter().map(|c| c.memory_fraction).collect();
        match fractions {
            None => {
                let first = holders[0].model.to_string();
                for later in &holders[1..] {
                    found.push(Conflict::Shared {
                        gpu,
                        earlier: first.clone(),
                        later: later.model.to_string(),
                    });
                }
            }
            Some(fractions) => {
                let total: f64 = fractions.iter().sum();
                // A small epsilon so 0.5 + 0.45 counts as 0.95.
                if total > MAX_SHARED_FRACTION + 1e-9 {
                    found.push(Conflict::OverCommitted {
                        gpu,
                        models: holders.iter().map(|c| c.model.to_string()).collect(),
                        total,
                    });
                }
            }
        }
    }
    found
}

/// One GPU's holders, each swap group as one: its first member, with the
/// largest fraction of its members if every one sets a fraction.
pub fn one_per_swap_group<'c, 'a>(holders: Vec<&'c Claim<'a>>) -> Vec<Claim<'a>> {
    let mut merged: Vec<Claim<'a>> = Vec::new();
    let mut fractions: Vec<Option<f64>> = Vec::new();
    for claim in holders {
        let same = claim
            .swap_group
            .and_then(|g| merged.iter().position(|m| m.swap_group == Some(g)));
        match same {
            Some(i) => {
                fractions[i] = match (fractions[i], claim.memory_fraction) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                merged[i].memory_fraction = fractions[i];
            }
            None => {
                fractions.push(claim.memory_fraction);
                merged.push(claim.clone());
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim<'a>(model: &'a str, gpus: &'a [u32], fraction: Option<f64>) -> Claim<'a> {
        Claim {
            model,
            gpu_ids: gpus,
            memory_fraction: fraction,
            swap_group: None,
        }
    }

    fn member<'a>(model: &'a str, gpus: &'a [u32], fraction: Option<f64>) -> Claim<'a> {
        Claim {
            swap_group: Some("g"),
            ..claim(model, gpus, fraction)
        }
    }

    #[test]
    fn a_swap_group_claims_its_gpus_once() {
        assert!(conflicts(&[member("a", &[0], None), member("b", &[0, 1], None)]).is_empty());
        // Against an outsider the group is one holder, named by its first member.
        let found = conflicts(&[
            member("a", &[0], None),
            member("b", &[0], None),
            claim("c", &[0], None),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            matches!(&found[0], Conflict::Shared { earlier, later, .. } if earlier == "a" && later == "c")
        );
        // Shared by fraction: the group wants its largest member's.
        assert!(conflicts(&[
            member("a", &[0], Some(0.3)),
            member("b", &[0], Some(0.5)),
            claim("c", &[0], Some(0.45)),
        ])
        .is_empty());
        let found = conflicts(&[
            member("a", &[0], Some(0.3)),
            member("b", &[0], Some(0.6)),
            claim("c", &[0], Some(0.45)),
        ]);
        assert!(
            matches!(&found[0], Conflict::OverCommitted { total, .. } if (*total - 1.05).abs() < 1e-9),
            "{found:?}"
        );
    }

    #[test]
    fn separate_gpus_do_not_conflict() {
        assert!(conflicts(&[claim("a", &[0], None), claim("b", &[1, 2], None)]).is_empty());
    }

    #[test]
    fn two_models_on_one_gpu_conflict_and_name_both() {
        let found = conflicts(&[claim("a", &[0, 1], None), claim("b", &[1], Some(0.4))]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].model(), "b");
        let msg = found[0].message();
        assert!(
            msg.contains("'a'") && msg.contains("'b'") && msg.contains("GPU 1"),
            "{msg}"
        );
    }

    #[test]
    fn sharing_by_fraction_is_allowed_up_to_the_limit() {
        assert!(conflicts(&[claim("a", &[0], Some(0.5)), claim("b", &[0], Some(0.45))]).is_empty());
    }

    #[test]
    fn sharing_over_the_limit_conflicts() {
        let found = conflicts(&[claim("a", &[0], Some(0.5)), claim("b", &[0], Some(0.5))]);
        assert!(
            matches!(&found[0], Conflict::OverCommitted { total, .. } if (*total - 1.0).abs() < 1e-9)
        );
    }

    #[test]
    fn a_gpu_listed_twice_by_one_model_is_not_a_conflict() {
        assert!(conflicts(&[claim("a", &[0, 0], None)]).is_empty());
    }
}
