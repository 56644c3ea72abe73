//! The report's SVG charts, drawn with plotters from a [`Report`]'s figures.
//!
//! - [`scaling`]: durable commits per second against the number of writers, one line per engine
//!   and setting, both axes logarithmic (the commit-scaling curve);
//! - [`throughput`]: one panel per throughput workload, a horizontal bar per figure, so each
//!   engine's figure sits beside tabula's.

use std::path::Path;

use plotters::prelude::*;

use crate::report::{Better, Report, TABULA, Workload, number};

/// A chart could not be drawn or written.
#[derive(Debug)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0x7f, 0x7f, 0x7f),
];

fn color(i: usize) -> RGBColor {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or(BLACK)
}

/// Each engine keeps its color in every chart; tabula's is the first.
fn engine_color(label: &str) -> RGBColor {
    const ENGINES: [&str; 7] = [
        TABULA,
        "SQLite",
        "redb",
        "fjall",
        "Redis",
        "DeltaTraceDB",
        "std",
    ];
    color(
        ENGINES
            .iter()
            .position(|e| label.starts_with(e))
            .unwrap_or(7),
    )
}

/// One line of the scaling chart: its label and its (writers, commits/s) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Draws the commit-scaling curve of `series` into `path`.
///
/// # Errors
/// Drawing or writing the file failed.
pub fn scaling(path: &Path, series: &[Series]) -> Result<(), ChartError> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut max_x, mut min_y, mut max_y) = (1.0f64, f64::MAX, 1.0f64);
    for &(x, y) in points {
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    let min_y = if min_y == f64::MAX {
        1.0
    } else {
        (min_y / 2.0).max(1.0)
    };
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Durable commits per second against writers",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (1f64..max_x * 1.2).log_scale(),
            (min_y..max_y * 2.0).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("writers (threads or clients)")
        .y_desc("commits/s")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| number(*y))
        .draw()
        .map_err(err)?;
    for (label, points) in series {
        let c = engine_color(label);
        let width = if label.starts_with(TABULA) { 3 } else { 2 };
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                c.stroke_width(width),
            ))
            .map_err(err)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, c.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Draws one bar panel per throughput workload of `report` into `path`.
///
/// # Errors
/// Drawing or writing the file failed.
pub fn throughput(path: &Path, report: &Report) -> Result<(), ChartError> {
    let panels: Vec<&Workload> = report
        .workloads
        .iter()
        .filter(|w| w.better == Better::Higher && w.figures.iter().any(|f| f.value.is_some()))
        .collect();
    let columns = 2usize;
    let height = panels
        .chunks(columns)
        .map(|row| {
            row.iter()
                .map(|w| 70 + 26 * w.figures.len() as u32)
                .max()
                .unwrap_or(100)
        })
        .sum::<u32>()
        .max(100);
    let root = SVGBackend::new(path, (1200, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut rest = root.clone();
    for row in panels.chunks(columns) {
        let row_height = row
            .iter()
            .map(|w| 70 + 26 * w.figures.len() as u32)
            .max()
            .unwrap_or(100);
        let (strip, below) = rest.split_vertically(row_height);
        rest = below;
        let cells = strip.split_evenly((1, columns));
        for (w, cell) in row.iter().zip(cells.iter()) {
            panel(cell, w)?;
        }
    }
    root.present().map_err(err)
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    w: &Workload,
) -> Result<(), ChartError> {
    let max = w
        .figures
        .iter()
        .filter_map(|f| f.value)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let n = w.figures.len();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({})", w.title, w.unit), ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(24)
        .y_label_area_size(8)
        .build_cartesian_2d(0f64..max * 1.75, -0.6f64..(n as f64 - 0.4))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(4)
        .x_label_formatter(&|x| number(*x))
        .draw()
        .map_err(err)?;
    for (i, f) in w.figures.iter().enumerate() {
        // The first figure on top.
        let y = (n - 1 - i) as f64;
        let c = engine_color(&f.engine);
        let value = f.value.unwrap_or(0.0);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.35), (value, y + 0.35)],
                c.mix(0.8).filled(),
            )))
            .map_err(err)?;
        let label = format!(
            "{} {}{}{} {}",
            f.engine,
            f.setting,
            if f.group.is_empty() { "" } else { ", " },
            f.group,
            f.value.map_or_else(|| "error".to_owned(), number)
        );
        chart
            .draw_series(std::iter::once(Text::new(
                label,
                (value + max * 0.01, y + 0.25),
                ("sans-serif", 11).into_font(),
            )))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use crate::report::Figure;

    #[test]
    fn both_charts_are_written_as_svg() {
        let dir = tempfile::tempdir().unwrap();
        let series = vec![
            (
                "tabula Always".to_owned(),
                vec![(1.0, 5_000.0), (4.0, 19_000.0), (64.0, 90_000.0)],
            ),
            (
                "SQLite FULL".to_owned(),
                vec![(1.0, 2_000.0), (64.0, 2_500.0)],
            ),
        ];
        scaling(&dir.path().join("s.svg"), &series).unwrap();
        let figure = |engine: &str, value| Figure {
            engine: engine.to_owned(),
            setting: "s".into(),
            group: String::new(),
            value,
            detail: String::new(),
        };
        let report = Report {
            workloads: vec![Workload {
                id: "w".into(),
                title: "Bulk load".into(),
                what: String::new(),
                unit: "rows/s".into(),
                better: Better::Higher,
                figures: vec![
                    figure(TABULA, Some(1e6)),
                    figure("redb", Some(2e5)),
                    figure("x", None),
                ],
                limit: None,
                notes: vec![],
            }],
            ..Report::default()
        };
        throughput(&dir.path().join("t.svg"), &report).unwrap();
        for name in ["s.svg", "t.svg"] {
            let svg = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(svg.starts_with("<svg"), "{name}");
            assert!(svg.contains("tabula"), "{name}");
        }
    }
}
