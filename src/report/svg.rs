//! Inline SVG charts for the HTML report, written by hand: no scripts, no fonts, no
//! libraries, so the page renders anywhere, offline, and is safe to attach to a ticket.

use std::fmt::Write as _;

use crate::cwmp::encode::escape;

/// One plotted line.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// How the x axis reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XAxis {
    /// Seconds since the start.
    Seconds,
    /// Percentiles on the "nines" scale: x = log10(1 / (1 - q)).
    Nines,
}

pub struct Chart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub y_label: &'a str,
    pub x: XAxis,
    pub series: Vec<Series>,
}

pub const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

const W: f64 = 760.0;
const H: f64 = 300.0;
const ML: f64 = 64.0;
const MR: f64 = 16.0;
const MT: f64 = 34.0;
const MB: f64 = 64.0;

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`.
pub fn nice_step(span: f64, n: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / n.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{v:.1}");
        s.trim_end_matches(".0").to_string()
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn nines_label(x: f64) -> String {
    // x = log10(1/(1-q)) → q = 1 - 10^-x
    let q = (1.0 - 10f64.powf(-x)) * 100.0;
    let s = format!("{q:.4}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// The plot area and the scales mapping data to it.
struct Frame {
    x0: f64,
    x1: f64,
    ytop: f64,
    ystep: f64,
    /// Plot width and height.
    pw: f64,
    ph: f64,
}

impl Frame {
    fn sx(&self, x: f64) -> f64 {
        ML + (x - self.x0) / (self.x1 - self.x0) * self.pw
    }

    fn sy(&self, y: f64) -> f64 {
        MT + self.ph - (y / self.ytop) * self.ph
    }
}

impl Chart<'_> {
    /// The `<svg>` element.
    pub fn render(&self) -> String {
        let (x0, x1, y1) = self.extent();
        let mut o = String::new();
        let _ = write!(
            o,
            "<svg id=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
            escape(self.id),
            escape(self.title)
        );
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"20\" class=\"title\">{}</text>",
            ML,
            escape(self.title)
        );
        if !x0.is_finite() {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\" class=\"empty\">no data</text></svg>",
                W / 2.0 - 30.0,
                H / 2.0
            );
            return o;
        }
        let f = self.frame(x0, x1, y1);
        y_grid(&mut o, &f);
        self.x_ticks(&mut o, &f);
        self.axes(&mut o, &f);
        self.lines(&mut o, &f);
        self.legend(&mut o);
        o.push_str("</svg>");
        o
    }

    /// The smallest and largest finite x and the largest finite y (x0 infinite: no data).
    fn extent(&self) -> (f64, f64, f64) {
        let pts = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
        for (x, y) in pts {
            if x.is_finite() && y.is_finite() {
                x0 = x0.min(*x);
                x1 = x1.max(*x);
                y1 = y1.max(*y);
            }
        }
        (x0, x1, y1)
    }

    /// Seconds start at 0; y starts at 0 and ends on a nice step.
    fn frame(&self, mut x0: f64, mut x1: f64, y1: f64) -> Frame {
        if self.x == XAxis::Seconds {
            x0 = x0.min(0.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let ystep = nice_step(y1.max(1e-9), 5.0);
        Frame {
            x0,
            x1,
            ytop: ((y1 / ystep).ceil() * ystep).max(ystep),
            ystep,
            pw: W - ML - MR,
            ph: H - MT - MB,
        }
    }

    fn x_ticks(&self, o: &mut String, f: &Frame) {
        let (x0, x1) = (f.x0, f.x1);
        let ticks: Vec<(f64, String)> = match self.x {
            XAxis::Seconds => {
                let step = nice_step(x1 - x0, 8.0);
                let mut v = Vec::new();
                let mut t = (x0 / step).ceil() * step;
                while t <= x1 + step * 0.01 {
                    v.push((t, fmt_tick(t)));
                    t += step;
                }
                v
            }
            // Every nine, and halfway in between (50 %, 95 %, 99.5 %, …).
            XAxis::Nines => (0..=(x1.ceil() as i64))
                .flat_map(|n| [n as f64, n as f64 + 2f64.log10()])
                .map(|x| (x, nines_label(x)))
                .filter(|(x, _)| *x >= x0 && *x <= x1 + 1e-9)
                .collect(),
        };
        for (t, label) in &ticks {
            let px = f.sx(*t);
            let _ = write!(
                o,
                "<line x1=\"{px:.1}\" y1=\"{MT}\" x2=\"{px:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{px:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                MT + f.ph,
                MT + f.ph + 16.0,
                escape(label)
            );
        }
    }

    /// The frame and both axis labels.
    fn axes(&self, o: &mut String, f: &Frame) {
        let (pw, ph) = (f.pw, f.ph);
        let _ = write!(
            o,
            "<rect x=\"{ML}\" y=\"{MT}\" width=\"{pw:.1}\" height=\"{ph:.1}\" class=\"frame\"/>"
        );
        let x_label = match self.x {
            XAxis::Seconds => "seconds since start",
            XAxis::Nines => "percentile",
        };
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{x_label}</text>",
            ML + pw / 2.0,
            MT + ph + 32.0
        );
        let _ = write!(
            o,
            "<text x=\"14\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
            MT + ph / 2.0,
            MT + ph / 2.0,
            escape(self.y_label)
        );
    }

    /// One polyline per series, its name as the hover title.
    fn lines(&self, o: &mut String, f: &Frame) {
        for s in &self.series {
            if s.points.is_empty() {
                continue;
            }
            let path: Vec<String> = s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(x, y)| format!("{:.1},{:.1}", f.sx(*x), f.sy(*y)))
                .collect();
            let _ = write!(
                o,
                "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{} points=\"{}\"><title>{}</title></polyline>",
                s.color,
                if s.dashed {
                    " stroke-dasharray=\"5 3\""
                } else {
                    ""
                },
                path.join(" "),
                escape(&s.name)
            );
        }
    }

    /// Legend, under the axis label.
    fn legend(&self, o: &mut String) {
        let mut lx = ML;
        let ly = H - 10.0;
        for s in &self.series {
            let _ = write!(
                o,
                "<line x1=\"{lx:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"2.5\"{}/><text x=\"{:.1}\" y=\"{ly:.1}\" class=\"legend\">{}</text>",
                ly - 4.0,
                lx + 18.0,
                ly - 4.0,
                s.color,
                if s.dashed {
                    " stroke-dasharray=\"5 3\""
                } else {
                    ""
                },
                lx + 22.0,
                escape(&s.name)
            );
            lx += 30.0 + 6.5 * s.name.chars().count() as f64;
        }
    }
}

/// Grid lines and y ticks, one per step from 0 to the top.
fn y_grid(o: &mut String, f: &Frame) {
    let mut y = 0.0;
    while y <= f.ytop + f.ystep * 0.01 {
        let py = f.sy(y);
        let _ = write!(
            o,
            "<line x1=\"{ML}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" class=\"grid\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            ML + f.pw,
            ML - 6.0,
            py + 4.0,
            fmt_tick(y)
        );
        y += f.ystep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 2.0);
        assert_eq!(nice_step(0.3, 5.0), 0.1);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
    }

    #[test]
    fn nines_read_as_percentiles() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(1.0 + 2f64.log10()), "95%");
    }

    #[test]
    fn a_chart_is_an_svg_with_its_series_and_an_empty_one_says_so() {
        let c = Chart {
            id: "c",
            title: "t <1>",
            y_label: "ms",
            x: XAxis::Seconds,
            series: vec![Series {
                name: "p50".into(),
                color: PALETTE[0],
                dashed: false,
                points: vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)],
            }],
        };
        let svg = c.render();
        assert!(svg.starts_with("<svg id=\"c\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("t &lt;1&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        let empty = Chart {
            series: vec![],
            ..c
        }
        .render();
        assert!(empty.contains("no data"));
    }
}
