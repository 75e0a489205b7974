//! The number format NER runs in. bfloat16 halves the work of every matrix product on CPUs
//! with native bf16 arithmetic (AVX512-BF16 / AMX), at a small cost in F1 (README, "Named entities").

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Float32,
    BFloat16,
}

impl Precision {
    /// bfloat16 where this CPU computes it natively, float32 elsewhere (emulated bf16 is slower
    /// than float32).
    pub fn native() -> Self {
        if cpu_has_bf16() {
            Self::BFloat16
        } else {
            Self::Float32
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::BFloat16 => "bfloat16",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_bf16() -> bool {
    std::arch::is_x86_feature_detected!("avx512bf16")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_bf16() -> bool {
    false
}
