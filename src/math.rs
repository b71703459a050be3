//! Elementary functions shared by the kernels, written once over [`Vector`].
//!
//! Everything here is built from operations that round once, so every backend with fused
//! multiply-add computes the same bits. Error figures are for the function alone, measured by
//! the exhaustive sweep (`cargo run --release --example accuracy`) through the kernels that use
//! them.
#![allow(clippy::excessive_precision)]

use crate::backend::Vector;

/// log₂(e).
const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// ln 2 split so that `n · LN2_HI` is exact for |n| < 2¹⁵ (9 significant bits; Cody & Waite).
const LN2_HI: f32 = 0.693_359_375;
/// ln 2 − `LN2_HI`.
const LN2_LO: f32 = -2.121_944_400_546_905_827_68e-4;

/// Minimax coefficients of (eʳ − 1 − r) / r² on |r| ≤ ln2 / 2 (Cephes `expf`).
const EXP_P: [f32; 6] = [
    1.987_569_150_0e-4,
    1.398_199_950_7e-3,
    8.333_451_907_3e-3,
    4.166_579_589_4e-2,
    1.666_666_545_9e-1,
    5.000_000_120_1e-1,
];

/// Below this, eˣ·c rounds to 0 for every factor the kernels use (c ≤ 2¹¹ outside the scaled
/// gelu path, which never gets here): e⁻¹²⁰ = 2⁻¹⁷³. Clamping here keeps n ≥ −173, so the
/// two-step scaling stays within normal exponents, and makes limits at −inf exactly 0.
const EXP_MIN_X: f32 = -120.0;
/// Above ln(f32::MAX) ≈ 88.7228 eˣ overflows; clamping just past it keeps n ≤ 128, so the
/// two-step scaling still produces +inf.
const EXP_MAX_X: f32 = 88.75;

/// Below this |x|, expm1(x) rounds to x (the next term, x²/2, is under half an ULP).
const TINY_EXPM1: f32 = 2.980_232_2e-8; // 2⁻²⁵

/// Evaluates a polynomial with coefficients from the highest degree down (Horner, with FMA).
#[inline(always)]
pub fn poly<V: Vector>(x: V, coefficients: &[f32]) -> V {
    let mut acc = V::splat(coefficients[0]);
    for &c in &coefficients[1..] {
        acc = acc.mul_add(x, V::splat(c));
    }
    acc
}

/// Range reduction of eˣ: returns `(q, n)` with `eˣ = 2ⁿ · (1 + q)`, |q| ≤ 0.42, n an
/// integer-valued float. `x` must already be clamped so that |n| ≤ 150; NaN passes through q.
///
/// Keeping `q = eʳ − 1` rather than `eʳ` lets callers fold a factor in with one rounding
/// (`c + c·q`) and gives `expm1` its small-argument accuracy.
#[inline(always)]
fn exp_reduced<V: Vector>(x: V) -> (V, V) {
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    // n · LN2_HI is exact and x − n · LN2_HI is exact by Sterbenz's lemma; one rounding
    // remains, in the second step.
    let r = n.mul_add(V::splat(-LN2_HI), x);
    let r = n.mul_add(V::splat(-LN2_LO), r);
    (expm1_reduced(r), n)
}

/// eʳ − 1 for |r| ≤ ln2 / 2: r + r²·P(r), within 2⁻³⁰ of the exact value before its last
/// rounding; in the fast tier P has one degree less ([`EXP_P_FAST`], 2⁻²⁸).
#[inline(always)]
fn expm1_reduced<V: Vector>(r: V) -> V {
    let p = if V::FAST { poly(r, &EXP_P_FAST) } else { poly(r, &EXP_P) };
    (r * r).mul_add(p, r)
}

/// (eʳ − 1 − r) / r² on |r| ≤ ln2 / 2 to within 3.8·10⁻⁹ relatively to eʳ, one degree below
/// [`EXP_P`] (iteratively reweighted least squares on 4000 Chebyshev nodes, coefficients
/// rounded to f32 before the error was measured).
const EXP_P_FAST: [f32; 5] = [
    1.381_460_5e-3,
    8.368_711e-3,
    4.166_839e-2,
    1.666_652_1e-1,
    4.999_999_4e-1,
];

/// The range reduction of e^{x + x_lo} for a pair argument whose low part is at most 2⁻¹⁸ or
/// so: `(q, q_lo, n)` with e^{x + x_lo} = 2ⁿ·(1 + q + q_lo) to within about 2⁻²⁸ relatively —
/// the reduced argument's rounding and q's are carried in q_lo, which a plain reduction would
/// leave in the result (up to ≈ 0.6 ULP together). No clamping: |x| ≤ 170 keeps n within what
/// [`Vector::ldexp`] takes. NaN passes through q.
///
/// gelu uses it for e^{−a²/2}, with −a²/2 an exact pair: a rounded a² would cost a²·2⁻²⁵
/// relatively, 50 ULP at a = 10. In the fast tier q_lo is 0 and the correction is folded into q.
#[inline(always)]
pub fn exp_reduced_pair<V: Vector>(x: V, x_lo: V) -> (V, V, V) {
    if V::FAST {
        // The plain reduction with the correction folded in, 1 + q' = (1 + q)(1 + x_lo); no
        // low part (q_lo = 0): within about an ULP.
        let (q, n) = exp_reduced(x);
        return (q.mul_add(x_lo, q + x_lo), V::splat(0.0), n);
    }
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    // x − n·LN2_HI is exact (see `exp_reduced`); the small terms are summed first (their
    // rounding is below 2⁻³⁰), then added with Dekker's sum. Where |r₁| < |small| the sum is
    // below 0.07 and its rounding negligible anyway.
    let r1 = n.mul_add(V::splat(-LN2_HI), x);
    let small = n.mul_add(V::splat(-LN2_LO), x_lo);
    let r = r1 + small;
    let r_lo = small - (r - r1);
    // eʳ − 1 = r + s, s = r²·P(r) ≤ r/2, summed exactly; e^{r + r_lo} = eʳ·(1 + r_lo).
    let s = (r * r) * poly(r, &EXP_P);
    let q = r + s;
    let q_lo = r_lo.mul_add(q, ((r - q) + s) + r_lo);
    (q, q_lo, n)
}

/// The range reduction of eˣ after clamping x to the range where it matters: `eˣ = 2ⁿ · (1 + q)`
/// with |q| ≤ 0.42 and n an integer-valued float.
#[inline(always)]
pub fn exp_parts<V: Vector>(x: V) -> (V, V) {
    exp_reduced(x.max_keep_nan(V::splat(EXP_MIN_X)).min_keep_nan(V::splat(EXP_MAX_X)))
}

/// `c · eˣ` with `c = c_hi + c_lo` (pass `c_lo = 0` for an `f32` factor), rounded about once.
///
/// The factor is applied before the scaling by 2ⁿ, so the result is accurate wherever it is a
/// normal float even when eˣ alone would be subnormal (SELU's λα·eˣ near x = −87.5).
/// Max error ≈ 1 ULP. NaN gives NaN; −inf gives 0; +inf gives ±inf.
#[inline(always)]
pub fn exp_times<V: Vector>(x: V, c_hi: f32, c_lo: f32) -> V {
    let (q, n) = exp_parts(x);
    let c_hi = V::splat(c_hi);
    // c · (1 + q) = c_hi + (c_hi · q + c_lo), dropping only c_lo · q.
    (c_hi + c_hi.mul_add(q, V::splat(c_lo))).ldexp(n)
}

/// `c · eˣ` for a factor only known at run time (a kernel parameter), rounded about once.
///
/// Works for any finite c: x is clamped at −192 (not −104), below which c·eˣ < 2⁻¹⁴⁹ even for
/// c = f32::MAX, and the scaling by 2ⁿ is done in three exact steps.
#[inline(always)]
pub fn exp_times_v<V: Vector>(x: V, c: V) -> V {
    let x = x.max_keep_nan(V::splat(-192.0)).min_keep_nan(V::splat(EXP_MAX_X));
    let (q, n) = exp_reduced(x);
    let third = (n * V::splat(1.0 / 3.0)).round_ties_even();
    let rest = n - third - third;
    c.mul_add(q, c).mul_pow2i(third).mul_pow2i(third).mul_pow2i(rest)
}

/// eˣ, max error ≈ 1 ULP; exact limits at ±inf, NaN propagates.
#[inline(always)]
pub fn exp<V: Vector>(x: V) -> V {
    let (q, n) = exp_parts(x);
    (q + V::splat(1.0)).ldexp(n)
}

/// eˣ − 1 without cancellation near 0; `expm1(±0) = ±0`, `expm1(−inf) = −1`, +inf overflows
/// to +inf, NaN propagates. Max error ≈ 1 ULP.
#[inline(always)]
pub fn expm1<V: Vector>(x: V) -> V {
    // Below −86 the result rounds to −1; above 88.75 it overflows. The bounds keep n − 1
    // within the normal exponents that `pow2i` builds.
    let xc = x.max_keep_nan(V::splat(-86.0)).min_keep_nan(V::splat(EXP_MAX_X));
    let (q, n) = exp_reduced(xc);
    // eˣ − 1 = 2ⁿ·q + (2ⁿ − 1), evaluated at half scale h = 2ⁿ⁻¹ so 2ⁿ = 2¹²⁸ cannot overflow
    // an intermediate: 2·(h·q + (h − ½)). h − ½ is exact wherever it matters (n ≥ −24).
    let h = V::pow2i(n - V::splat(1.0));
    let result = V::splat(2.0) * h.mul_add(q, h - V::splat(0.5));
    // Below 2⁻²⁵, eˣ − 1 rounds to x itself. Returning x there keeps the sign of ±0 (which
    // r² · P(r) + r loses) and the bits of tiny inputs (which the half scale h·q would round
    // into the subnormal range).
    V::select(x.abs().lt(V::splat(TINY_EXPM1)), x, result)
}

/// `c · e^{−|x|} / (1 + e^{−|x|})²` for a power of two `c`: the bell shared by σ'(x) (c = 1)
/// and, through tanh'(x) = 4·σ'(2x), by tanh' (c = 4).
///
/// u = e^{−|x|} ∈ (0, 1] and 1 + u are carried as pairs, the square is formed with one FMA and
/// the quotient by [`div_pair`], so the result rounds about once. `c` goes in before the scaling
/// by 2ⁿ, so a subnormal u still gives an accurate normal result. Symmetric in x; NaN
/// propagates; ±inf gives +0.
#[inline(always)]
pub fn logistic_bell<V: Vector>(x: V, c: f32) -> V {
    let (cu, cu_lo) = exp_pair(-x.abs(), V::splat(0.0), V::splat(c));
    // Exact for a power-of-two c (a subnormal u loses bits here, which 1 + u cannot feel).
    let inv_c = V::splat(1.0 / c);
    let (u, u_lo) = (cu * inv_c, cu_lo * inv_c);
    let one = V::splat(1.0);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    let square = d * d;
    let square_lo = d.mul_add(d, -square) + (d + d) * d_lo;
    let inv_d = recip_estimate_1_2(d);
    div_pair(cu, cu_lo, square, square_lo, inv_d * inv_d)
}

/// [`sech_squared`]'s interval of a = min(|x|, BELL_A_MAX) is k = round(min(BELL_NEAR_SLOPE·a,
/// BELL_FAR_SLOPE·a + BELL_FAR_OFFSET)), 0 to 31: width ¼ up to a = 2, then 1/3.3 up to 9.
const BELL_NEAR_SLOPE: f32 = 4.0;
const BELL_FAR_SLOPE: f32 = 3.3;
const BELL_FAR_OFFSET: f32 = 1.4;
/// Past this, sech²a = 4u/(1 + u)² = 4u·(1 − 2u) to within 3u² (relatively 1e−15), u = e^{−2a}.
const BELL_A_MAX: f32 = 9.0;
/// sech²a = BELL_C0 + t·P(t) on each interval, t = a − BELL_CENTRE, P of degree 5 with coefficients
/// highest first, Gal centres as for tanh's forward table (BELL_C0 = 1 at the origin). Printed, with each
/// interval's max error of the f32 evaluation, by `python3 tools/fit.py tanh_bell`.
const BELL_CENTRE: [f32; 32] = [
    0.0,
    0.24596984684467316,
    0.4963718354701996,
    0.7486164569854736,
    0.9963352680206299,
    1.2501256465911865,
    1.4989081621170044,
    1.7450058460235596,
    2.016733169555664,
    2.304337978363037,
    2.602731704711914,
    2.903859853744507,
    3.217484951019287,
    3.5180745124816895,
    3.816693067550659,
    4.1211113929748535,
    4.422539234161377,
    4.721982955932617,
    5.034049987792969,
    5.3351216316223145,
    5.636226177215576,
    5.943049907684326,
    6.24788236618042,
    6.550626277923584,
    6.854098320007324,
    7.151117324829102,
    7.451165199279785,
    7.753987789154053,
    8.056160926818848,
    8.367684364318848,
    8.666099548339844,
    8.909950256347656,
];
const BELL_P: [[f32; 32]; 6] = [
    [
        -0.3551110327243805,
        -0.10318335145711899,
        0.19636325538158417,
        0.15016543865203857,
        0.017525196075439453,
        -0.032284919172525406,
        -0.027593258768320084,
        -0.01354159601032734,
        -0.004269919358193874,
        -0.00028062411001883447,
        0.0007004193030297756,
        0.000671619491185993,
        0.0004584528796840459,
        0.0002785607648547739,
        0.00016063489601947367,
        9.02187020983547e-05,
        4.9996800953522325e-05,
        2.7510997824720107e-05,
        1.5068727407197002e-05,
        8.241250725404825e-06,
        4.502251158555737e-06,
        2.457282334944466e-06,
        1.340830067420029e-06,
        7.316217534025782e-07,
        3.991158905591874e-07,
        2.1780581960229028e-07,
        1.188374270100212e-07,
        6.482682834985098e-08,
        3.5364866590725796e-08,
        1.9282788699115372e-08,
        1.0521003623864544e-08,
        6.490992188190603e-09,
    ],
    [
        -0.0051535130478441715,
        -0.4072594940662384,
        -0.30482158064842224,
        -0.009488300420343876,
        0.11165030300617218,
        0.09092903137207031,
        0.0429651141166687,
        0.012471302412450314,
        -0.0012838501716032624,
        -0.004538811277598143,
        -0.003916993737220764,
        -0.0026124613359570503,
        -0.0015428619226440787,
        -0.0008886739378795028,
        -0.0005020888056606054,
        -0.00027712929295375943,
        -0.00015283729590009898,
        -8.431761671090499e-05,
        -4.528868885245174e-05,
        -2.4831982955220155e-05,
        -1.3606792890641373e-05,
        -7.369562354142545e-06,
        -4.006460130767664e-06,
        -2.186999608966289e-06,
        -1.1920153610844864e-06,
        -6.580756917173858e-07,
        -3.611018257743126e-07,
        -1.9706210707681748e-07,
        -1.0767828939606261e-07,
        -5.775950029374144e-08,
        -3.179761876026532e-08,
        -1.947780603472893e-08,
    ],
    [
        0.6671541929244995,
        0.3698772192001343,
        -0.13058213889598846,
        -0.3200972080230713,
        -0.2335859090089798,
        -0.09591728448867798,
        -0.013535614125430584,
        0.018172400072216988,
        0.023808691650629044,
        0.01871478371322155,
        0.01216657180339098,
        0.007258722558617592,
        0.004061499610543251,
        0.002279783831909299,
        0.0012708342401310802,
        0.0006962382467463613,
        0.00038247957127168775,
        0.0002105858875438571,
        0.0001129420124925673,
        6.189005944179371e-05,
        3.3902899303939193e-05,
        1.835702823882457e-05,
        9.978522029996384e-06,
        5.446664545161184e-06,
        2.9685868412343552e-06,
        1.6390346218031482e-06,
        8.994617815005768e-07,
        4.908594064545468e-07,
        2.6822334575626883e-07,
        1.4384184510163323e-07,
        7.919540934153702e-08,
        4.862770097702196e-08,
    ],
    [
        -2.2161775632412173e-05,
        0.5527512431144714,
        0.6606242060661316,
        0.4007963538169861,
        0.11426910012960434,
        -0.05039779096841812,
        -0.09980140626430511,
        -0.09444546699523926,
        -0.06996859610080719,
        -0.04508776590228081,
        -0.026762869209051132,
        -0.015264167450368404,
        -0.008339161053299904,
        -0.004624956753104925,
        -0.002561473986133933,
        -0.0013983387034386396,
        -0.0007666988531127572,
        -0.0004216798988636583,
        -0.00022603718389291316,
        -0.00012382426939439029,
        -6.78176584187895e-05,
        -3.6718036426464096e-05,
        -1.9958464690716937e-05,
        -1.0893788385146763e-05,
        -5.9373537624196615e-06,
        -3.2780017136246897e-06,
        -1.7988419358516694e-06,
        -9.81670496003062e-07,
        -5.364164508137037e-07,
        -2.876843154808739e-07,
        -1.5838585909477843e-07,
        -9.72553877431892e-08,
    ],
    [
        -0.9999995231628418,
        -0.7775728702545166,
        -0.28978487849235535,
        0.12376776337623596,
        0.30957579612731934,
        0.32491326332092285,
        0.26377561688423157,
        0.19017690420150757,
        0.122774638235569,
        0.073573537170887,
        0.04200075939297676,
        0.023462355136871338,
        0.012671791017055511,
        0.0069866967387497425,
        0.003857183735817671,
        0.0021019536070525646,
        0.0011513849021866918,
        0.0006329254829324782,
        0.0003391738573554903,
        0.00018577252922113985,
        0.00010173769987886772,
        5.508057802217081e-05,
        2.9938864827272482e-05,
        1.6341096852556802e-05,
        8.906190487323329e-06,
        4.917068054055562e-06,
        2.6982918370777043e-06,
        1.4725195569553762e-06,
        8.046316679610754e-07,
        4.3153050910405e-07,
        2.3758084921610134e-07,
        1.4588326280318142e-07,
    ],
    [
        -5.521959778320706e-09,
        -0.45421382784843445,
        -0.7247852683067322,
        -0.7581865191459656,
        -0.641973614692688,
        -0.475661039352417,
        -0.32770824432373047,
        -0.21617233753204346,
        -0.13205064833164215,
        -0.07661239057779312,
        -0.04294057935476303,
        -0.02374730445444584,
        -0.012753576040267944,
        -0.007011352106928825,
        -0.003864664351567626,
        -0.002104169689118862,
        -0.0011520489351823926,
        -0.000633126066531986,
        -0.0003392313956283033,
        -0.00018578980234451592,
        -0.00010174288763664663,
        -5.5082098697312176e-05,
        -2.9939312298665754e-05,
        -1.634122963878326e-05,
        -8.906229595595505e-06,
        -4.917080786981387e-06,
        -2.698295702430187e-06,
        -1.4725208075105911e-06,
        -8.046320658650075e-07,
        -4.315306227908877e-07,
        -2.375808918486655e-07,
        -1.4588327701403614e-07,
    ],
];
const BELL_C0: [f32; 32] = [
    1.0,
    0.9418579936027527,
    0.7890811562538147,
    0.5976345539093018,
    0.4223228394985199,
    0.2803550958633423,
    0.18106412887573242,
    0.11488696187734604,
    0.06840649247169495,
    0.03907732293009758,
    0.021707182750105858,
    0.0119452103972435,
    0.006397283170372248,
    0.0035118479281663895,
    0.0019342036684975028,
    0.0010526389814913273,
    0.0005761904758401215,
    0.0003166131500620395,
    0.0001696300896583125,
    9.289921581512317e-05,
    5.087273530079983e-05,
    2.7541427698452026e-05,
    1.4969768017181195e-05,
    8.170648470695596e-06,
    4.453124802239472e-06,
    2.4585433493484743e-06,
    1.3491487607097952e-06,
    7.362606879723899e-07,
    4.02316118197632e-07,
    2.1576532560629857e-07,
    1.187904530297601e-07,
    7.294163850701807e-08,
];

/// `c·sech²x` for a power of two `c` in [¼, 1]: tanh'(x) = sech²x (c = 1) and σ'(x) = ¼·sech²(x/2).
///
/// With a = |x|: up to a = 9 a table of 32 intervals, a degree-6 polynomial in t = a − centre on
/// each with its coefficients read through [`Vector::lookup32`] (as tanh's forward), rounded once
/// (the product by c is exact); past 9, 4u·(1 − 2u) with u = e^{−2a}, formed as v − v²/(2c) from
/// v = 4c·e^{−2a} ([`exp_times`], c applied before the scaling, so tiny results stay accurate). No
/// division and no pairs, where [`logistic_bell`] carries 1 + u as a pair through a corrected
/// quotient. Max error 1.083 ULP (tanh', exhaustive). NaN propagates; ±inf gives +0.
#[inline(always)]
pub fn sech_squared<V: Vector>(x: V, c: f32) -> V {
    let a = x.abs();
    // A NaN a gives a NaN index, which reads entry 0, and stays NaN through t.
    let at = a.min_keep_nan(V::splat(BELL_A_MAX));
    let k =
        (at * V::splat(BELL_NEAR_SLOPE)).min_keep_nan(at.mul_add(V::splat(BELL_FAR_SLOPE), V::splat(BELL_FAR_OFFSET)));
    let t = at - V::lookup32(&BELL_CENTRE, k);
    let mut rest = V::lookup32(&BELL_P[0], k);
    for coefficients in &BELL_P[1..] {
        rest = rest.mul_add(t, V::lookup32(coefficients, k));
    }
    let table = t.mul_add(rest, V::lookup32(&BELL_C0, k)) * V::splat(c);
    // 2a is exact; v rounds to 0 at ±inf.
    let v = exp_times(a * V::splat(-2.0), 4.0 * c, 0.0);
    let tail = (v * V::splat(-0.5 / c)).mul_add(v, v);
    // NaN fails the comparison and takes the table's NaN.
    V::select(a.gt(V::splat(BELL_A_MAX)), tail, table)
}

/// `v`, or NaN in the lanes where `x` is NaN: derivatives built from comparisons would otherwise
/// turn a NaN input into 0 or a slope (SPEC §3).
#[inline(always)]
pub fn keep_nan<V: Vector>(x: V, v: V) -> V {
    V::select(x.is_nan(), x, v)
}

/// The derivative of a piece of slope 1 inside `inside` and 0 elsewhere; NaN at NaN `x`.
#[inline(always)]
pub fn step<V: Vector>(inside: V::Mask, x: V) -> V {
    keep_nan(x, V::select(inside, V::splat(1.0), V::splat(0.0)))
}

/// The backward of such a piece: exactly `dy` inside, exactly 0 elsewhere (so an infinite `dy`
/// in a flat region gives 0, as in PyTorch); NaN at NaN `x`.
#[inline(always)]
pub fn pass<V: Vector>(inside: V::Mask, x: V, dy: V) -> V {
    keep_nan(x, V::select(inside, dy, V::splat(0.0)))
}

/// `c · e^{x_hi + x_lo}` as an unevaluated sum `hi + lo` accurate to a few hundredths of an
/// ULP of `hi` (`c` a per-lane factor; `x_lo` a correction to `x`, 0 for an exact `x`).
///
/// The rounding errors of the reduced argument and of the polynomial's last addition, which a
/// plain `exp` leaves in its result (up to ≈ 0.8 ULP together), are carried in `lo`. Kernels
/// divide or add these pairs and round once at the end, which is how σ, silu, softplus and
/// their derivatives stay within SPEC §4's 2 ULP. `c` is applied before the scaling by 2ⁿ, so a
/// normal `c·eˣ` is accurate even where eˣ alone would be subnormal. NaN propagates.
#[inline(always)]
pub fn exp_pair<V: Vector>(x_hi: V, x_lo: V, c: V) -> (V, V) {
    let x = x_hi.max_keep_nan(V::splat(EXP_MIN_X)).min_keep_nan(V::splat(EXP_MAX_X));
    // A clamped argument's correction means nothing (and may be huge).
    let x_lo = V::select(x.eq(x_hi), x_lo, V::splat(0.0));
    let n = (x * V::splat(LOG2_E)).round_ties_even();
    let r1 = n.mul_add(V::splat(-LN2_HI), x);
    let r = n.mul_add(V::splat(-LN2_LO), r1);
    // What the second reduction step rounded away, plus the caller's correction.
    let r_lo = (-n).mul_add(V::splat(LN2_LO), r1 - r) + x_lo;
    // eʳ = 1 + r + s with s = r²·P(r) ≤ r/2: sum the three exactly into m + m_lo.
    let s = (r * r) * poly(r, &EXP_P);
    let q = r + s;
    let q_lo = (r - q) + s;
    let m = V::splat(1.0) + q;
    let m_lo = ((V::splat(1.0) - m) + q) + q_lo;
    // e^{r + r_lo} ≈ eʳ · (1 + r_lo); renormalized, since a caller's correction may exceed an
    // ULP of m (an unnormalized pair), and callers rely on lo being below hi's last bit.
    let (m, m_lo) = fast_two_sum(m, m.mul_add(r_lo, m_lo));
    // c·2ⁿ·(m + m_lo), the factor applied before the scaling.
    let p = c * m;
    let p_lo = c.mul_add(m, -p) + c * m_lo;
    let half = (n * V::splat(0.5)).round_ties_even();
    let rest = n - half;
    let hi = p.mul_pow2i(half).mul_pow2i(rest);
    (hi, finite_or_zero(hi, p_lo.mul_pow2i(half).mul_pow2i(rest)))
}

/// `lo` where `hi` is finite, else 0: the low part of an overflowed (or NaN) pair must not turn
/// `hi + lo` into NaN.
#[inline(always)]
pub fn finite_or_zero<V: Vector>(hi: V, lo: V) -> V {
    V::select(hi.abs().lt(V::splat(f32::INFINITY)), lo, V::splat(0.0))
}

/// e^{x_hi + x_lo} − 1 for a pair argument, so a rounded argument costs nothing (its rounding
/// error would otherwise cost |x|·2⁻²⁴ relatively for large |x|). Below |x| = ¼ it is
/// expm1(x_hi) + x_lo·e^{x_hi}; above, the exponential as a pair minus 1, summed exactly
/// (e − 1 is at least 0.22 in magnitude there, so the pair's 2⁻²⁹ error stays under 0.1 ULP).
#[inline(always)]
pub fn expm1_pair<V: Vector>(x_hi: V, x_lo: V) -> V {
    let small = expm1(x_hi) + exp_times_v(x_hi, x_lo);
    let (e, e_lo) = exp_pair(x_hi, x_lo, V::splat(1.0));
    let (s, s_lo) = two_sum(e, V::splat(-1.0));
    // An overflowed e (+inf) makes the TwoSum residual NaN: keep s there.
    let large = V::select(s.abs().lt(V::splat(f32::INFINITY)), s + (s_lo + e_lo), s);
    // NaN fails the comparison and takes the small form, which propagates it.
    V::select(x_hi.abs().ge(V::splat(0.25)), large, small)
}

/// 1/h for h ∈ [1, 2] within 1.8 % (least-squares quadratic): enough to apply the small
/// correction of [`div_pair`], not a result on its own.
#[inline(always)]
pub fn recip_estimate_1_2<V: Vector>(h: V) -> V {
    h.mul_add(V::splat(0.307_791_28), V::splat(-1.398_673_4))
        .mul_add(h, V::splat(2.072_879_5))
}

/// `(n_hi + n_lo) / (d_hi + d_lo)` rounded about once: the quotient of the leading parts is
/// corrected by its exact residual (one FMA recovers `n_hi − s·d_hi` exactly) and the low
/// parts. `inv_d` is any estimate of `1/d_hi` within a few per cent; the correction it scales
/// is itself about an ULP, so its error is negligible.
#[inline(always)]
pub fn div_pair<V: Vector>(n_hi: V, n_lo: V, d_hi: V, d_lo: V, inv_d: V) -> V {
    let (s, corrected) = quotient_and_corrected(n_hi, n_lo, d_hi, d_lo, inv_d);
    // An infinite quotient has no meaningful residual (inf − inf): keep it as it is.
    V::select(s.abs().lt(V::splat(f32::INFINITY)), corrected, s)
}

/// The rounded quotient s = n_hi / d_hi and s corrected by the exact residual and the low parts:
/// the work of [`div_pair`], for callers whose quotient is known to be finite.
#[inline(always)]
fn quotient_and_corrected<V: Vector>(n_hi: V, n_lo: V, d_hi: V, d_lo: V, inv_d: V) -> (V, V) {
    let s = n_hi / d_hi;
    let residual = (-s).mul_add(d_lo, (-s).mul_add(d_hi, n_hi) + n_lo);
    (s, residual.mul_add(inv_d, s))
}

/// `a + b` as an unevaluated sum when |a| ≥ |b| (Dekker's FastTwoSum).
#[inline(always)]
pub fn fast_two_sum<V: Vector>(a: V, b: V) -> (V, V) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a + b` as an unevaluated sum (Knuth's TwoSum: exact for any order of magnitudes).
#[inline(always)]
pub fn two_sum<V: Vector>(a: V, b: V) -> (V, V) {
    let s = a + b;
    let b_virtual = s - a;
    let a_virtual = s - b_virtual;
    (s, (a - a_virtual) + (b - b_virtual))
}

/// σ(x_hi + x_lo) = 1 / (1 + e^{−x}), within about 1 ULP.
///
/// With u = e^{−|x|} ∈ (0, 1] as a pair (never overflows), σ = 1/(1 + u) for x ≥ 0 and
/// u/(1 + u) for x < 0 (XNNPACK's reflection), divided with [`div_pair`]. NaN propagates.
#[inline(always)]
pub fn sigmoid<V: Vector>(x_hi: V, x_lo: V) -> V {
    let nonnegative = x_hi.ge(V::splat(0.0));
    let (u, u_lo) = exp_pair(-x_hi.abs(), V::select(nonnegative, -x_lo, x_lo), V::splat(1.0));
    let one = V::splat(1.0);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    // NaN fails `x >= 0` and takes u, which is NaN.
    let n = V::select(nonnegative, one, u);
    let n_lo = V::select(nonnegative, V::splat(0.0), u_lo);
    div_pair(n, n_lo, d, d_lo, recip_estimate_1_2(d))
}

/// e^{−|x + x_lo|} = 2ⁿ·(m + m_lo), m ∈ [0.7, 1.42] rounded once and its error kept, returned as
/// `(m, m_lo, n, x ≥ 0)`: the exponential of [`logistic`] and [`times_logistic`].
#[inline(always)]
fn exp_neg_abs<V: Vector>(x: V, x_lo: Option<V>) -> (V, V, V, V::Mask) {
    let one = V::splat(1.0);
    let nonnegative = x.ge(V::splat(0.0));
    // −|x| ≤ 0 needs only the lower clamp of `exp_parts`.
    let (q, n) = exp_reduced((-x.abs()).max_keep_nan(V::splat(EXP_MIN_X)));
    let m = q + one;
    if V::FAST {
        // e^{−|x + x_lo|} = (1 + q)·(1 + s), s = ∓x_lo, rounded once: 1 + (q + s + q·s).
        let m = x_lo.map_or(m, |x_lo| {
            let s = V::select(nonnegative, -x_lo, x_lo);
            one + q.mul_add(s, q + s)
        });
        return (m, V::splat(0.0), n, nonnegative);
    }
    let m_lo = (one - m) + q;
    match x_lo {
        None => (m, m_lo, n, nonnegative),
        Some(x_lo) => {
            // e^{−|x + x_lo|} = e^{−|x|}·(1 ∓ x_lo) to far below an ULP (x_lo ≤ 2⁻¹⁸ wherever
            // u is not 0). Renormalized: the division's correction assumes a low part of
            // about an ULP (its reciprocal estimate is only good to 2 %).
            let (m, m_lo) = fast_two_sum(m, m.mul_add(V::select(nonnegative, -x_lo, x_lo), m_lo));
            (m, m_lo, n, nonnegative)
        }
    }
}

/// `(n + n_lo)/(d + d_lo)` for d ∈ [1, 2] and a finite quotient, rounded about once: [`div_pair`]
/// without its guard for an infinite quotient.
#[inline(always)]
fn corrected_quotient<V: Vector>(n: V, n_lo: V, d: V, d_lo: V) -> V {
    quotient_and_corrected(n, n_lo, d, d_lo, recip_estimate_1_2(d)).1
}

/// σ(x) = 1/(1 + e^{−x}) with one exponential and one corrected division: the σ forward.
///
/// With u = e^{−|x|} = 2ⁿ·m, σ is 1/(1 + u) for x ≥ 0 and u/(1 + u) for x < 0 (XNNPACK's
/// reflection, nothing overflows). u and 1 + u are kept as pairs: a rounded 1 + u would cost up
/// to an ULP of σ near 1. Within about an ULP (exhaustive figures in the README); NaN
/// propagates.
#[inline(always)]
pub fn logistic<V: Vector>(x: V) -> V {
    let one = V::splat(1.0);
    if V::FAST {
        // u and 1 + u rounded, then one division. NaN fails `x >= 0` and takes u/(1 + u),
        // which is NaN.
        let (q, n) = exp_reduced((-x.abs()).max_keep_nan(V::splat(EXP_MIN_X)));
        let u = (q + one).ldexp(n);
        return V::select(x.ge(V::splat(0.0)), one, u) / (one + u);
    }
    let (m, m_lo, n, nonnegative) = exp_neg_abs(x, None);
    let u = m.ldexp(n);
    let u_lo = m_lo.ldexp(n);
    let d = one + u;
    let d_lo = ((one - d) + u) + u_lo;
    // NaN fails `x >= 0` and takes u, which is NaN.
    corrected_quotient(
        V::select(nonnegative, one, u),
        V::select(nonnegative, V::splat(0.0), u_lo),
        d,
        d_lo,
    )
}

/// `c·σ(x + x_lo)` (x exact when `x_lo` is `None`) with one exponential and one corrected
/// division: the silu and tanh-gelu forwards.
///
/// With u = e^{−|x|} = 2ⁿ·m, c·σ(x) is c/(1 + u) for x ≥ 0 and 2ⁿ·(c·m)/(1 + u) for x < 0: the
/// quotient is taken before the scaling by 2ⁿ, so silu stays accurate near x = −88 where u
/// alone is subnormal, and only the result is scaled. 1 + u is kept as a pair, and the rounding
/// errors of m and of c·m go into the residual that corrects the quotient. Within about an ULP
/// (exhaustive figures in the README). `c` must be finite with |c| ≤ 2⁴⁰ where x < 0; an
/// infinite `c` with x ≥ 0 gives NaN (callers select their limit). NaN `x` propagates.
#[inline(always)]
pub fn times_logistic<V: Vector>(c: V, x: V, x_lo: Option<V>) -> V {
    let one = V::splat(1.0);
    if V::FAST {
        // The operands rounded, u built by one scaling, c·u formed as (c·m)·2ⁿ so that it is
        // as accurate as a normal result needs (silu: 3.394 ULP, exhaustive).
        let (m, _, n, nonnegative) = exp_neg_abs(x, x_lo);
        let numerator = V::select(nonnegative, c, (c * m).ldexp(n));
        return numerator / (one + m.ldexp(n));
    }
    let (m, m_lo, n, nonnegative) = exp_neg_abs(x, x_lo);
    // Below 2⁻¹²⁶, u cannot change 1 + u: n is floored there so that 2ⁿ is a normal float.
    let scale = V::pow2i(n.max_keep_nan(V::splat(-126.0)));
    let u = m * scale;
    let d = one + u;
    let d_lo = m_lo.mul_add(scale, (one - d) + u);
    let p = c * m;
    let p_lo = c.mul_add(m_lo, c.mul_add(m, -p));
    // NaN fails `x >= 0` and takes the x < 0 forms, which are NaN.
    let quotient = corrected_quotient(
        V::select(nonnegative, c, p),
        V::select(nonnegative, V::splat(0.0), p_lo),
        d,
        d_lo,
    );
    // Wherever n < 0 (|x| > ln2/2) the quotient is at least 2⁻¹⁰ or so, which `ldexp` needs;
    // n = 0 scales exactly.
    quotient.ldexp(V::select(nonnegative, V::splat(0.0), n))
}

/// ln(1 + v) for v ∈ [0, 1], within about 1 ULP (Cephes `logf` polynomial).
///
/// Needs no exponent extraction: for v ≤ √2 − 1 the polynomial takes f = v exactly; above it,
/// 1 + v = 2·(1 + f) with f = (v − 1)/2 ∈ (−0.293, 0] and ln 2 is added back in two parts.
#[inline(always)]
pub fn log1p_unit<V: Vector>(v: V) -> V {
    let upper = v.gt(V::splat(core::f32::consts::SQRT_2 - 1.0));
    let f = V::select(upper, v.mul_add(V::splat(0.5), V::splat(-0.5)), v);
    let e = V::select(upper, V::splat(1.0), V::splat(0.0));
    let z = f * f;
    // ln(1 + f) = f − f²/2 + f³·P(f)
    let tail = z.mul_add(f.mul_add(poly(f, &LOG_P), V::splat(-0.5)), e * V::splat(LN2_LO));
    (tail + f) + e * V::splat(LN2_HI)
}

/// Coefficients of (ln(1 + f) − f + f²/2) / f³ on √½ − 1 ≤ f ≤ √2 − 1 (Cephes `logf`).
const LOG_P: [f32; 9] = [
    7.037_683_629_2e-2,
    -1.151_461_031_0e-1,
    1.167_699_874_0e-1,
    -1.242_014_084_6e-1,
    1.424_932_278_7e-1,
    -1.666_805_766_5e-1,
    2.000_071_476_5e-1,
    -2.499_999_399_3e-1,
    3.333_333_117_4e-1,
];

/// `(a_hi + a_lo)·(b_hi + b_lo)` as a pair: the product's rounding error recovered by FMA, the
/// cross terms added (the lo·lo term is below the pair's precision).
#[inline(always)]
pub fn mul_pair<V: Vector>((a, a_lo): (V, V), (b, b_lo): (V, V)) -> (V, V) {
    let p = a * b;
    (p, a.mul_add(b, -p) + a.mul_add(b_lo, a_lo * b))
}

/// `(a_hi + a_lo) + (b_hi + b_lo)` as a normalized pair (|lo| ≤ half an ULP of hi).
#[inline(always)]
pub fn add_pair<V: Vector>((a, a_lo): (V, V), (b, b_lo): (V, V)) -> (V, V) {
    let (s, s_lo) = two_sum(a, b);
    fast_two_sum(s, s_lo + (a_lo + b_lo))
}

/// `σ(a) + c·σ'(a)` for pairs `a` and `c`, rounded about once: silu' is σ(x) + x·σ'(x), the
/// derivative of gelu's tanh form is σ(a) + x·a'·σ'(a).
///
/// With u = e^{−|a|}, this is (1 + u·(1 + c))/(1 + u)² for a ≥ 0 and u·(1 + u + c)/(1 + u)² for
/// a < 0: one quotient of pairs, u·(…) formed inside the exponential. The numerator crosses zero
/// where 1 + u + c does (silu' at x ≈ −1.28), and loses relative accuracy only there. `c` must
/// be finite (callers clamp it where the term no longer matters). NaN propagates.
#[inline(always)]
pub fn sigmoid_plus_bell<V: Vector>((c, c_lo): (V, V), a_hi: V, a_lo: V) -> V {
    let (zero, one) = (V::splat(0.0), V::splat(1.0));
    let nonnegative = a_hi.ge(zero);
    let neg_abs = -a_hi.abs();
    let neg_abs_lo = V::select(nonnegative, -a_lo, a_lo);
    if V::FAST {
        // e^{−|a|} = 2ⁿ·(1 + q), the correction folded into q; 1 + u as a pair only to square
        // it; the a < 0 numerator 2ⁿ·(1 + q)·w with one rounding, w = 1 + u + c. One division,
        // before the scaling by 2ⁿ.
        let (q, n) = exp_reduced(neg_abs.max_keep_nan(V::splat(EXP_MIN_X)));
        let q = q.mul_add(neg_abs_lo, q + neg_abs_lo);
        let u = (q + one).ldexp(n);
        let d = one + u;
        let d_lo = (one - d) + u;
        let square = d.mul_add(d, (d + d) * d_lo);
        // 1 + c is exact for c ≤ −1; u + c_lo is far below an ULP of w, so w rounds once.
        let one_c = one + c;
        let w = one_c + (u + c_lo);
        let numerator = V::select(nonnegative, u.mul_add(one_c + c_lo, one), w.mul_add(q, w));
        return (numerator / square).ldexp(V::select(nonnegative, zero, n));
    }
    let (u, u_lo) = exp_pair(neg_abs, neg_abs_lo, one);
    let d = add_pair((one, zero), (u, u_lo));
    let (square, square_lo) = mul_pair(d, d);
    // a ≥ 0: 1 + u·(1 + c)
    let pos = add_pair((one, zero), mul_pair((u, u_lo), add_pair((one, zero), (c, c_lo))));
    // a < 0: u·w with w = 1 + u + c
    let (w, w_lo) = add_pair(add_pair((one, zero), (u, u_lo)), (c, c_lo));
    let (uw, uw_lo) = exp_pair(neg_abs, neg_abs_lo, w);
    let neg = (uw, u.mul_add(w_lo, uw_lo));
    let n = V::select(nonnegative, pos.0, neg.0);
    let n_lo = V::select(nonnegative, pos.1, neg.1);
    let inv_d = recip_estimate_1_2(d.0);
    div_pair(n, n_lo, square, square_lo, inv_d * inv_d)
}
