//! Which files each of `run`'s frequent compactions merges: size tiers, so that a file is
//! rewritten about once per tier instead of at every compaction.
//!
//! Danger: Delta's compaction (delta-rs `optimize`) merges every file below its target size. A
//! partition that grows by a little between compactions (silver at 100 tweets/s gains about a
//! megabyte a minute) is then rewritten whole at every compaction until it reaches the target
//! (`maintain.target_file_size_mb`, 128 MiB): a compaction's work grows with the table, not with
//! what arrived since the last one, and every rewrite leaves a copy that only vacuum deletes.
//! Tiers bound a compaction's work by its tier's size: most compactions merge only files below
//! the first tier, every [`TIER_FACTOR`]th merges files up to that many times larger, and so on
//! up to the target. The first compaction of a process merges up to the target, so a restarted
//! `run` starts from compacted tables whatever its predecessor left.
//!
//! Example, with a first tier of 4 MiB and a target of 128 MiB: compaction 0 merges files below
//! 128 MiB; 1–7 below 4 MiB; 8 below 32 MiB; 9–15 below 4 MiB; …; 64 below 128 MiB.

use std::num::NonZeroU64;

/// How much larger each tier's files are than the tier below, and how much rarer its
/// compactions.
pub const TIER_FACTOR: u64 = 8;

/// The size tiers of a process's compactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionTiers {
    first: NonZeroU64,
    target: NonZeroU64,
}

impl CompactionTiers {
    /// Tiers from `first` bytes up to `target` bytes (the first is at most the target).
    pub fn new(first: NonZeroU64, target: NonZeroU64) -> Self {
        Self {
            first: first.min(target),
            target,
        }
    }

    /// The size below which the `round`th compaction of this process (0 for the first) merges
    /// files, and the largest file it writes.
    pub fn below(&self, round: u64) -> NonZeroU64 {
        if round == 0 {
            return self.target;
        }
        let mut below = self.first;
        let mut every = TIER_FACTOR;
        while below < self.target && round.is_multiple_of(every) {
            below = below.saturating_mul(nonzero(TIER_FACTOR)).min(self.target);
            let Some(next) = every.checked_mul(TIER_FACTOR) else {
                break;
            };
            every = next;
        }
        below
    }
}

fn nonzero(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn tiers(first: u64, target: u64) -> CompactionTiers {
        CompactionTiers::new(nonzero(first), nonzero(target))
    }

    #[test]
    fn most_rounds_merge_the_first_tier_and_every_eighth_a_tier_higher() {
        let t = tiers(4 * MIB, 128 * MIB);
        let below: Vec<u64> = (0..=16).map(|r| t.below(r).get() / MIB).collect();
        assert_eq!(
            below,
            [128, 4, 4, 4, 4, 4, 4, 4, 32, 4, 4, 4, 4, 4, 4, 4, 32]
        );
        // The 64th is the third tier, 256 MiB, capped at the target.
        assert_eq!(t.below(64).get(), 128 * MIB);
        assert_eq!(t.below(128).get(), 128 * MIB);
        assert_eq!(t.below(72).get(), 32 * MIB);
    }

    #[test]
    fn a_first_tier_at_or_above_the_target_is_the_target_every_round() {
        for first in [128 * MIB, 512 * MIB] {
            let t = tiers(first, 128 * MIB);
            assert!((0..100).all(|r| t.below(r).get() == 128 * MIB));
        }
    }

    #[test]
    fn the_largest_rounds_stay_finite() {
        let t = tiers(1, u64::MAX);
        assert_eq!(t.below(u64::MAX).get(), 1);
        // 8^21 divides 2^63; every tier up to 8^21 bytes, the loop stops before overflowing.
        assert_eq!(t.below(1 << 63).get(), 1 << 63);
    }
}
