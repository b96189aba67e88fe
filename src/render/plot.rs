//! `analyze --plot`: activity over time, one heat strip per object, HOT periods marked. SVG through
//! plotters' SVG backend, which writes text as SVG `<text>` and so needs no system fonts. PNG
//! would need font rasterisation (system fonts or an embedded font): refused with a clear error.

use std::path::Path;

use plotters::prelude::*;

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    /// Length of the x axis (seconds).
    pub span: f64,
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug, Default)]
pub struct Line {
    pub label: String,
    /// (seconds since the start, rate per second).
    pub points: Vec<(f64, f64)>,
    /// HOT periods, in seconds since the start.
    pub hot: Vec<(f64, f64)>,
}

/// Checks the file name before any work is done.
pub fn check_path(p: &Path) -> Result<(), String> {
    let ext = p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(()),
        Some("png") => Err(format!(
            "--plot {}: PNG needs font rendering, which this build does without; write an .svg and convert it \
             if you need a PNG (e.g. rsvg-convert -o plot.png plot.svg)",
            p.display()
        )),
        _ => Err(format!("--plot {}: the file name must end in .svg", p.display())),
    }
}

/// Draws the plot as an SVG document.
pub fn svg(plot: &Plot) -> Result<String, String> {
    let mut buf = String::new();
    draw(plot, &mut buf).map_err(|e| format!("cannot draw the plot: {e}"))?;
    Ok(buf)
}

/// Pixel layout of the heat strips.
const WIDTH: i32 = 1100;
const LABEL_W: i32 = 380;
const PEAK_W: i32 = 90;
const ROW_H: i32 = 22;
const TOP: i32 = 48;
const AXIS_H: i32 = 44;

fn draw(plot: &Plot, buf: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    // One row per object (a heat strip, like the text timeline): lines of a line plot hide each
    // other when objects have the same rate; strips never do, at any number of objects.
    let rows = plot.lines.len().max(1) as i32;
    let height = TOP + rows * ROW_H + AXIS_H;
    let root = SVGBackend::with_string(buf, (WIDTH as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let span = if plot.span.is_finite() && plot.span > 0.0 { plot.span } else { 1.0 };
    let (x0, x1) = (LABEL_W, WIDTH - PEAK_W);
    let px = |t: f64| x0 + ((t / span).clamp(0.0, 1.0) * f64::from(x1 - x0)).round() as i32;
    let title = ("sans-serif", 22).into_font();
    let small = ("sans-serif", 15).into_font();
    root.draw(&Text::new(plot.title.as_str(), (16, 14), title))?;
    root.draw(&Text::new("peak/s", (x1 + 10, TOP - 16), small.clone()))?;
    let hot_color = RGBColor(210, 30, 30);
    for (r, line) in plot.lines.iter().enumerate() {
        let y = TOP + r as i32 * ROW_H;
        let pts: Vec<(f64, f64)> = line
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite() && p.1 >= 0.0)
            .collect();
        let peak = pts.iter().map(|p| p.1).fold(0.0_f64, f64::max);
        // Long labels keep their end: the namespace and name.
        let n = line.label.chars().count();
        let label: String = if n > 52 {
            std::iter::once('…').chain(line.label.chars().skip(n - 51)).collect()
        } else {
            line.label.clone()
        };
        root.draw(&Text::new(label, (8, y + 5), small.clone()))?;
        root.draw(&Rectangle::new([(x0, y + 2), (x1, y + ROW_H - 6)], RGBColor(246, 246, 246).filled()))?;
        for (k, &(t, v)) in pts.iter().enumerate() {
            if v <= 0.0 || peak <= 0.0 {
                continue;
            }
            let t_next = pts.get(k + 1).map_or(span, |p| p.0);
            let heat = (v / peak).clamp(0.0, 1.0);
            // Light to deep blue: red is kept for HOT.
            let c = RGBColor(
                (235.0 - 205.0 * heat) as u8,
                (240.0 - 160.0 * heat) as u8,
                (255.0 - 75.0 * heat) as u8,
            );
            root.draw(&Rectangle::new(
                [(px(t), y + 2), (px(t_next).max(px(t) + 1), y + ROW_H - 6)],
                c.filled(),
            ))?;
        }
        for &(a, b) in &line.hot {
            if a.is_finite() && b.is_finite() {
                let (a, b) = (px(a.max(0.0)), px(b.min(span)).max(px(a.max(0.0)) + 1));
                root.draw(&Rectangle::new([(a, y + ROW_H - 5), (b, y + ROW_H - 2)], hot_color.filled()))?;
            }
        }
        root.draw(&Text::new(format!("{peak:.1}"), (x1 + 10, y + 5), small.clone()))?;
    }
    // Time axis with five ticks.
    let ya = TOP + rows * ROW_H + 4;
    root.draw(&PathElement::new(vec![(x0, ya), (x1, ya)], BLACK))?;
    for k in 0..=4 {
        let t = span * f64::from(k) / 4.0;
        let x = px(t);
        root.draw(&PathElement::new(vec![(x, ya), (x, ya + 5)], BLACK))?;
        root.draw(&Text::new(format!("{t:.0}"), (x - 8, ya + 8), small.clone()))?;
    }
    root.draw(&Text::new(
        format!("{} (red bar: HOT; shade: activity per second, relative to the row's peak)", plot.x_label),
        (x0, ya + 24),
        small,
    ))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_legend_and_hot_shading() {
        let plot = Plot {
            title: "activity".into(),
            x_label: "seconds".into(),
            span: 60.0,
            lines: vec![
                Line {
                    label: "CAPTControlPlane ns/a".into(),
                    points: (0..60).map(|s| (f64::from(s), if s > 20 { 12.0 } else { 0.0 })).collect(),
                    hot: vec![(30.0, 60.0)],
                },
                Line {
                    label: "Cluster ns/b".into(),
                    points: vec![(0.0, 0.1), (60.0, f64::NAN)],
                    hot: vec![],
                },
            ],
        };
        let s = svg(&plot).unwrap();
        assert!(s.starts_with("<svg"), "{}", &s[..80]);
        assert!(s.contains("CAPTControlPlane ns/a") && s.contains("Cluster ns/b"));
        assert!(s.contains("#D21E1E") || s.contains("rgb(210,30,30)"), "HOT marker missing");
        assert!(s.contains("12.0") && s.contains("0.1"), "peaks");
        assert!(svg(&Plot::default()).unwrap().contains("<svg"));
        // Twenty objects with the same activity: twenty rows, each with its own strip.
        let same = Line { label: String::new(), points: vec![(0.0, 1.0), (30.0, 1.0)], hot: vec![] };
        let lines: Vec<Line> =
            (0..20).map(|i| Line { label: format!("Pod ns/p{i}"), ..same.clone() }).collect();
        let s = svg(&Plot { span: 60.0, lines, ..Plot::default() }).unwrap();
        assert!((0..20).all(|i| s.contains(&format!("\nPod ns/p{i}\n"))));
        let height: u32 =
            s.split("height=\"").nth(1).and_then(|h| h.split('"').next()).unwrap().parse().unwrap();
        assert!(height >= 20 * 22, "{height}");
    }

    #[test]
    fn file_names() {
        assert!(check_path(Path::new("t.svg")).is_ok());
        assert!(check_path(Path::new("T.SVG")).is_ok());
        assert!(check_path(Path::new("t.png")).unwrap_err().contains("rsvg-convert"));
        assert!(check_path(Path::new("t")).is_err());
    }
}
