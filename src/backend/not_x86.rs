//! Off x86-64 the x86 backends exist as table rows only: their tokens are never detected. (This
//! file stands for both x86 modules there; each uses its own token.)

use super::{Isa, VectorOp};

macro_rules! absent {
    ($token:ident, $name:literal, $lanes:literal) => {
        /// A token that cannot be made off x86-64.
        #[derive(Clone, Copy, Debug)]
        pub(crate) enum $token {}

        impl Isa for $token {
            const NAME: &'static str = $name;
            const LANES: usize = $lanes;
            const NATIVE_16_BIT: bool = true;
            fn detect() -> Option<$token> {
                None
            }
            fn run<Op: VectorOp>(self, _op: Op) {
                match self {}
            }
        }
    };
}

absent!(Avx2, "avx2", 8);
absent!(Avx512, "avx512", 16);
