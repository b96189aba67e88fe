//! Sparklines: a row of eight-level bars, one per value, scaled to the row's maximum.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// How a value picks its bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bars {
    /// The bar at or above the value's share: any activity shows (the live `watch` table).
    AtLeastOne,
    /// The nearest bar (the `analyze` timeline).
    Nearest,
}

/// One character per value (a blank for zero or less).
pub fn line(values: &[f64], bars: Bars) -> String {
    let max = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|&v| {
            if v <= 0.0 || max <= 0.0 {
                return ' ';
            }
            let level = match bars {
                Bars::AtLeastOne => ((v * 8.0 - 1.0) / max).floor(),
                Bars::Nearest => (v / max * 7.0).round(),
            };
            BARS[(level.max(0.0) as usize).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_scales() {
        let v = [0.0, 1.0, 2.0, 4.0, 8.0];
        assert_eq!(line(&v, Bars::AtLeastOne), " ▁▂▄█");
        assert_eq!(line(&v, Bars::Nearest), " ▂▃▅█");
        assert_eq!(line(&[0.0, 0.0], Bars::Nearest), "  ");
    }
}
