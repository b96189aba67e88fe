//! `analyze --plot`: activity over time, one line per object, HOT periods shaded. SVG through
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

fn draw(plot: &Plot, buf: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(buf, (1100, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let span = if plot.span.is_finite() && plot.span > 0.0 { plot.span } else { 1.0 };
    let ymax = plot
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1.0)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(&plot.title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..span, 0f64..ymax)?;
    chart.configure_mesh().x_desc(plot.x_label.as_str()).y_desc("per second").draw()?;
    let hot_fill = RGBColor(220, 40, 40).mix(0.12).filled();
    for line in &plot.lines {
        chart.draw_series(
            line.hot.iter().map(|&(a, b)| Rectangle::new([(a.max(0.0), 0.0), (b.min(span), ymax)], hot_fill)),
        )?;
    }
    for (i, line) in plot.lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let pts: Vec<(f64, f64)> =
            line.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    if !plot.lines.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
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
        assert!(s.contains("<polyline"));
        assert!(s.contains("opacity=\"0.12") || s.contains("fill-opacity=\"0.12"), "shading missing");
        assert!(svg(&Plot::default()).unwrap().contains("<svg"));
    }

    #[test]
    fn file_names() {
        assert!(check_path(Path::new("t.svg")).is_ok());
        assert!(check_path(Path::new("T.SVG")).is_ok());
        assert!(check_path(Path::new("t.png")).unwrap_err().contains("rsvg-convert"));
        assert!(check_path(Path::new("t")).is_err());
    }
}
