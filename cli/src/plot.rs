//! `actkern plot`: f and f' of an activation, computed by the library, drawn as an SVG or a
//! PNG (chosen by the file's extension).

use super::output::{self, AtomicOutput};
use super::{CliError, PlotArgs, install_interrupt_handler, parse_spec};
use actkern::{Activation, Apply};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::io::Write;
use std::path::Path;

/// Samples across the range: about two per horizontal pixel of the plot area.
const SAMPLES: usize = 1201;
const SIZE: (u32, u32) = (720, 450);
const F_COLOR: RGBColor = RGBColor(31, 119, 180);
const D_COLOR: RGBColor = RGBColor(214, 39, 40);

/// The two image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    /// The format `path`'s extension names, or an error that lists the ones there are.
    fn of(path: &Path) -> Result<ImageFormat, CliError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            _ => Err(CliError::input(format!(
                "--output `{}`: the extension must be .svg or .png (it chooses the image format)",
                path.display()
            ))),
        }
    }
}

/// Runs `actkern plot`.
pub fn run(args: &PlotArgs) -> Result<(), CliError> {
    let format = ImageFormat::of(&args.output)?;
    let act = parse_spec(&args.spec)?;
    let (lo, hi) = parse_range(&args.range)?;
    let bytes = match format {
        ImageFormat::Svg => svg(&act, lo, hi)?.into_bytes(),
        ImageFormat::Png => png(&act, lo, hi)?,
    };
    let dest = output::resolve(&args.output)?;
    install_interrupt_handler(false)?;
    let mut out = AtomicOutput::create(&dest)?;
    out.file()
        .write_all(&bytes)
        .map_err(|e| CliError::failure(format!("cannot write `{}`: {e}", out.path().display())))?;
    out.commit()
}

fn draw_error(e: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("cannot draw the plot: {e}"))
}

/// Makes the built-in font the one plotters measures and draws "sans-serif" with.
fn register_font() -> Result<(), CliError> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| draw_error("the built-in font does not load"))
}

/// The plot as an SVG document.
fn svg(act: &Activation, lo: f32, hi: f32) -> Result<String, CliError> {
    register_font()?;
    let mut text = String::new();
    draw(
        SVGBackend::with_string(&mut text, SIZE).into_drawing_area(),
        act,
        lo,
        hi,
    )?;
    Ok(text)
}

/// The plot as a PNG file's bytes.
fn png(act: &Activation, lo: f32, hi: f32) -> Result<Vec<u8>, CliError> {
    register_font()?;
    let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    draw(
        BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area(),
        act,
        lo,
        hi,
    )?;
    let mut bytes = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut bytes, SIZE.0, SIZE.1);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&rgb))
        .map_err(draw_error)?;
    Ok(bytes)
}

/// `-6:6` → (-6, 6).
fn parse_range(s: &str) -> Result<(f32, f32), CliError> {
    let bad = || {
        CliError::input(format!(
            "--range: `{s}` is not a range; expected A:B with finite numbers A < B, e.g. -6:6"
        ))
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a: f32 = a.trim().parse().map_err(|_| bad())?;
    let b: f32 = b.trim().parse().map_err(|_| bad())?;
    if a.is_finite() && b.is_finite() && a < b {
        Ok((a, b))
    } else {
        Err(bad())
    }
}

/// Splits sampled points into pieces at jumps, so a step is not drawn as a vertical line. A
/// jump is a step much larger than both neighbouring steps and visible at the plot's scale.
fn pieces(xs: &[f32], ys: &[f32], y_span: f32) -> Vec<Vec<(f32, f32)>> {
    let step = |i: usize| -> f32 {
        if i >= 1 && i < ys.len() {
            (ys[i] - ys[i - 1]).abs()
        } else {
            0.0
        }
    };
    let mut out: Vec<Vec<(f32, f32)>> = vec![Vec::new()];
    for i in 0..xs.len() {
        if !ys[i].is_finite() {
            out.push(Vec::new());
            continue;
        }
        let d = step(i);
        if i > 0 && d > 1e-3 * y_span && d > 8.0 * step(i - 1).max(step(i + 1)) {
            out.push(Vec::new());
        }
        out.last_mut().expect("never empty").push((xs[i], ys[i]));
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Draws f and f' on `root`.
fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, act: &Activation, lo: f32, hi: f32) -> Result<(), CliError> {
    let xs: Vec<f32> = (0..SAMPLES)
        .map(|i| lo + (hi - lo) * i as f32 / (SAMPLES - 1) as f32)
        .collect();
    let mut f = vec![0.0; SAMPLES];
    let mut d = vec![0.0; SAMPLES];
    act.forward(&xs, &mut f);
    act.derivative(&xs, &mut d);

    let finite = f.iter().chain(&d).copied().filter(|v| v.is_finite());
    let (mut ymin, mut ymax) = finite.fold((0.0f32, 0.0f32), |(a, b), v| (a.min(v), b.max(v)));
    if ymax - ymin < 1e-6 {
        ymin -= 1.0;
        ymax += 1.0;
    }
    let span = ymax - ymin;
    let (ymin, ymax) = (ymin - 0.06 * span, ymax + 0.06 * span);

    let err = |e: String| draw_error(e);
    {
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(act.to_string(), ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(34)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi, ymin..ymax)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(215, 215, 215))
            .x_desc("x")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        // The axes through the origin, when inside the plot.
        let axis = BLACK.mix(0.45).stroke_width(1);
        if ymin < 0.0 && ymax > 0.0 {
            chart
                .draw_series(LineSeries::new([(lo, 0.0), (hi, 0.0)], axis))
                .map_err(|e| err(e.to_string()))?;
        }
        if lo < 0.0 && hi > 0.0 {
            chart
                .draw_series(LineSeries::new([(0.0, ymin), (0.0, ymax)], axis))
                .map_err(|e| err(e.to_string()))?;
        }
        for (ys, color, label) in [(&f, F_COLOR, "f(x)"), (&d, D_COLOR, "f'(x)")] {
            let style = color.stroke_width(2);
            for (i, piece) in pieces(&xs, ys, span).into_iter().enumerate() {
                let series = chart
                    .draw_series(LineSeries::new(piece, style))
                    .map_err(|e| err(e.to_string()))?;
                if i == 0 {
                    series
                        .label(label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("-6:6").unwrap(), (-6.0, 6.0));
        assert_eq!(parse_range(" -1.5 : 2e1 ").unwrap(), (-1.5, 20.0));
        for bad in ["6:-6", "1:1", "inf:2", "1:nan", "1", "a:b", "1:2:3"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_are_split_and_kinks_are_not() {
        let xs: Vec<f32> = (0..101).map(|i| i as f32 / 10.0 - 5.0).collect();
        let step: Vec<f32> = xs.iter().map(|&x| if x > 0.0 { 1.0 } else { 0.0 }).collect();
        assert_eq!(pieces(&xs, &step, 1.0).len(), 2);
        let relu: Vec<f32> = xs.iter().map(|&x| x.max(0.0)).collect();
        assert_eq!(pieces(&xs, &relu, 5.0).len(), 1);
        let smooth: Vec<f32> = xs.iter().map(|&x| x.tanh()).collect();
        assert_eq!(pieces(&xs, &smooth, 2.0).len(), 1);
    }
}
