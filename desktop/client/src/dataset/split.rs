//! Which split a group of uploads lands in: a deterministic function of the seed
//! and the group (the source's SHA-256), so an upload and all its outputs, and
//! every upload with the same bytes, land in one split, whatever the order of
//! the listing, the machine or the number of jobs. Fractions are met in
//! expectation (each group is placed on its own), not exactly: with 10,000
//! groups a 10 % split is within about ±0.3 % of 10 % (one standard deviation).

use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// The split that gets the rotations by default, when the spec has one.
pub const TRAIN: &str = "train";

/// Splits and their fractions, in the order given (`train=0.8,val=0.1,test=0.1`).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSpec(Vec<(String, f64)>);

impl Default for SplitSpec {
    fn default() -> Self {
        Self(vec![
            (TRAIN.to_owned(), 0.8),
            ("val".to_owned(), 0.1),
            ("test".to_owned(), 0.1),
        ])
    }
}

impl FromStr for SplitSpec {
    type Err = String;

    /// `name=fraction` pairs separated by commas: names of letters, digits, `-`
    /// and `_`, each once; fractions above 0 that add up to 1.
    fn from_str(spec: &str) -> Result<Self, String> {
        let mut splits: Vec<(String, f64)> = Vec::new();
        for part in spec.split(',') {
            let Some((name, fraction)) = part.trim().split_once('=') else {
                return Err(format!("expected name=fraction, not {part:?}"));
            };
            let name = name.trim();
            let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            if name.is_empty() || !name.chars().all(plain) {
                return Err(format!(
                    "a split's name is letters, digits, - and _: {name:?}"
                ));
            }
            if splits.iter().any(|(seen, _)| seen == name) {
                return Err(format!("the split {name} is named twice"));
            }
            let fraction: f64 = fraction
                .trim()
                .parse()
                .map_err(|_| format!("not a fraction: {fraction:?}"))?;
            if !(fraction > 0.0 && fraction <= 1.0) {
                return Err(format!("a fraction is above 0 and at most 1: {fraction}"));
            }
            splits.push((name.to_owned(), fraction));
        }
        let total: f64 = splits.iter().map(|(_, f)| f).sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(format!("the fractions add up to {total}, not 1"));
        }
        Ok(Self(splits))
    }
}

impl SplitSpec {
    /// The split names, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }

    /// The split that gets every angle by default: `train`, else the first.
    pub fn training(&self) -> &str {
        self.names()
            .find(|name| *name == TRAIN)
            .or_else(|| self.names().next())
            .unwrap_or(TRAIN)
    }

    /// The split of `group` under `seed`: the first 53 bits of
    /// SHA-256(seed as 8 little-endian bytes, then the group) as a number in
    /// [0, 1), placed on the fractions in order.
    pub fn assign(&self, seed: u64, group: &str) -> &str {
        let digest = Sha256::new()
            .chain_update(seed.to_le_bytes())
            .chain_update(group.as_bytes())
            .finalize();
        let mut first = [0_u8; 8];
        first.copy_from_slice(&digest[..8]);
        #[expect(
            clippy::cast_precision_loss,
            reason = "53 bits fit an f64's mantissa exactly"
        )]
        let point = (u64::from_be_bytes(first) >> 11) as f64 / (1_u64 << 53) as f64;
        let mut upto = 0.0;
        for (name, fraction) in &self.0 {
            upto += fraction;
            if point < upto {
                return name;
            }
        }
        // Rounding left the last sliver: the last split.
        self.0.last().map_or(TRAIN, |(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_say_why_not() {
        let spec: SplitSpec = "train=0.8, val=0.1,test=0.1".parse().unwrap();
        assert_eq!(spec, SplitSpec::default());
        assert_eq!(spec.training(), "train");
        let other: SplitSpec = "a=0.5,b=0.5".parse().unwrap();
        assert_eq!(other.training(), "a");
        for bad in [
            "train=0.8",
            "train",
            "x=0.5,x=0.5",
            "a/b=1",
            "a=0,b=1",
            "a=1.5",
        ] {
            assert!(bad.parse::<SplitSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_same_seed_and_group_give_the_same_split_and_fractions_hold() {
        let spec = SplitSpec::default();
        let mut counts = std::collections::HashMap::new();
        for n in 0..10_000 {
            let group = format!("group-{n}");
            let split = spec.assign(7, &group);
            assert_eq!(split, spec.assign(7, &group));
            *counts.entry(split.to_owned()).or_insert(0) += 1;
        }
        // 10,000 draws: a 10 % split is 1,000 ± 30 (one standard deviation).
        assert!((7_850..=8_150).contains(&counts["train"]), "{counts:?}");
        assert!((880..=1_120).contains(&counts["val"]), "{counts:?}");
        assert!((880..=1_120).contains(&counts["test"]), "{counts:?}");
        let moved = (0..1_000)
            .filter(|n| {
                spec.assign(7, &format!("group-{n}")) != spec.assign(8, &format!("group-{n}"))
            })
            .count();
        assert!(moved > 100, "another seed gives another split: {moved}");
    }
}
