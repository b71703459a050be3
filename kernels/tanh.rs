//! # tanh
//!
//! - Forward: tanh x. Derivative: sech²x = 1 − tanh²x. From the output: 1 − y².
//! - Method, forward: a table of 31 intervals of a = |x| (clamped at 9.25, past which tanh rounds
//!   to 1) with a degree-5 polynomial in t = a − centre on each, its coefficients and centre picked
//!   per lane by one 32-entry permute each ([`Vector::lookup32`]; `python3 tools/fit.py tanh`), the
//!   centres chosen so that tanh(centre) is nearly an f32 (Gal's accurate tables: no low part
//!   needed), the sign restored with copysign. No exponential, no division, no blend of two
//!   branches: 7 permutes and 7 fused multiply-adds per vector, about 1.55× the speed of the former
//!   1 − 2u/(1 + u), u = e^{−2|x|}, on AVX-512 (in cache, BENCHMARKS.md); 0.8× on AVX2, where each
//!   32-entry read takes four permutes and three blends.
//! - Method, derivative: [`sech_squared`]: sech²a on 32 intervals of a = |x| ≤ 9 in the same way
//!   (degree 6, its own tables: `python3 tools/fit.py tanh_bell`), and 4u(1 − 2u) with u = e^{−2a}
//!   past 9, through `exp_times`, so it stays accurate where it is tiny (PyTorch's 1 − tanh² returns 0 from
//!   |x| ≈ 9). It replaced 4u/(1 + u)² with u and 1 + u as pairs and a corrected division. From the
//!   output, 1 − y² is one fused multiply-add.
//! - Measured max error (exhaustive, every backend): forward 1.020 ULP (was 1.456), derivative
//!   1.083 ULP (was 0.680; the worst inputs are just past a = 9, in `exp_times`'s rounding), from
//!   the output 0.500 ULP. All 2³² inputs on AVX-512 and AVX2 with the same bits; Scalar and
//!   Portable agree on a stride-61 sweep. Table in `docs/accuracy-exhaustive.md`.
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;
use crate::kernel::{FromOutput, Kernel};
use crate::math::sech_squared;

crate::kernel_params! {
    /// Hyperbolic tangent: `tanh x`, derivative `1 − tanh²x`.
    ///
    /// ```
    /// use actkern::{Apply, Tanh};
    /// let mut y = [0.0f32; 3];
    /// Tanh.forward(&[-1.0, 0.0, f32::INFINITY], &mut y);
    /// assert_eq!(y[1..], [0.0, 1.0]);
    /// assert!((y[0] + 0.7615942).abs() < 1e-7);
    /// ```
    pub struct Tanh;
}

/// The interval of a = min(|x|, A_MAX) is k = round(min(NEAR_SLOPE·a + NEAR_OFFSET, FAR_SLOPE·a +
/// FAR_OFFSET)): one interval at the origin, [0, 1/8), then width 1/12 up to a ≈ 0.61, where tanh
/// curves most, then width 1/2.75 up to interval 30, which starts past 9.0109 where tanh rounds to 1.
/// Below a = 1/24 the index rounds to −1, which [`Vector::lookup32`] reads as entry 31: a copy of
/// entry 0 (this saves clamping the index at 0).
const NEAR_SLOPE: f32 = 12.0;
const NEAR_OFFSET: f32 = -1.0;
const FAR_SLOPE: f32 = 2.75;
const FAR_OFFSET: f32 = 4.625;
/// Inside interval 30 ([9.045, 9.409], the constant 1): clamping there maps ±inf and every larger
/// |x| to it, and keeps the index below 31.
const A_MAX: f32 = 9.25;
/// tanh a = C0 + t·P(t) on each interval, t = a − CENTRE (exact: a is within a factor of two of the
/// centre, or the centre is 0), P of degree 4 with coefficients highest first. Each centre is the
/// f32 near its interval's middle whose tanh is closest to an f32 (Gal's accurate tables), and C0 is
/// that f32: within 0.02 ULP of tanh(centre) on the intervals where it matters, so C0 needs no low
/// part. At the origin C0 = 0 and P's constant is exactly 1, so tanh x = x for tiny x; past 9.045
/// C0 = 1 and P = 0. `python3 tools/fit.py tanh` prints these tables and the max error of the f32
/// evaluation on each interval.
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const CENTRE: [f32; 32] = [0.0, 0.16799592971801758, 0.24864612519741058, 0.3321719169616699, 0.4177226722240448, 0.4988320767879486, 0.6097186803817749, 0.8619361519813538, 1.2301900386810303, 1.5877100229263306, 1.9498982429504395, 2.320848226547241, 2.6866517066955566, 3.049891471862793, 3.415254592895508, 3.7718920707702637, 4.134627342224121, 4.50320291519165, 4.859130859375, 5.23085880279541, 5.5976338386535645, 5.951861381530762, 6.314097881317139, 6.679193019866943, 7.052727222442627, 7.4163641929626465, 7.768459796905518, 8.129091262817383, 8.507271766662598, 8.856363296508789, 9.147727966308594, 0.0];
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const P: [[f32; 32]; 5] = [
    [0.12998753786087036, 0.10409055650234222, 0.0725395455956459, 0.03665924444794655, 0.0020051661413162947, -0.027038559317588806, -0.05274488404393196, -0.059104714542627335, -0.021699298173189163, 0.00034462768235243857, 0.004741093143820763, 0.0036782019305974245, 0.002143705962225795, 0.0011265805223956704, 0.000566172762773931, 0.0002787427802104503, 0.00013590640446636826, 6.595784361707047e-05, 3.193844895577058e-05, 1.544863698654808e-05, 7.46804880691343e-06, 3.6103290312894387e-06, 1.7441780073568225e-06, 8.43153259211249e-07, 3.9852482586866245e-05, 4.8447946028318256e-05, 9.502711861841817e-08, 3.016050686710514e-05, 0.00013365497579798102, 0.00011547657049959525, 0.0, 0.12998753786087036],
    [0.0004724953614640981, 0.10326266288757324, 0.13900800049304962, 0.16198989748954773, 0.17007070779800415, 0.16470573842525482, 0.14183051884174347, 0.06522151827812195, -0.009863912127912045, -0.025173205882310867, -0.01908641681075096, -0.011001355946063995, -0.005763992667198181, -0.002900884486734867, -0.0014239023439586163, -0.0007041309727355838, -0.0003423874732106924, -0.0001641823910176754, -8.064777648542076e-05, -3.8364159991033375e-05, -1.842192250478547e-05, -9.076609785552137e-06, -4.395206815388519e-06, -2.1192472559050657e-06, 4.517240449786186e-05, 5.599841824732721e-05, -2.3941549898154335e-07, -3.536895019351505e-05, 0.00015637821343261749, -0.00013519344793166965, 0.0, 0.0004724953614640981],
    [-0.3333556056022644, -0.2971686124801636, -0.2577059864997864, -0.2069450169801712, -0.1496366411447525, -0.09497091919183731, -0.026387222111225128, 0.07851756364107132, 0.1092483177781105, 0.07894235104322433, 0.04581565782427788, 0.02378987707197666, 0.011917469091713428, 0.005875338334590197, 0.002855749800801277, 0.0014057239750400186, 0.00068200274836272, 0.00032665039179846644, 0.00016039340698625892, 7.627356535522267e-05, 3.6629735404858366e-05, 1.8039674614556134e-05, 8.742041245568544e-06, 4.212056410324294e-06, 1.3384576504904544e-06, 1.606928208275349e-07, 4.768486974171537e-07, -2.69661796892251e-07, -2.1165135422052117e-06, -1.8686549765334348e-06, 0.0, -0.3333556056022644],
    [3.1031325420372013e-07, -0.1618228703737259, -0.2291819006204605, -0.287557989358902, -0.3333754539489746, -0.36309951543807983, -0.38300254940986633, -0.3582805097103119, -0.24434389173984528, -0.14162597060203552, -0.07471408694982529, -0.0371093824505806, -0.018214117735624313, -0.008893136866390705, -0.004302518907934427, -0.0021130396053195, -0.0010240331757813692, -0.0004902362124994397, -0.00024063508317340165, -0.0001144287598435767, -5.4952270147623494e-05, -2.7059324565925635e-05, -1.3112717169860844e-05, -6.317919542198069e-06, -4.523697498370893e-06, -3.3185267511726124e-06, -7.152576699809288e-07, 8.207375685742591e-07, -5.348197191779036e-06, 4.398912551550893e-06, 0.0, 3.1031325420372013e-07],
    [1.0, 0.9722999930381775, 0.9406368136405945, 0.8972983360290527, 0.8439669609069824, 0.7872962355613708, 0.7041411995887756, 0.5138370394706726, 0.2899670898914337, 0.1539725959300995, 0.07780187577009201, 0.037832289934158325, 0.01838417537510395, 0.00893329456448555, 0.004311911296099424, 0.002115322044119239, 0.0010245796293020248, 0.0004903670051135123, 0.00024066904734354466, 0.00011443767289165407, 5.4954747611191124e-05, 2.7060323191108182e-05, 1.3112979104334954e-05, 6.318081887002336e-06, 2.993218458868796e-06, 1.4463981869994313e-06, 7.152557941481064e-07, 3.477136090168642e-07, 1.6320919371537457e-07, 8.119564398612056e-08, 0.0, 1.0],
];
#[rustfmt::skip] // one row per line: the tables are printed by tools/fit.py
const C0: [f32; 32] = [0.0, 0.16643314063549042, 0.243645578622818, 0.32047098875045776, 0.39501017332077026, 0.4611981511116028, 0.5439290404319763, 0.6972538828849792, 0.8426344394683838, 0.9197974801063538, 0.9603114724159241, 0.9809014797210693, 0.9907652735710144, 0.9955233335494995, 0.9978417158126831, 0.9989417791366577, 0.999487578868866, 0.999754786491394, 0.9998796582221985, 0.9999427795410156, 0.9999725222587585, 0.999986469745636, 0.9999934434890747, 0.9999968409538269, 0.9999985098838806, 0.9999992847442627, 0.9999996423721313, 0.9999998211860657, 0.9999999403953552, 0.9999999403953552, 1.0, 0.0];

impl Kernel for Tanh {
    const NAME: &'static str = "tanh";
    const FROM_OUTPUT: FromOutput<Self> = FromOutput::Always;
    const FORMULA: &'static str = "tanh(x); f'(x) = 1 - tanh(x)^2";
    const EXAMPLES: &'static [&'static str] = &["tanh"];

    #[inline(always)]
    fn forward<V: Vector>(&self, x: V) -> V {
        // A NaN x gives a NaN a and index, which reads entry 0, and stays NaN through t.
        let a = x.abs().min_keep_nan(V::splat(A_MAX));
        let k = a
            .mul_add(V::splat(NEAR_SLOPE), V::splat(NEAR_OFFSET))
            .min_keep_nan(a.mul_add(V::splat(FAR_SLOPE), V::splat(FAR_OFFSET)));
        let t = a - V::lookup32(&CENTRE, k);
        let mut rest = V::lookup32(&P[0], k);
        for coefficients in &P[1..] {
            rest = rest.mul_add(t, V::lookup32(coefficients, k));
        }
        // One rounding: C0 + t·P(t) in one fused multiply-add. copysign restores the sign, tanh(−0) =
        // −0 included.
        t.mul_add(rest, V::lookup32(&C0, k)).copysign(x)
    }

    #[inline(always)]
    fn derivative<V: Vector>(&self, x: V) -> V {
        sech_squared(x, 1.0)
    }

    #[inline(always)]
    fn derivative_from_output<V: Vector>(&self, y: V) -> V {
        (-y).mul_add(y, V::splat(1.0))
    }

    fn reference_forward(&self, x: f64) -> f64 {
        crate::reference::tanh(x)
    }
    fn reference_derivative(&self, x: f64) -> f64 {
        crate::reference::tanh_derivative(x)
    }
    fn reference_derivative_from_output(&self, y: f64) -> Option<f64> {
        Some(crate::reference::tanh_derivative_from_output(y))
    }
}
