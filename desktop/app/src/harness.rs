//! The unattended runs, `--screenshot` and `--measure`: when the window is ready
//! for a picture, the frame-time figures, and closing the window afterwards.
//! The app only tells the harness, once per frame, whether anything is still in
//! flight; everything else about these runs is here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use egui::Color32;

use crate::launch::Launch;

/// The screenshot waits this many frames after everything has landed, so the
/// last textures are on screen.
const SCREENSHOT_SETTLE_FRAMES: u32 = 3;
/// Frames measured for the frame-time figure.
const MEASURE_FRAMES: usize = 120;

/// What `--screenshot` and `--measure` report back to `main` once the window
/// has closed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub error: Option<String>,
    pub report: Vec<String>,
}

/// The state of one run: frames counted, times taken, the picture asked for.
pub struct Harness {
    screenshot: Option<PathBuf>,
    measure: bool,
    started: Option<Instant>,
    frames: u32,
    settled_frames: u32,
    screenshot_requested: bool,
    /// `--measure`: time between frames (all of it: input, UI, tessellation,
    /// painting) and time spent building the UI, once the gallery is listed.
    frame_times: Vec<Duration>,
    ui_times: Vec<Duration>,
    measured: bool,
    last_frame: Option<Instant>,
    outcome: Arc<Mutex<Outcome>>,
}

impl Harness {
    pub fn new(launch: &Launch) -> Self {
        Self {
            screenshot: launch.screenshot.clone(),
            measure: launch.measure,
            started: launch.started,
            frames: 0,
            settled_frames: 0,
            screenshot_requested: false,
            frame_times: Vec::new(),
            ui_times: Vec::new(),
            measured: false,
            last_frame: None,
            outcome: Arc::new(Mutex::new(Outcome::default())),
        }
    }

    /// What the run found, readable after the window closed.
    pub fn outcome(&self) -> Arc<Mutex<Outcome>> {
        Arc::clone(&self.outcome)
    }

    /// A screenshot or measuring run: no person at the window.
    pub fn unattended(&self) -> bool {
        self.screenshot.is_some() || self.measure
    }

    /// The measurement wants the whole gallery listed, not only what a person
    /// has scrolled to.
    pub fn wants_whole_gallery(&self) -> bool {
        self.measure
    }

    /// Unattended runs ignore the pointer: under Xvfb it sits mid-screen and
    /// would leave a hover highlight and a tooltip in the picture.
    pub fn filter_input(&self, raw_input: &mut egui::RawInput) {
        if self.unattended() {
            raw_input.events.retain(|event| {
                !matches!(
                    event,
                    egui::Event::PointerMoved(_) | egui::Event::PointerButton { .. }
                )
            });
        }
    }

    /// `--measure`: one settled frame's times; once there are
    /// [`MEASURE_FRAMES`], the figures, and the window closes unless a
    /// screenshot is still to come. `false` while this frame ends the run's work.
    fn measure_frame(
        &mut self,
        ctx: &egui::Context,
        now: Instant,
        ui_time: Duration,
        gallery_items: usize,
    ) -> bool {
        if let Some(last) = self.last_frame {
            self.frame_times.push(now - last);
            self.ui_times.push(ui_time);
        }
        self.last_frame = Some(now);
        if self.frame_times.len() < MEASURE_FRAMES {
            return false;
        }
        self.measured = true;
        let (frame_mean, frame_p95) = mean_and_p95(&self.frame_times);
        let (ui_mean, ui_p95) = mean_and_p95(&self.ui_times);
        self.report(format!("gallery_items={gallery_items}"));
        self.report(format!(
            "frame_ms_mean={frame_mean:.1} frame_ms_p95={frame_p95:.1} (all of a frame, software GL)"
        ));
        self.report(format!(
            "ui_ms_mean={ui_mean:.2} ui_ms_p95={ui_p95:.2} (building the UI)"
        ));
        if self.screenshot.is_none() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return false;
        }
        true
    }

    /// Called at the end of each frame: `ui_time` is what building the UI took,
    /// `settled` whether nothing is in flight any more.
    pub fn after_frame(
        &mut self,
        ctx: &egui::Context,
        ui_time: Duration,
        settled: bool,
        gallery_items: usize,
    ) {
        let now = Instant::now();
        self.frames += 1;
        if self.frames == 1
            && let Some(started) = self.started
        {
            self.report(format!(
                "first_frame_ms={:.0}",
                started.elapsed().as_secs_f64() * 1000.0
            ));
        }
        if !self.unattended() {
            return;
        }
        // Both modes run unattended: keep frames coming.
        ctx.request_repaint();
        if !settled {
            self.settled_frames = 0;
            self.last_frame = None;
            return;
        }
        self.settled_frames += 1;
        if self.measure && !self.measured && !self.measure_frame(ctx, now, ui_time, gallery_items) {
            return;
        }
        if let Some(path) = self.screenshot.clone()
            && self.settled_frames >= SCREENSHOT_SETTLE_FRAMES
            && !self.screenshot_requested
        {
            self.screenshot_requested = true;
            let outcome = Arc::clone(&self.outcome);
            let close = ctx.clone();
            ctx.request_screenshot(move |image| {
                if let Err(err) = save_png(&image, &path) {
                    lock_outcome(&outcome).error = Some(err);
                }
                close.send_viewport_cmd(egui::ViewportCommand::Close);
                close.request_repaint();
            });
        }
    }

    fn report(&self, line: String) {
        lock_outcome(&self.outcome).report.push(line);
    }
}

/// Mean and 95th percentile, in milliseconds.
fn mean_and_p95(times: &[Duration]) -> (f64, f64) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = sorted.iter().map(|&d| ms(d)).sum::<f64>() / sorted.len().max(1) as f64;
    let p95 = sorted.get(sorted.len() * 95 / 100).map_or(0.0, |&d| ms(d));
    (mean, p95)
}

fn lock_outcome(outcome: &Mutex<Outcome>) -> MutexGuard<'_, Outcome> {
    outcome.lock().unwrap_or_else(PoisonError::into_inner)
}

fn save_png(image: &egui::ColorImage, path: &std::path::Path) -> Result<(), String> {
    let [width, height] = image.size;
    let pixels: Vec<u8> = image.pixels.iter().flat_map(Color32::to_array).collect();
    let width = u32::try_from(width).map_err(|err| err.to_string())?;
    let height = u32::try_from(height).map_err(|err| err.to_string())?;
    image::save_buffer(
        path,
        &pixels,
        width,
        height,
        image::ExtendedColorType::Rgba8,
    )
    .map_err(|err| format!("cannot save the screenshot: {err}: {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_p95_of_frame_times() {
        let times: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        let (mean, p95) = mean_and_p95(&times);
        assert!((mean - 10.5).abs() < 1e-9);
        assert!((p95 - 20.0).abs() < 1e-9);
        assert_eq!(mean_and_p95(&[]), (0.0, 0.0));
    }
}
